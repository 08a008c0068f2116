public import CRMDomain
public import Foundation

/// Who is calling, which request, and the clock business time comes from: every use case takes
/// one, for permissions, tenancy, the audit trail and "now".
public struct CallContext: Sendable {
    public var principal: Principal
    public var requestID: String?
    public var clock: any BusinessClock
    /// The system's own work (`CallContext.system`): its principal is a placeholder.
    public internal(set) var isSystem = false

    public init(principal: Principal, requestID: String?, clock: any BusinessClock) {
        self.principal = principal
        self.requestID = requestID
        self.clock = clock
    }

    public var actor: Actor { isSystem ? .system : Actor(principal: principal, requestID: requestID) }
}
