public import CRMDomain

/// Who is calling and which request: every use case takes one, for permissions, tenancy and
/// the audit trail.
public struct CallContext: Sendable {
    public var principal: Principal
    public var requestID: String?

    public init(principal: Principal, requestID: String?) {
        self.principal = principal
        self.requestID = requestID
    }

    public var actor: Actor { Actor(principal: principal, requestID: requestID) }
}
