public import CRMDomain
import CRMStore
public import Foundation
import Logging
import PostgresClient

/// A complaint with the instant it is seen at: its clocks' time left is relative to it.
public struct ComplaintView: Sendable {
    public var complaint: Complaint
    public var now: Date

    public var acknowledge: ComplaintRules.ClockView { ComplaintRules.acknowledgeView(complaint, now: now) }
    public var resolve: ComplaintRules.ClockView { ComplaintRules.resolveView(complaint, now: now) }
}

/// Complaints: intake, the workflow and its timeline, owners, resolution and closing, the SLA
/// escalation scan, KPIs. Each change runs through `UseCaseRunner`; `ComplaintRules` decides.
public final class ComplaintService: Sendable {
    let kit: ServiceKit
    let callbacks: CallbackService
    let complaints = ComplaintRepository()
    let reports = ComplaintReportRepository()
    let customers = CustomerRepository()
    let vehicles = VehicleRepository()
    let leads = LeadRepository()
    let visits = ServiceVisitRepository()
    let staff = StaffRepository()

    init(_ kit: ServiceKit, callbacks: CallbackService) {
        self.kit = kit
        self.callbacks = callbacks
    }

    static func time(_ dealer: Dealer) -> ComplaintRules.DealerTime {
        ComplaintRules.DealerTime(calendar: dealer.fields.settings.complaints.calendar, zone: dealer.timeZone)
    }

    func lock(_ id: UUID) -> (TenantScope, PostgresTransaction) async throws -> Complaint? {
        { [complaints] scope, tx in try await complaints.lock(id: id, scope: scope, in: tx) }
    }

    /// A timeline entry of the use case's caller, now.
    static func entry(
        _ kind: ComplaintEventKind, _ complaint: Complaint, from: ComplaintStatus? = nil, to: ComplaintStatus? = nil, note: String? = nil,
        details: [String: String] = [:], in step: UseCase
    ) -> ComplaintEvent {
        ComplaintEvent(
            id: UUID(), complaintID: complaint.id, kind: kind, fromStatus: from, toStatus: to, note: note, details: details,
            actor: step.actor, at: step.now)
    }

    // MARK: Intake

    /// Takes a complaint in: for one of the dealer's customers, optionally about one of his
    /// vehicles, a service visit or a lead; its clocks start now with its severity's SLA.
    public func create(_ fields: ComplaintFields, ownerID: UUID?, note: String?, dealerID: UUID?, context: CallContext) async throws
        -> ComplaintView
    {
        try await kit.useCases.create(.complaintsWrite, dealer: dealerID, context: context) { step in
            let dealer = step.dealer
            try await checkLinks(fields, dealerID: dealer.id, in: step.tx)
            if let ownerID { try await checkOwner(ownerID, dealerID: dealer.id, in: step.tx) }
            var errors = ValidationErrors()
            let cleanNote = Text.optional(note, field: "note", maxLength: 2000, errors: &errors)
            try errors.throwIfAny()
            let number = try await complaints.nextNumber(dealerID: dealer.id, year: step.today.year, in: step.tx)
            let opened = try ComplaintRules.open(
                fields, id: UUID(), dealerID: dealer.id, number: number, ownerID: ownerID,
                policy: dealer.fields.settings.complaints, time: Self.time(dealer), now: step.now)
            let stored = try await complaints.insert(opened, in: step.tx)
            var events = [Self.entry(.created, stored, to: .new, note: cleanNote, details: ["severity": stored.fields.severity.rawValue], in: step)]
            if let ownerID { events.append(Self.entry(.assigned, stored, details: ["owner_id": ownerID.lowercasedText], in: step)) }
            try await complaints.record(events, dealerID: dealer.id, onceKeys: events.map { _ in nil }, in: step.tx)
            return ComplaintView(complaint: stored, now: step.now)
        }
    }

    /// The customer must be the dealer's; the vehicle, visit and lead too (the vehicle his).
    func checkLinks(_ fields: ComplaintFields, dealerID: UUID, in tx: PostgresTransaction) async throws {
        var errors = ValidationErrors()
        if try await customers.find(id: fields.customerID, scope: .dealer(dealerID), in: tx) == nil {
            errors.add("customer_id", "is not a customer of this dealer")
        }
        if let vehicle = fields.vehicleID, try await vehicles.find(id: vehicle, scope: .dealer(dealerID), in: tx) == nil {
            errors.add("vehicle_id", "is not a vehicle of this dealer")
        }
        if let lead = fields.leadID, try await leads.find(id: lead, scope: LeadScope(tenant: .dealer(dealerID)), in: tx) == nil {
            errors.add("lead_id", "is not a lead of this dealer")
        }
        if let visit = fields.serviceVisitID, try await visits.find(id: visit, scope: .dealer(dealerID), in: tx) == nil {
            errors.add("service_visit_id", "is not a service visit of this dealer")
        }
        try errors.throwIfAny()
    }

    func checkOwner(_ ownerID: UUID, dealerID: UUID, in tx: PostgresTransaction) async throws {
        guard let member = try await staff.find(id: ownerID, scope: .dealer(dealerID), in: tx), member.fields.active else {
            throw ValidationErrors(field: "owner_id", "is not an active staff member of this dealer")
        }
    }

    // MARK: Reading

    public func get(_ id: UUID, context: CallContext) async throws -> ComplaintView {
        try Authorization.require(.complaintsRead, context.principal)
        guard let complaint = try await complaints.find(id: id, scope: context.principal.readScope, in: kit.pool) else {
            throw ServiceError.notFound("No such complaint.")
        }
        return ComplaintView(complaint: complaint, now: context.clock.now)
    }

    public func list(filter: ComplaintFilter, dealerFilter: UUID?, page: PageRequest, context: CallContext) async throws
        -> Page<ComplaintView>
    {
        try Authorization.require(.complaintsRead, context.principal)
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        let now = context.clock.now
        return try await complaints.list(scope: scope, filter: filter, now: now, page: page, in: kit.pool).map {
            ComplaintView(complaint: $0, now: now)
        }
    }

    public func timeline(_ id: UUID, page: PageRequest, context: CallContext) async throws -> Page<ComplaintEvent> {
        let complaint = try await get(id, context: context).complaint
        return try await complaints.timeline(complaintID: complaint.id, dealerID: complaint.dealerID, page: page, in: kit.pool)
    }

    // MARK: Changes

    /// Edits what the complaint is about while it is open (the severity only before it is
    /// acknowledged: its clocks restart from the intake with the new SLA).
    public func update(_ id: UUID, expectedVersion: Int, fields: ComplaintFields, context: CallContext) async throws -> ComplaintView {
        try await kit.useCases.change(
            .complaintsWrite, expectedVersion: expectedVersion, context: context, notFound: "No such complaint.", lock: lock(id)
        ) { current, step in
            try await checkLinks(fields, dealerID: current.dealerID, in: step.tx)
            let changed = try ComplaintRules.edit(current, to: fields, policy: step.dealer.fields.settings.complaints, time: Self.time(step.dealer))
            let saved = try await complaints.save(changed, now: step.now, in: step.tx)
            try await complaints.record([Self.entry(.edited, saved, in: step)], dealerID: saved.dealerID, onceKeys: [nil], in: step.tx)
            return ComplaintView(complaint: saved, now: step.now)
        }
    }

    /// A move of the workflow (acknowledge, investigate, wait on the customer, close, reopen).
    public func move(_ id: UUID, to status: ComplaintStatus, note: String?, expectedVersion: Int?, context: CallContext) async throws
        -> ComplaintView
    {
        // Closing and reopening are a manager's call; the rest is the team's work.
        let permission: Permission = status == .closed ? .complaintsClose : .complaintsWrite
        return try await kit.useCases.change(
            permission, expectedVersion: expectedVersion, context: context, notFound: "No such complaint.", lock: lock(id)
        ) { current, step in
            if !current.status.isOpen, status == .investigating { try Authorization.require(.complaintsClose, step.principal) }
            var errors = ValidationErrors()
            let cleanNote = Text.optional(note, field: "note", maxLength: 2000, errors: &errors)
            try errors.throwIfAny()
            var callbackDone = false
            if status == .closed {
                callbackDone = try await callbacks.latest(for: current, in: step.tx)?.status.isDone ?? false
            }
            let (changed, kind) = try ComplaintRules.move(
                current, to: status, callbackDone: callbackDone, time: Self.time(step.dealer), now: step.now)
            let saved = try await complaints.save(changed, now: step.now, in: step.tx)
            var details: [String: String] = [:]
            if kind == .reopened { details["reopen_count"] = String(saved.reopenCount) }
            try await complaints.record(
                [Self.entry(kind, saved, from: current.status, to: status, note: cleanNote, details: details, in: step)],
                dealerID: saved.dealerID, onceKeys: [nil], in: step.tx)
            return ComplaintView(complaint: saved, now: step.now)
        }
    }

    /// Resolves the complaint with its root cause and remedy; its satisfaction callback is
    /// scheduled (due the dealer's callback working days after today), and closing will need it.
    public func resolve(_ id: UUID, resolution: ComplaintResolution, expectedVersion: Int?, context: CallContext) async throws
        -> ComplaintView
    {
        try await kit.useCases.change(
            .complaintsResolve, expectedVersion: expectedVersion, context: context, notFound: "No such complaint.", lock: lock(id)
        ) { current, step in
            let resolved = try ComplaintRules.resolve(current, with: resolution, time: Self.time(step.dealer), now: step.now)
            let saved = try await complaints.save(resolved, now: step.now, in: step.tx)
            let callback = try await callbacks.scheduleAfterResolution(of: saved, in: step)
            try await complaints.record(
                [
                    Self.entry(
                        .resolved, saved, from: current.status, to: .resolved, note: resolution.note,
                        details: ["remedy": resolution.remedy.rawValue, "customer_accepted": String(resolution.customerAccepted)],
                        in: step),
                    Self.entry(
                        .callbackScheduled, saved,
                        details: ["callback_id": callback.id.lowercasedText, "due_date": callback.dueDate.description],
                        in: step),
                ], dealerID: saved.dealerID, onceKeys: [nil, nil], in: step.tx)
            return ComplaintView(complaint: saved, now: step.now)
        }
    }

    /// Gives the complaint to a staff member (nil: nobody).
    public func assign(_ id: UUID, to ownerID: UUID?, expectedVersion: Int?, context: CallContext) async throws -> ComplaintView {
        try await kit.useCases.change(
            .complaintsWrite, expectedVersion: expectedVersion, context: context, notFound: "No such complaint.", lock: lock(id)
        ) { current, step in
            if let ownerID { try await checkOwner(ownerID, dealerID: current.dealerID, in: step.tx) }
            var changed = current
            changed.ownerID = ownerID
            let saved = try await complaints.save(changed, now: step.now, in: step.tx)
            try await complaints.record(
                [Self.entry(.assigned, saved, details: ownerID.map { ["owner_id": $0.lowercasedText] } ?? [:], in: step)],
                dealerID: saved.dealerID, onceKeys: [nil], in: step.tx)
            return ComplaintView(complaint: saved, now: step.now)
        }
    }

    /// What can be written on the timeline by hand.
    public enum Note: String, Sendable, CaseIterable {
        case comment
        case call
        /// The customer answered: a clock waiting on him runs again.
        case customerReply = "customer_reply"
    }

    /// A comment, a call or the customer's reply on the timeline. A reply to a complaint waiting
    /// on the customer moves it back to investigating (its resolve clock runs again).
    public func note(_ id: UUID, kind: Note, text: String, context: CallContext) async throws -> (ComplaintEvent, ComplaintView) {
        var errors = ValidationErrors()
        let clean = Text.required(text, field: "note", maxLength: 4000, errors: &errors)
        try errors.throwIfAny()
        return try await kit.useCases.change(
            .complaintsWrite, expectedVersion: nil, context: context, notFound: "No such complaint.", lock: lock(id)
        ) { current, step in
            var complaint = current
            var events: [ComplaintEvent] = []
            let eventKind: ComplaintEventKind = switch kind {
            case .comment: .comment
            case .call: .call
            case .customerReply: .customerReply
            }
            let written = Self.entry(eventKind, current, note: clean, in: step)
            events.append(written)
            if kind == .customerReply, current.status == .waitingOnCustomer {
                complaint = try ComplaintRules.move(current, to: .investigating, callbackDone: false, time: Self.time(step.dealer), now: step.now).complaint
                events.append(Self.entry(.statusChanged, complaint, from: current.status, to: .investigating, in: step))
            }
            if complaint != current { complaint = try await complaints.save(complaint, now: step.now, in: step.tx) }
            try await complaints.record(events, dealerID: current.dealerID, onceKeys: events.map { _ in nil }, in: step.tx)
            return (written, ComplaintView(complaint: complaint, now: step.now))
        }
    }

    // MARK: The escalation scan

    /// The periodic scan over every dealer: complaints with an SLA event due get it raised once
    /// (a warning at 80% of a deadline, a breach when it passes, each breach one escalation
    /// level up), on their timeline; rows another worker holds are skipped. Returns the events raised.
    public func escalate(batch: Int = 500) async throws -> Int {
        let now = kit.clock.now
        var raised = 0
        while true {
            let (scanned, events) = try await kit.pool.withTransaction { tx -> (Int, Int) in
                let due = try await complaints.due(now: now, limit: batch, in: tx)
                var changed: [Complaint] = []
                var written: [UUID: (events: [ComplaintEvent], keys: [String?])] = [:]
                for complaint in due {
                    guard let dealer = try await kit.access.dealer(complaint.dealerID, in: tx) else { continue }
                    let (updated, happened) = ComplaintRules.slaEvents(complaint, time: Self.time(dealer), now: now)
                    changed.append(updated)
                    for event in happened {
                        let details = [
                            "clock": event.clock.rawValue, "due_at": event.dueAt.formatted(Date.ISO8601FormatStyle()), "ordinal": String(event.ordinal),
                        ]
                        var entries = [
                            ComplaintEvent(
                                id: UUID(), complaintID: complaint.id, kind: event.breach ? .slaBreach : .slaWarning, details: details,
                                actor: .system, at: now)
                        ]
                        var keys: [String?] = [event.key]
                        if let level = event.escalatedTo {
                            entries.append(
                                ComplaintEvent(
                                    id: UUID(), complaintID: complaint.id, kind: .escalated, details: ["level": level.name],
                                    actor: .system, at: now))
                            keys.append(event.key + ".escalated")
                        }
                        written[complaint.dealerID, default: ([], [])].events += entries
                        written[complaint.dealerID, default: ([], [])].keys += keys
                    }
                }
                try await complaints.saveScanned(changed, now: now, in: tx)
                var count = 0
                for (dealerID, batch) in written {
                    try await complaints.record(batch.events, dealerID: dealerID, onceKeys: batch.keys, in: tx)
                    count += batch.events.count
                }
                return (due.count, count)
            }
            raised += events
            if scanned < batch { return raised }
        }
    }

    // MARK: KPIs

    public struct Report: Sendable {
        public var rows: [ComplaintReportCounts]
        public var totals: ComplaintReportCounts
    }

    public func report(from: LocalDate, to: LocalDate, grouping: ComplaintReportGrouping, dealerFilter: UUID?, context: CallContext)
        async throws -> Report
    {
        try Authorization.require(.complaintsRead, context.principal)
        guard from <= to else { throw ValidationErrors(field: "from", "must not be after 'to'") }
        guard from.days(until: to) <= 3 * 366 else { throw ValidationErrors(field: "to", "a report spans at most three years") }
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        let rows = try await reports.report(scope: scope, grouping: grouping, from: from, to: to, now: context.clock.now, in: kit.pool)
        guard let totals = rows.first(where: \.isTotal) else {
            throw ServiceError.unavailable("The report returned no totals row.", retryAfter: 1)
        }
        return Report(rows: rows.filter { !$0.isTotal }, totals: totals)
    }
}

/// Erasing a customer blanks the words of his complaints and callbacks (descriptions, notes,
/// survey comments); their facts, scores and timelines' shape stay for the KPIs.
struct ComplaintErasure: CustomerErasureStep {
    let kit: ServiceKit
    let complaints = ComplaintRepository()
    let callbacks = CallbackRepository()

    func erase(customer: Customer, in step: UseCase) async throws {
        try await complaints.scrub(customerID: customer.id, dealerID: customer.dealerID, in: step.tx)
        try await callbacks.scrub(customerID: customer.id, dealerID: customer.dealerID, in: step.tx)
    }
}

/// "May this customer receive marketing now, and if not, why?": the one place that answers
/// (`MarketingRules.customerReasons`): erased, a complaint of his awaiting handling (DOMAIN.md,
/// BMW's Basic 11 item 4), opted out or without consent on any channel the dealer uses. The
/// reminder scan decides each reminder with the same rule over the same facts read in bulk.
public struct MarketingSuppression: Sendable {
    let kit: ServiceKit
    let reminders = ReminderRepository()
    let customers = CustomerRepository()

    /// The reasons he may not receive marketing now (none: he may).
    func reasons(customerID: UUID, dealer: Dealer, in db: some PostgresQueryable) async throws -> [SuppressionReason] {
        guard let facts = try await reminders.customerFacts(customerID: customerID, dealerID: dealer.id, in: db) else { return [] }
        return MarketingRules.customerReasons(facts, channels: dealer.fields.settings.reminders.channelOrder)
    }

    /// The same for a caller of the API.
    public func reasons(customerID: UUID, context: CallContext) async throws -> [SuppressionReason] {
        try Authorization.require(.customersRead, context.principal)
        guard let customer = try await customers.find(id: customerID, scope: context.principal.readScope, in: kit.pool),
            let dealer = try await kit.access.dealer(customer.dealerID, in: kit.pool)
        else {
            throw ServiceError.notFound("No such customer.")
        }
        return try await reasons(customerID: customer.id, dealer: dealer, in: kit.pool)
    }
}
