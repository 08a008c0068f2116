import CRMDomain
import CRMStore
import Foundation
public import JobQueue
import Logging
import PostgresClient

extension DomainModule {
    /// Service visits, maintenance schedules and forecasts, the daily reminder scan with its
    /// suppression reasons, call tasks, the return-rate report.
    public static let reminders = DomainModule(
        name: "reminders",
        grants: [
            Grant(.serviceVisitsRead, Set(Role.allCases)),
            Grant(.serviceVisitsWrite, [.admin, .manager, .service, .integration]),
            Grant(.remindersRead, [.admin, .manager, .service, .crm, .readonly, .integration]),
            Grant(.remindersManage, [.admin, .manager]),
            Grant(.callTasksWork, [.admin, .manager, .service, .crm]),
        ],
        jobs: { ReminderJobs.kinds($0.reminders) },
        schedules: { ReminderJobs.schedules(access: $0.access) },
        customer360: { Reminders360Section(kit: $0) },
        erasure: { ReminderErasure(kit: $0) })
}

/// The reminders domain's background work.
public enum ReminderJobs {
    /// Every hour per dealer: the day's scan after the dealer's scan time (once), the send step
    /// after its send time.
    public static let runKind = "reminders.run"

    static func kinds(_ reminders: ReminderService) -> [JobKind] {
        [
            JobKind(name: runKind, timeout: .seconds(600)) { context in
                guard let dealerID = context.dealerID else { return .cancel(reason: "the job names no dealer") }
                if let summary = try await reminders.runIfDue(dealerID: dealerID), summary != ReminderService.RunSummary() {
                    context.logger.info(
                        "reminders run",
                        metadata: [
                            "created": "\(summary.created)", "queued": "\(summary.queued)", "suppressed": "\(summary.suppressed)",
                            "call_tasks": "\(summary.callTasks)", "forecasts": "\(summary.forecastsRefreshed)",
                        ])
                }
                return .completed
            }
        ]
    }

    static func schedules(access: AccessService) -> [PeriodicJob] {
        [
            PeriodicJob(
                name: runKind, recurrence: .hourly, maxCatchUp: 1, scopes: { try await access.dealerScopes() },
                makeJob: { _, scope in JobRequest(kind: runKind, priority: 3, maxAttempts: 5, dealerID: scope.dealerID) })
        ]
    }
}

/// The service section of the customer 360 view: his latest visits and reminders (at most 20
/// each, newest first); left out without `serviceVisitsRead` (visits) or `remindersRead`.
struct Reminders360Section: Customer360SectionProvider {
    let kit: ServiceKit
    let visits = ServiceVisitRepository()
    let reminders = ReminderRepository()

    func section(for customer: Customer, context: CallContext, in transaction: PostgresTransaction) async throws
        -> Customer360Section?
    {
        guard Authorization.allows(context.principal, .serviceVisitsRead) else { return nil }
        let recentVisits = try await visits.recent(customerID: customer.id, dealerID: customer.dealerID, limit: 20, in: transaction)
        let recentReminders =
            Authorization.allows(context.principal, .remindersRead)
            ? try await reminders.recent(customerID: customer.id, dealerID: customer.dealerID, limit: 20, in: transaction) : nil
        return .service(visits: recentVisits, reminders: recentReminders)
    }
}

/// Erasing a customer blanks what his reminders, call tasks and visits say in words (message
/// data, notes); dates, kinds and amounts stay for the reports.
struct ReminderErasure: CustomerErasureStep {
    let kit: ServiceKit
    let reminders = ReminderRepository()

    func erase(customer: Customer, in step: UseCase) async throws {
        try await reminders.scrub(customerID: customer.id, dealerID: customer.dealerID, in: step.tx)
    }
}
