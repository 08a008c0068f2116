import Foundation
public import JobQueue
import Logging

/// The leads domain's background work.
public enum LeadJobs {
    /// Returns stale leads to the pool, per dealer.
    public static let recyclePoolKind = "leads.recycle_pool"

    static func kinds(_ leads: LeadService) -> [JobKind] {
        [
            JobKind(name: LeadService.welcomePackKind, timeout: .seconds(60)) { try await leads.prepareWelcomePack($0) },
            JobKind(name: recyclePoolKind, timeout: .seconds(300)) { context in
                guard let dealerID = context.dealerID else { return .cancel(reason: "the job names no dealer") }
                let moved = try await leads.recyclePool(dealerID: dealerID)
                if !moved.isEmpty {
                    context.logger.info("leads returned to the shared pool", metadata: ["count": "\(moved.count)"])
                }
                return .completed
            },
        ]
    }

    /// Every hour on the hour in each dealer's time zone (a fixed 3,600 s interval would fire at
    /// :30 in a +5:30 zone): a lead not followed up within the dealer's `lead_follow_up_days` goes
    /// back to the pool within the hour.
    static func schedules(access: AccessService) -> [PeriodicJob] {
        [
            PeriodicJob(
                name: recyclePoolKind, recurrence: .hourly, maxCatchUp: 1, scopes: { try await access.dealerScopes() },
                makeJob: { _, scope in JobRequest(kind: recyclePoolKind, priority: 3, maxAttempts: 5, dealerID: scope.dealerID) })
        ]
    }
}
