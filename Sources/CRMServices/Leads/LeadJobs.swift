import Foundation
public import JobQueue
import Logging

/// The leads domain's background work.
public enum LeadJobs {
    /// Returns stale leads to the pool, per dealer.
    public static let recyclePoolKind = "leads.recycle_pool"
    /// Adds changed leads to the KPI roll-ups, per dealer.
    public static let kpiRollupKind = "leads.kpi_rollup"

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
            JobKind(name: kpiRollupKind, timeout: .seconds(600)) { context in
                guard let dealerID = context.dealerID else { return .cancel(reason: "the job names no dealer") }
                let applied = try await leads.rollUpKPIs(dealerID: dealerID)
                if applied > 0 { context.logger.debug("leads added to the KPI roll-ups", metadata: ["count": "\(applied)"]) }
                return .completed
            },
        ]
    }

    static func schedules(access: AccessService) -> [PeriodicJob] {
        [
            // Every hour on the hour in each dealer's time zone (a fixed 3,600 s interval would
            // fire at :30 in a +5:30 zone): a lead not followed up within the dealer's
            // `lead_follow_up_days` goes back to the pool within the hour.
            PeriodicJob(
                name: recyclePoolKind, recurrence: .hourly, maxCatchUp: 1, scopes: { try await access.dealerScopes() },
                makeJob: { _, scope in JobRequest(kind: recyclePoolKind, priority: 3, maxAttempts: 5, dealerID: scope.dealerID) }),
            // Every five minutes: the report corrects the roll-ups live for the leads changed since
            // the last run, so the shorter the interval, the less it corrects.
            PeriodicJob(
                name: kpiRollupKind, recurrence: .every(.seconds(300)), maxCatchUp: 1, scopes: { try await access.dealerScopes() },
                makeJob: { _, scope in JobRequest(kind: kpiRollupKind, priority: 4, maxAttempts: 5, dealerID: scope.dealerID) }),
        ]
    }
}
