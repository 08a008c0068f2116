public import CRMDomain
import CRMStore
public import Foundation
import PostgresClient

/// Call tasks: phone reminders for the vehicle's service advisor (or the pool). An advisor
/// (a `service` key tied to a staff member) sees and works his own tasks and the pool's; the
/// others with `callTasksWork` all of the dealer's.
public final class CallTaskService: Sendable {
    let kit: ServiceKit
    let tasks = CallTaskRepository()

    init(_ kit: ServiceKit) { self.kit = kit }

    /// The advisor a caller is limited to, if any.
    static func advisorOnly(_ principal: Principal) -> UUID? {
        principal.role == .service ? (principal.staffID ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))) : nil
    }

    public func list(filter: CallTaskFilter, dealerFilter: UUID?, page: PageRequest, context: CallContext) async throws -> Page<CallTask> {
        try Authorization.require(.remindersRead, context.principal)
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        let now = context.clock.now
        let today = try await kit.access.today(ofSingleDealer: scope.singleDealer, at: now, in: kit.pool)
        return try await tasks.list(
            scope: scope, filter: filter, advisorOnly: Self.advisorOnly(context.principal), today: today, now: now, page: page,
            in: kit.pool)
    }

    public func get(_ id: UUID, context: CallContext) async throws -> CallTask {
        try Authorization.require(.remindersRead, context.principal)
        guard let task = try await tasks.find(id: id, scope: context.principal.readScope, in: kit.pool), Self.visible(task, to: context.principal)
        else { throw ServiceError.notFound("No such call task.") }
        return task
    }

    static func visible(_ task: CallTask, to principal: Principal) -> Bool {
        guard let advisor = advisorOnly(principal) else { return true }
        return task.advisorID == nil || task.advisorID == advisor
    }

    /// Records a call's outcome (an advisor working a pool task takes it).
    public func record(
        _ id: UUID, outcome: CallTaskOutcome, bookedDate: LocalDate?, notes: String?, expectedVersion: Int?, context: CallContext
    ) async throws -> CallTask {
        try await kit.useCases.change(
            .callTasksWork, expectedVersion: expectedVersion, context: context, notFound: "No such call task.",
            lock: { [tasks] scope, tx in
                try await tasks.lock(id: id, scope: scope, in: tx).flatMap { Self.visible($0, to: context.principal) ? $0 : nil }
            }
        ) { current, step in
            var changed = try CallTaskRules.record(outcome, bookedDate: bookedDate, notes: notes, on: current, today: step.today)
            if changed.advisorID == nil, let advisor = Self.advisorOnly(step.principal) { changed.advisorID = advisor }
            return try await tasks.save(changed, now: step.now, in: step.tx)
        }
    }

    /// Gives a task to an advisor (nil: the pool).
    public func assign(_ id: UUID, to advisorID: UUID?, expectedVersion: Int?, context: CallContext) async throws -> CallTask {
        try await kit.useCases.change(
            .callTasksWork, expectedVersion: expectedVersion, context: context, notFound: "No such call task.",
            lock: { [tasks] scope, tx in try await tasks.lock(id: id, scope: scope, in: tx) }
        ) { current, step in
            if Self.advisorOnly(step.principal) != nil { throw ServiceError.forbidden("Advisors do not hand out call tasks.") }
            guard current.status == .open else { throw RuleViolation("The call task is done.") }
            if let advisorID {
                guard let member = try await StaffRepository().find(id: advisorID, scope: .dealer(current.dealerID), in: step.tx),
                    member.fields.active
                else { throw ValidationErrors(field: "advisor_id", "is not an active staff member of this dealer") }
            }
            var changed = current
            changed.advisorID = advisorID
            return try await tasks.save(changed, now: step.now, in: step.tx)
        }
    }
}

extension CallTask: DealerOwned {}
extension ServiceVisit: DealerOwned {}
