public import Foundation

/// What a use case reports when it cannot do what was asked. The HTTP layer maps each case to
/// one status; `ValidationErrors` (from CRMDomain) is the 422 case.
public enum ServiceError: Error, Sendable, Equatable {
    /// 401: no key, unknown key, revoked or expired key.
    case unauthenticated(String)
    /// 403: the role may not do this.
    case forbidden(String)
    /// 404: not there, or not visible to the caller (never says which).
    case notFound(String)
    /// 409: a duplicate or a state that does not allow the change; `existingID` names the
    /// record in the way, when there is one; `details` become extra members of the problem
    /// (`existing_consultant_id`, `allowed_transitions`).
    case conflict(String, existingID: UUID? = nil, details: [String: String] = [:])
    /// 412: `If-Match` names an older version.
    case stale(currentVersion: Int?)
    /// 428: a write that needs `If-Match` came without it.
    case preconditionRequired(String)
}
