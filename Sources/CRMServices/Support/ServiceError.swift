import CRMDomain
public import Foundation
import PostgresClient

/// What a use case reports when it cannot do what was asked. The HTTP layer maps each case to
/// one status; `ValidationErrors` (422) and `RuleViolation` (409) come from CRMDomain.
public enum ServiceError: Error, Sendable, Equatable {
    /// 401: no key, unknown key, revoked or expired key.
    case unauthenticated(String)
    /// 403: the role may not do this.
    case forbidden(String)
    /// 404: not there, or not visible to the caller (never says which).
    case notFound(String)
    /// 409: a duplicate or a state that does not allow the change; `existingID` names the
    /// record in the way, when there is one; `details` carry the other members the contract's
    /// problem declares (`existing_consultant_id`).
    case conflict(String, existingID: UUID? = nil, details: [String: String] = [:])
    /// 412: `If-Match` names an older version.
    case stale(currentVersion: Int?)
    /// 428: a write that needs `If-Match` came without it.
    case preconditionRequired(String)
    /// 503: the database is unreachable, overloaded or too slow; retry after `retryAfter`
    /// seconds. Never a fault of the request.
    case unavailable(String, retryAfter: Int)
}

extension ServiceError {
    /// What an error from below the services means to a caller, when it means something other
    /// than a fault: the database being away, busy or slow is `unavailable`; a deadlock or a
    /// serialization failure is worth a retry; a lock held elsewhere is a conflict; a value the
    /// database cannot store (a NUL character, a number out of range) is invalid input. Nil for
    /// everything else (a bug: a 500). The message never carries the database's own text.
    public static func classify(_ error: any Error) -> (any Error)? {
        if error.isDatabaseUnavailable {
            return ServiceError.unavailable("The database is unavailable; retry shortly.", retryAfter: 1)
        }
        guard let error = error as? PostgresError else { return nil }
        switch error.kind {
        case .queryCanceled: return ServiceError.unavailable("The database took too long to answer; retry shortly.", retryAfter: 1)
        case .serializationFailure, .deadlock: return ServiceError.unavailable("A concurrent update got in the way; retry.", retryAfter: 1)
        case .lockNotAvailable: return ServiceError.conflict("The resource is being changed by another request; retry.")
        case .invalidData: return ValidationErrors(field: "", "a value cannot be stored (out of range or not valid text)")
        default: return nil
        }
    }
}
