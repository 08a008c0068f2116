public import CRMDomain
import CRMStore
public import Foundation
import Logging
import PostgresClient

/// A vehicle's forecast as the endpoint explains it.
public struct ForecastView: Sendable {
    public var vehicleID: UUID
    public var forecast: ServiceForecast
    public var schedule: MaintenanceSchedule
    public var today: LocalDate
}

/// Service reminders: the forecasts, the daily scan that creates reminders with their
/// suppression reasons, the send step that re-checks them and queues messages and call tasks,
/// the list and the return-rate report.
public final class ReminderService: Sendable {
    let kit: ServiceKit
    let reminders = ReminderRepository()
    let forecasts = ForecastRepository()
    let visits = ServiceVisitRepository()
    let vehicles = VehicleRepository()
    let callTasks = CallTaskRepository()
    let reports = ReminderReportRepository()
    let access = AccessRepository()
    let logger: Logger

    init(_ kit: ServiceKit, logger: Logger) {
        self.kit = kit
        self.logger = logger
    }

    // MARK: Forecasts

    static func compute(_ input: ForecastInput, schedules: [MaintenanceSchedule], policy: ReminderPolicy, today: LocalDate)
        -> (ServiceForecast, MaintenanceSchedule)
    {
        let schedule = MaintenanceSchedule.applying(to: input.brand, series: input.series, among: schedules, dealerID: input.dealerID)
        let forecast = ServiceForecasting.forecast(
            readings: input.readings, delivery: input.deliveryDate, lastMaintenance: input.lastMaintenance, schedule: schedule,
            defaultKmPerDay: policy.defaultKmPerDay, today: today)
        return (forecast, schedule)
    }

    /// `GET /v1/vehicles/{id}/service-forecast`: computed now from the vehicle's readings and visits.
    public func forecast(vehicleID: UUID, context: CallContext) async throws -> ForecastView {
        try Authorization.require(.remindersRead, context.principal)
        return try await kit.pool.withTransaction { tx in
            guard let vehicle = try await vehicles.find(id: vehicleID, scope: context.principal.readScope, in: tx),
                let dealer = try await kit.access.dealer(vehicle.dealerID, in: tx),
                let input = try await forecasts.inputs(vehicleIDs: [vehicle.id], dealerID: vehicle.dealerID, in: tx).first
            else { throw ServiceError.notFound("No such vehicle.") }
            let today = dealer.today(at: context.clock.now)
            let schedules = try await visits.schedules(scope: .dealer(dealer.id), in: tx)
            let (forecast, schedule) = Self.compute(input, schedules: schedules, policy: dealer.fields.settings.reminders, today: today)
            return ForecastView(vehicleID: vehicle.id, forecast: forecast, schedule: schedule, today: today)
        }
    }

    /// Recomputes the stored forecasts of the dealer's queued vehicles (every vehicle after a
    /// schedule or settings change), `batch` at a time, each batch in its own transaction.
    /// Returns how many were recomputed.
    @discardableResult
    public func refreshForecasts(dealerID: UUID, batch: Int = 2_000) async throws -> Int {
        var total = 0
        while true {
            let done = try await kit.useCases.run(dealer: dealerID, context: .system(kit.clock)) { step -> Int in
                let policy = step.dealer.fields.settings.reminders
                if try await reminders.settingsChanged(dealerID: dealerID, settingsVersion: step.dealer.updatedAt, in: step.tx) {
                    try await forecasts.queueAll(dealerID: dealerID, in: step.tx)
                }
                let ids = try await forecasts.takeQueued(dealerID: dealerID, limit: batch, in: step.tx)
                guard !ids.isEmpty else { return 0 }
                let schedules = try await visits.schedules(scope: .dealer(dealerID), in: step.tx)
                let inputs = try await forecasts.inputs(vehicleIDs: ids, dealerID: dealerID, in: step.tx)
                let stored = inputs.map { input in
                    let (forecast, _) = Self.compute(input, schedules: schedules, policy: policy, today: step.today)
                    let lastSeen = input.lastVisitOn ?? input.deliveryDate
                    return StoredForecast(
                        vehicleID: input.vehicleID, forecast: forecast, lastVisitOn: input.lastVisitOn, lastAdvisorID: input.lastAdvisorID,
                        dormantOn: lastSeen.map { ReminderRules.dormantDue(lastSeen: $0, policy: policy) })
                }
                try await forecasts.save(stored, dealerID: dealerID, now: step.now, in: step.tx)
                let gone = Set(ids).subtracting(inputs.map(\.vehicleID))
                try await forecasts.delete(vehicleIDs: Array(gone), dealerID: dealerID, in: step.tx)
                return ids.count
            } ?? 0
            total += done
            if done < batch { break }
        }
        if total >= plannerStatisticsBurst { try await forecasts.refreshStatistics(in: kit.pool) }
        return total
    }

    // MARK: The daily scan

    /// The windows a scan on `today` looks at.
    static func windows(today: LocalDate, policy: ReminderPolicy) -> ScanWindows {
        var due: [ReminderKind: ClosedRange<LocalDate>] = [:]
        for kind in ReminderKind.allCases where kind != .birthday {
            // Due dates whose send date has come and whose grace is not over.
            due[kind] = today.adding(days: -ReminderRules.graceDays(kind))...today.adding(days: policy.leadDays(kind))
        }
        let followUp =
            policy.followUpDays > 0
            ? today.adding(days: -policy.followUpDays - 14)...today.adding(days: -policy.followUpDays) : nil
        var birthdays: [(code: Int, due: LocalDate)] = []
        for offset in 0...policy.leadDays(.birthday) {
            let day = today.adding(days: offset)
            birthdays.append((day.month * 100 + day.day, day))
            // 29 February's birthday falls on 28 February in a year without it.
            if day.month == 2, day.day == 28, !LocalDate.isLeapYear(day.year) { birthdays.append((229, day)) }
        }
        return ScanWindows(today: today, due: due, followUp: followUp, birthdays: birthdays)
    }

    /// What a scan or a send did.
    public struct RunSummary: Sendable, Equatable {
        public var forecastsRefreshed = 0
        public var candidates = 0
        public var created = 0
        public var expired = 0
        public var queued = 0
        public var callTasks = 0
        public var suppressed = 0
        public var heldBack = 0
    }

    /// The scan of one dealer's day: recompute stale forecasts, then create every reminder that
    /// falls due (one set-based read of the candidates with their facts; `ReminderRules.decide`
    /// for each; one insert), pending, suppressed with its reason, or held back. Reruns and
    /// concurrent scans add nothing twice.
    public func scan(dealerID: UUID) async throws -> RunSummary {
        var summary = RunSummary()
        summary.forecastsRefreshed = try await refreshForecasts(dealerID: dealerID)
        let outcome = try await kit.useCases.run(dealer: dealerID, context: .system(kit.clock)) { step -> RunSummary in
            var result = RunSummary()
            let policy = step.dealer.fields.settings.reminders
            let rows = try await reminders.candidates(
                dealerID: dealerID, windows: Self.windows(today: step.today, policy: policy), now: step.now, in: step.tx)
            result.candidates = rows.count
            var added: [UUID: Int] = [:]
            var created: [Reminder] = []
            for row in rows {
                var candidate = Self.candidate(row, today: step.today)
                if candidate.kind.isMarketing { candidate.facts.recentMarketing += added[row.customerID, default: 0] }
                let decision = ReminderRules.decide(candidate, policy: policy)
                if decision.status == .pending, candidate.kind.isMarketing { added[row.customerID, default: 0] += 1 }
                if decision.status == .suppressed { result.suppressed += 1 }
                if decision.status == .heldBack { result.heldBack += 1 }
                created.append(
                    Reminder(
                        id: UUID(), dealerID: dealerID, customerID: row.customerID, vehicleID: row.vehicleID, kind: row.kind,
                        dueDate: row.dueDate, touch: row.touch,
                        sendDate: ReminderRules.sendDate(row.kind, due: row.dueDate, touch: row.touch, policy: policy),
                        channel: decision.channel, status: decision.status, reason: decision.reason, data: candidate.data,
                        advisorID: row.advisorID, callTaskID: nil, respondedVisitID: nil, queuedAt: nil, createdAt: step.now,
                        updatedAt: step.now))
            }
            for chunk in stride(from: 0, to: created.count, by: 5_000) {
                result.created += try await reminders.insert(Array(created[chunk..<min(chunk + 5_000, created.count)]), in: step.tx)
            }
            _ = try await reminders.startScan(dealerID: dealerID, date: step.today, now: step.now, in: step.tx)
            try await reminders.finishScan(
                dealerID: dealerID, date: step.today, candidates: result.candidates, created: result.created, now: step.now,
                in: step.tx)
            return result
        }
        if let outcome, outcome.created >= plannerStatisticsBurst { try await reminders.refreshStatistics(in: kit.pool) }
        if let outcome {
            summary.candidates = outcome.candidates
            summary.created = outcome.created
            summary.suppressed = outcome.suppressed
            summary.heldBack = outcome.heldBack
        }
        return summary
    }

    /// A candidate of the scan or the send, with the data its message needs.
    static func candidate(_ row: ReminderFactsRow, today: LocalDate) -> ReminderCandidate {
        var data: [String: String] = ["due_date": row.dueDate.description]
        if let name = row.customerName { data["customer_name"] = name }
        if let plate = row.plate { data["plate"] = plate }
        if let brand = row.brand { data["brand"] = brand }
        if let series = row.series { data["series"] = series }
        var lastReading: ServiceForecast.Reading?
        if let on = row.lastReadingOn, let km = row.lastReadingKm { lastReading = ServiceForecast.Reading(readOn: on, km: km) }
        if let kmPerDay = row.kmPerDay,
            let today = ServiceForecasting.projected(at: today, from: lastReading, delivery: row.deliveryDate, kmPerDay: kmPerDay)
        {
            data["forecast_km"] = String(today)
            if row.kind.isServiceDue, let due = row.dueKm { data["due_km"] = String(due) }
            if row.kind == .dormantRecall, let since = row.lastVisitOn ?? row.deliveryDate,
                let then = ServiceForecasting.projected(at: since, from: lastReading, delivery: row.deliveryDate, kmPerDay: kmPerDay)
            {
                data["km_since_last_visit"] = String(max(0, today - then))
                data["last_seen"] = since.description
            }
        }
        return ReminderCandidate(
            customerID: row.customerID, vehicleID: row.vehicleID, kind: row.kind, dueDate: row.dueDate, touch: row.touch,
            facts: row.facts, advisorID: row.advisorID, data: data)
    }

    // MARK: Sending

    /// The send step of one dealer: pending reminders past their time expire; those whose send
    /// date has come are decided again on fresh facts (a complaint opened since, a visit, a
    /// withdrawn consent, the frequency cap) and queued for their channel (a phone reminder
    /// becomes a call task for the vehicle's advisor, or the pool) or suppressed with the reason.
    public func dispatch(dealerID: UUID, batch: Int = 2_000) async throws -> RunSummary {
        var summary = RunSummary()
        while true {
            let round = try await kit.useCases.run(dealer: dealerID, context: .system(kit.clock)) { step -> (RunSummary, Int) in
                var result = RunSummary()
                let policy = step.dealer.fields.settings.reminders
                result.expired = try await reminders.expire(dealerID: dealerID, before: step.today.adding(days: -14), in: step.tx)
                let rows = try await reminders.due(dealerID: dealerID, today: step.today, now: step.now, limit: batch, in: step.tx)
                var added: [UUID: Int] = [:]
                var decisions: [ReminderRepository.Sent] = []
                var tasks: [CallTask] = []
                for row in rows {
                    guard let reminderID = row.reminderID else { continue }
                    var candidate = Self.candidate(row, today: step.today)
                    if candidate.kind.isMarketing { candidate.facts.recentMarketing += added[row.customerID, default: 0] }
                    let decision = ReminderRules.decide(candidate, policy: policy)
                    switch decision.status {
                    case .heldBack:
                        decisions.append(.init(reminderID: reminderID, status: .heldBack, channel: decision.channel, reason: nil, callTaskID: nil))
                    case .pending:
                        if candidate.kind.isMarketing { added[row.customerID, default: 0] += 1 }
                        var taskID: UUID?
                        if decision.channel == .phone {
                            let task = CallTask(
                                id: UUID(), dealerID: dealerID, reminderID: reminderID, customerID: row.customerID,
                                vehicleID: row.vehicleID, kind: row.kind, advisorID: row.advisorID, dueDate: step.today, status: .open,
                                outcome: nil, bookedDate: nil, attempts: 0, notes: nil, visitID: nil, createdAt: step.now,
                                updatedAt: step.now, version: 1)
                            tasks.append(task)
                            taskID = task.id
                        }
                        decisions.append(.init(reminderID: reminderID, status: .queued, channel: decision.channel, reason: nil, callTaskID: taskID))
                        result.queued += 1
                    default:
                        decisions.append(
                            .init(reminderID: reminderID, status: .suppressed, channel: nil, reason: decision.reason, callTaskID: nil))
                        result.suppressed += 1
                    }
                }
                try await reminders.record(decisions, dealerID: dealerID, now: step.now, in: step.tx)
                try await callTasks.insert(tasks, in: step.tx)
                result.callTasks = tasks.count
                return (result, rows.count)
            }
            guard let (result, seen) = round else { return summary }
            summary.expired += result.expired
            summary.queued += result.queued
            summary.suppressed += result.suppressed
            summary.callTasks += result.callTasks
            if seen < batch { return summary }
        }
    }

    /// The periodic run of one dealer (every hour): after its scan time the day's scan (once),
    /// after its send time the send step.
    public func runIfDue(dealerID: UUID) async throws -> RunSummary? {
        guard let dealer = try await kit.access.dealer(dealerID, in: kit.pool) else { return nil }
        let now = kit.clock.now
        let policy = dealer.fields.settings.reminders
        let local = Calendar(identifier: .gregorian).dateComponents(in: dealer.timeZone, from: now)
        let minute = (local.hour ?? 0) * 60 + (local.minute ?? 0)
        var summary = RunSummary()
        if minute >= policy.scanMinute,
            try await !reminders.scanFinished(dealerID: dealerID, date: dealer.today(at: now), in: kit.pool)
        {
            summary = try await scan(dealerID: dealerID)
        }
        if minute >= policy.sendMinute {
            let sent = try await dispatch(dealerID: dealerID)
            summary.expired = sent.expired
            summary.queued = sent.queued
            summary.callTasks = sent.callTasks
            summary.suppressed += sent.suppressed
        }
        return summary
    }

    /// `POST /v1/reminders/scan`: the scan and the send step now, for the caller's dealer.
    public func runNow(dealerID requested: UUID?, context: CallContext) async throws -> RunSummary {
        try Authorization.require(.remindersManage, context.principal)
        let dealer = try await kit.access.writeDealer(context.principal, requested: requested, in: kit.pool)
        var summary = try await scan(dealerID: dealer.id)
        let sent = try await dispatch(dealerID: dealer.id)
        summary.expired = sent.expired
        summary.queued = sent.queued
        summary.callTasks = sent.callTasks
        summary.suppressed += sent.suppressed
        return summary
    }

    // MARK: Reading

    public func get(_ id: UUID, context: CallContext) async throws -> Reminder {
        try Authorization.require(.remindersRead, context.principal)
        guard let reminder = try await reminders.find(id: id, scope: context.principal.readScope, in: kit.pool) else {
            throw ServiceError.notFound("No such reminder.")
        }
        return reminder
    }

    public func list(filter: ReminderFilter, dealerFilter: UUID?, page: PageRequest, context: CallContext) async throws -> Page<Reminder> {
        try Authorization.require(.remindersRead, context.principal)
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        return try await reminders.list(scope: scope, filter: filter, page: page, in: kit.pool)
    }

    public struct Report: Sendable {
        public var rows: [ReminderReportCounts]
        public var totals: ReminderReportCounts
    }

    /// The return-rate report over the first touches due within the period.
    public func report(from: LocalDate, to: LocalDate, grouping: ReminderReportGrouping, dealerFilter: UUID?, context: CallContext)
        async throws -> Report
    {
        try Authorization.require(.remindersRead, context.principal)
        guard from <= to else { throw ValidationErrors(field: "from", "must not be after 'to'") }
        guard from.days(until: to) <= 3 * 366 else { throw ValidationErrors(field: "to", "a report spans at most three years") }
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        let dealers = try await access.dealers(visibleTo: scope, page: PageRequest(limit: 100_000, cursor: nil), in: kit.pool).items
        let rows = try await reports.report(
            windows: dealers.map { ($0.id, $0.fields.settings.reminders.returnWindowDays) }, grouping: grouping, from: from, to: to,
            in: kit.pool)
        guard let totals = rows.first(where: \.isTotal) else {
            throw ServiceError.unavailable("The report returned no totals row.", retryAfter: 1)
        }
        return Report(rows: rows.filter { !$0.isTotal }, totals: totals)
    }
}
