public import CRMDomain
import CRMStore
public import Foundation
public import JobQueue
import Logging
import PostgresClient

/// A lead with the dealer date it is seen from: temperature, qualification and overdue are
/// derived from it, never stored.
public struct LeadView: Sendable {
    public var lead: Lead
    public var today: LocalDate

    public var temperature: LeadTemperature? { LeadRules.temperature(intended: lead.fields.intendedPurchaseDate, today: today) }
    public var missingFields: [QualificationField] { LeadRules.missingFields(lead) }
    public var isOverdue: Bool { LeadRules.isOverdue(lead, today: today) }
}

/// Leads: capture, assignment and the pool, follow-ups, status and loss approval, conversion,
/// merging, KPIs. Each use case runs through `UseCaseRunner`; every decision is a `LeadRules`
/// function; `LeadRepository` stores the result. The model the other domain services follow.
public final class LeadService: Sendable {
    let kit: ServiceKit
    let customerService: CustomerService
    let vehicleService: VehicleService
    /// Schedules the post-delivery satisfaction callbacks (D+1, D+3).
    let callbacks: CallbackService
    let leads = LeadRepository()
    let reports = LeadReportRepository()
    let rollups = LeadKPIRollupRepository()
    let customers = CustomerRepository()
    let staff = StaffRepository()

    init(_ kit: ServiceKit, customers: CustomerService, vehicles: VehicleService, callbacks: CallbackService) {
        self.callbacks = callbacks
        self.kit = kit
        self.customerService = customers
        self.vehicleService = vehicles
    }

    // MARK: Visibility

    func readScope(_ context: CallContext, dealerFilter: UUID? = nil) async throws -> LeadScope {
        try Authorization.require(.leadsRead, context.principal)
        return LeadScope.of(context.principal, tenant: try await kit.access.readScope(context.principal, dealerFilter: dealerFilter))
    }

    /// The lead for a change by the caller, locked: visible to him, and for a consultant his own
    /// (a pool lead is claimed first).
    func lockForWork(_ id: UUID, context: CallContext) -> (TenantScope, PostgresTransaction) async throws -> Lead? {
        { [leads] tenant, tx in
            let scope = LeadScope.of(context.principal, tenant: tenant)
            guard let lead = try await leads.lock(id: id, scope: scope, in: tx) else { return nil }
            guard scope.mayWork(lead) else {
                throw ServiceError.forbidden("A consultant works his own leads; claim a pool lead first.")
            }
            return lead
        }
    }

    /// The lead for a manager's decision, locked (no consultant narrowing).
    func lockForManager(_ id: UUID) -> (TenantScope, PostgresTransaction) async throws -> Lead? {
        { [leads] tenant, tx in try await leads.lock(id: id, scope: LeadScope(tenant: tenant), in: tx) }
    }

    /// Renders leads with each one's dealer date (dealers read outside any transaction).
    func views(_ items: [Lead], now: Date) async throws -> [LeadView] {
        var todays: [UUID: LocalDate] = [:]
        var result: [LeadView] = []
        result.reserveCapacity(items.count)
        for lead in items {
            let today: LocalDate
            if let known = todays[lead.dealerID] {
                today = known
            } else {
                today = try await dealerToday(lead.dealerID, now: now, in: kit.pool)
                todays[lead.dealerID] = today
            }
            result.append(LeadView(lead: lead, today: today))
        }
        return result
    }

    func dealerToday(_ dealerID: UUID, now: Date, in db: some PostgresQueryable) async throws -> LocalDate {
        guard let dealer = try await kit.access.dealer(dealerID, in: db) else { throw ServiceError.notFound("No such dealer.") }
        return dealer.today(at: now)
    }

    /// The 409 for a phone that an open lead already has: names the lead and its consultant.
    static func duplicatePhone(_ duplicate: Duplicate<Lead>) -> ServiceError {
        let existing = duplicate.existing
        var details: [String: String] = [:]
        if let consultant = existing?.consultantID { details["existing_consultant_id"] = consultant.lowercasedText }
        return .conflict(
            existing?.consultantID == nil
                ? "An open lead with this phone number already exists at this dealer (in the shared pool)."
                : "An open lead with this phone number already exists at this dealer, owned by another consultant.",
            existingID: existing?.id, details: details)
    }

    // MARK: Capture

    /// Captures a lead. Its consultant: the one named (a manager's choice), the calling
    /// consultant himself, or, when none is named and the dealer assigns by round robin, the next
    /// active consultant; otherwise it waits in the pool. A phone that is already an open lead's
    /// is a 409 naming that lead and its consultant; a phone that is a customer's links the lead
    /// to the customer (a repeat buyer). Consents given while capturing are kept with the lead and
    /// carried over to the customer at conversion.
    public func create(
        _ fields: LeadFields, consultantID requested: UUID?, consents: [CustomerService.InitialConsent], dealerID: UUID?,
        context: CallContext
    ) async throws -> LeadView {
        let caller = context.principal
        try CustomerService.InitialConsent.check(consents)
        var consultant = requested
        if caller.role == .sales {
            if let requested, requested != caller.staffID {
                throw ServiceError.forbidden("A consultant captures leads for himself; a manager assigns them to others.")
            }
            consultant = caller.staffID
        } else if requested != nil {
            // Naming the consultant is an assignment.
            try Authorization.require(.leadsAssign, caller)
        }
        return try await kit.useCases.create(.leadsWrite, dealer: dealerID, context: context) { step in
            let clean = try fields.validated(today: step.today)
            let dealer = step.dealer
            if let named = consultant, !(try await staff.isActiveConsultant(named, dealerID: dealer.id, in: step.tx)) {
                throw ValidationErrors(field: "consultant_id", "is not an active sales consultant of this dealer")
            }
            try await checkReferrer(clean.referrerCustomerID, dealerID: dealer.id, in: step.tx)
            var reason: AssignmentReason = .created
            if consultant == nil, dealer.fields.settings.leadAssignment == .roundRobin {
                consultant = try await leads.nextRoundRobinConsultant(dealerID: dealer.id, now: step.now, in: step.tx)
                reason = .roundRobin
            }
            let customer = try await clean.phone.asyncMap { try await customers.find(phone: $0, dealerID: dealer.id, in: step.tx) } ?? nil
            let draft = Lead(
                id: UUID(), dealerID: dealer.id, fields: clean, status: .new, consultantID: consultant,
                assignedAt: consultant == nil ? nil : step.now, contact: ContactPlan(), customerID: customer?.id, loss: nil,
                sale: nil, lostAt: nil, mergedInto: nil, createdAt: step.now, updatedAt: step.now, version: 1)
            let lead: Lead
            do {
                lead = try await leads.insert(draft, in: step.tx)
            } catch let duplicate as Duplicate<Lead> {
                throw Self.duplicatePhone(duplicate)
            }
            if let consultant {
                try await leads.recordAssignment(
                    dealerID: dealer.id, leadID: lead.id, from: nil, to: consultant, reason: reason, actorKey: caller.keyID,
                    at: step.now, in: step.tx)
            }
            for consent in consents {
                try await leads.addConsent(
                    leadID: lead.id, dealerID: dealer.id,
                    consent: LeadConsent(channel: consent.channel, status: consent.status, source: consent.source, effectiveAt: step.now),
                    actorKey: caller.keyID, in: step.tx)
            }
            return LeadView(lead: lead, today: step.today)
        }
    }

    /// The referring customer must be one of the dealer's.
    func checkReferrer(_ referrer: UUID?, dealerID: UUID, in tx: PostgresTransaction) async throws {
        if let referrer, try await customers.find(id: referrer, scope: .dealer(dealerID), in: tx) == nil {
            throw ValidationErrors(field: "referrer_customer_id", "is not a customer of this dealer")
        }
    }

    // MARK: Reading

    public func get(_ id: UUID, context: CallContext) async throws -> LeadView {
        let scope = try await readScope(context)
        guard let lead = try await leads.find(id: id, scope: scope, in: kit.pool) else { throw ServiceError.notFound("No such lead.") }
        return LeadView(lead: lead, today: try await dealerToday(lead.dealerID, now: context.clock.now, in: kit.pool))
    }

    public func list(filter: LeadFilter, dealerFilter: UUID?, page: PageRequest, context: CallContext) async throws
        -> Page<LeadView>
    {
        let scope = try await readScope(context, dealerFilter: dealerFilter)
        guard let normalized = try filter.normalized(for: scope) else { return Page(items: [], nextCursor: nil) }
        let now = context.clock.now
        var today: LocalDate?
        if let dealerID = scope.tenant.singleDealer { today = try await dealerToday(dealerID, now: now, in: kit.pool) }
        let page = try await leads.list(scope: scope, filter: normalized, today: today, now: now, page: page, in: kit.pool)
        return Page(items: try await views(page.items, now: now), nextCursor: page.nextCursor)
    }

    public func followUps(leadID: UUID, page: PageRequest, context: CallContext) async throws -> Page<LeadFollowUp> {
        let lead = try await get(leadID, context: context).lead
        return try await leads.followUps(leadID: lead.id, dealerID: lead.dealerID, page: page, in: kit.pool)
    }

    public func assignments(leadID: UUID, page: PageRequest, context: CallContext) async throws -> Page<LeadAssignment> {
        let lead = try await get(leadID, context: context).lead
        return try await leads.assignments(leadID: lead.id, dealerID: lead.dealerID, page: page, in: kit.pool)
    }

    // MARK: Editing

    /// Replaces the editable fields (the HTTP layer merges the patch first).
    public func update(_ id: UUID, expectedVersion: Int, fields: LeadFields, context: CallContext) async throws -> LeadView {
        try await kit.useCases.change(
            .leadsWrite, expectedVersion: expectedVersion, context: context, notFound: "No such lead.",
            lock: lockForWork(id, context: context)
        ) { current, step in
            var changed = try LeadRules.edit(current, to: fields, today: step.today)
            try await checkReferrer(changed.fields.referrerCustomerID, dealerID: current.dealerID, in: step.tx)
            if current.customerID == nil, let phone = changed.fields.phone {
                changed.customerID = try await customers.find(phone: phone, dealerID: current.dealerID, in: step.tx)?.id
            }
            do {
                return LeadView(lead: try await leads.save(changed, now: step.now, in: step.tx), today: step.today)
            } catch let duplicate as Duplicate<Lead> {
                throw Self.duplicatePhone(duplicate)
            }
        }
    }

    // MARK: Assignment and the pool

    public enum AssignmentTarget: Sendable, Equatable {
        case consultant(UUID)
        /// The dealer's next consultant in turn.
        case roundRobin
        /// Back to the shared pool.
        case pool
    }

    /// A manager (or the CRM team) hands the lead to a consultant, to the next in turn, or to
    /// the pool.
    public func assign(_ id: UUID, to target: AssignmentTarget, expectedVersion: Int?, context: CallContext) async throws
        -> LeadView
    {
        try await kit.useCases.change(
            .leadsAssign, expectedVersion: expectedVersion, context: context, notFound: "No such lead.",
            lock: lockForManager(id)
        ) { lead, step in
            _ = try LeadRules.assign(lead, to: nil, now: step.now)
            let consultant: UUID?
            let reason: AssignmentReason
            switch target {
            case .consultant(let staffID):
                guard try await staff.isActiveConsultant(staffID, dealerID: lead.dealerID, in: step.tx) else {
                    throw ValidationErrors(field: "consultant_id", "is not an active sales consultant of this dealer")
                }
                (consultant, reason) = (staffID, .manual)
            case .roundRobin:
                guard let next = try await leads.nextRoundRobinConsultant(dealerID: lead.dealerID, now: step.now, in: step.tx) else {
                    throw RuleViolation("The dealer has no active sales consultant to assign to.")
                }
                (consultant, reason) = (next, .roundRobin)
            case .pool:
                (consultant, reason) = (nil, .released)
            }
            return try await reassign(lead, to: consultant, reason: reason, in: step)
        }
    }

    /// A consultant takes a lead from the shared pool.
    public func claim(_ id: UUID, context: CallContext) async throws -> LeadView {
        guard let staffID = context.principal.staffID else {
            try Authorization.require(.leadsWrite, context.principal)
            throw ServiceError.forbidden("Only a key tied to a sales consultant can claim a lead.")
        }
        return try await kit.useCases.change(
            .leadsWrite, expectedVersion: nil, context: context, notFound: "No such lead.",
            lock: { [leads] tenant, tx in
                try await leads.lock(id: id, scope: LeadScope.of(context.principal, tenant: tenant), in: tx)
            }
        ) { lead, step in
            let claimed = try LeadRules.claim(lead, by: staffID, now: step.now)
            guard try await staff.isActiveConsultant(staffID, dealerID: lead.dealerID, in: step.tx) else {
                throw ServiceError.forbidden("Only an active sales consultant of the lead's dealer can claim it.")
            }
            return try await reassign(lead, to: claimed.consultantID, reason: .claimed, in: step)
        }
    }

    /// Gives the lead to a consultant (nil: the pool) and records why.
    private func reassign(_ lead: Lead, to consultant: UUID?, reason: AssignmentReason, in step: UseCase) async throws -> LeadView {
        let changed = try LeadRules.assign(lead, to: consultant, now: step.now)
        try await leads.recordAssignment(
            dealerID: lead.dealerID, leadID: lead.id, from: lead.consultantID, to: consultant, reason: reason,
            actorKey: step.principal.keyID, at: step.now, in: step.tx)
        return LeadView(lead: try await leads.save(changed, now: step.now, in: step.tx), today: step.today)
    }

    /// The periodic job's work for one dealer: leads nobody followed up in time go back to the
    /// pool (`LeadRules.shouldRecycle`). Returns the leads moved.
    public func recyclePool(dealerID: UUID) async throws -> [UUID] {
        try await kit.useCases.run(dealer: dealerID, context: .system(kit.clock)) { step in
            let days = step.dealer.fields.settings.leadFollowUpDays
            let candidates = try await leads.recycleCandidates(
                dealerID: dealerID, assignedBefore: LeadRules.recycleCandidateBound(now: step.now, days: days), in: step.tx)
            let due = candidates.filter {
                LeadRules.shouldRecycle($0, now: step.now, days: days, timeZone: step.dealer.timeZone)
            }
            try await leads.returnToPool(due, dealerID: dealerID, now: step.now, in: step.tx)
            return due.map(\.id)
        } ?? []
    }

    // MARK: Follow-ups and status

    /// Logs a contact; the lead shows it as its last contact and plan, and its status moves up to
    /// what the contact shows (a visit, a test drive).
    public func addFollowUp(_ leadID: UUID, _ input: LeadRules.FollowUpInput, context: CallContext) async throws
        -> (LeadFollowUp, LeadView)
    {
        try await kit.useCases.change(
            .leadsWrite, expectedVersion: nil, context: context, notFound: "No such lead.",
            lock: lockForWork(leadID, context: context)
        ) { lead, step in
            let (record, changed) = try LeadRules.followUp(
                input, on: lead, id: UUID(), staffID: step.principal.staffID, actorKey: step.principal.keyID, now: step.now,
                today: step.today)
            let stored = try await leads.insertFollowUp(record, dealerID: lead.dealerID, in: step.tx)
            return (stored, LeadView(lead: try await leads.save(changed, now: step.now, in: step.tx), today: step.today))
        }
    }

    /// Moves a lead forward in the sales process (new -> contacted -> visited / test drive ->
    /// negotiating). Won and lost have their own use cases.
    public func progress(_ id: UUID, to status: LeadStatus, expectedVersion: Int?, context: CallContext) async throws -> LeadView {
        try await saving(id, .leadsWrite, expectedVersion: expectedVersion, context: context, lock: lockForWork(id, context: context)) {
            lead, _ in try LeadRules.progress(lead, to: status)
        }
    }

    // MARK: Loss

    /// Declares the lead lost, with a reason; a manager approves (lost) or rejects (back to work).
    public func declareLoss(
        _ id: UUID, _ declaration: LeadRules.LossDeclaration, expectedVersion: Int?, context: CallContext
    ) async throws -> LeadView {
        try await saving(id, .leadsWrite, expectedVersion: expectedVersion, context: context, lock: lockForWork(id, context: context)) {
            lead, step in try LeadRules.declareLoss(declaration, on: lead, actorKey: step.principal.keyID, now: step.now)
        }
    }

    /// A manager's decision on a declared loss.
    public func decideLoss(_ id: UUID, decision: LossDecision, note: String?, expectedVersion: Int?, context: CallContext)
        async throws -> LeadView
    {
        try await saving(id, .leadsApproveLoss, expectedVersion: expectedVersion, context: context, lock: lockForManager(id)) {
            lead, step in try LeadRules.decideLoss(decision, note: note, on: lead, actorKey: step.principal.keyID, now: step.now)
        }
    }

    /// The shape of most lead use cases: lock, apply one rule, save.
    private func saving(
        _ id: UUID, _ permission: Permission, expectedVersion: Int?, context: CallContext,
        lock: (TenantScope, PostgresTransaction) async throws -> Lead?, _ rule: (Lead, UseCase) throws -> Lead
    ) async throws -> LeadView {
        try await kit.useCases.change(
            permission, expectedVersion: expectedVersion, context: context, notFound: "No such lead.", lock: lock
        ) { lead, step in
            LeadView(lead: try await leads.save(try rule(lead, step), now: step.now, in: step.tx), today: step.today)
        }
    }

    // MARK: Conversion

    public struct Sale: Sendable {
        public var vehicle: VehicleFields
        public var priceMinor: Int64
        public var currency: String
        public var deliveryDate: LocalDate

        public init(vehicle: VehicleFields, priceMinor: Int64, currency: String, deliveryDate: LocalDate) {
            self.vehicle = vehicle
            self.priceMinor = priceMinor
            self.currency = currency
            self.deliveryDate = deliveryDate
        }
    }

    public struct Conversion: Sendable {
        public var lead: LeadView
        public var customer: Customer
        public var vehicle: Vehicle
        /// The welcome-pack job enqueued with the sale.
        public var welcomePackJobID: Int64?
        public var customerCreated: Bool
        /// The post-delivery satisfaction callbacks (D+1, D+3).
        public var callbacks: [Callback]
    }

    /// The job kind that prepares a customer's welcome pack at delivery.
    public static let welcomePackKind = "customers.welcome_pack"

    /// Records the sale: the lead is won; the customer is linked (the lead's customer, or the
    /// dealer's customer with its phone) or created from the lead, with the consents given during
    /// the lead; the vehicle and its ownership from the delivery date are created; and the
    /// welcome-pack job and the D+1 and D+3 satisfaction callbacks are scheduled. One
    /// transaction: all of it or none.
    public func convert(_ id: UUID, sale: Sale, expectedVersion: Int?, context: CallContext) async throws -> Conversion {
        try Authorization.require(.customersWrite, context.principal)
        try Authorization.require(.vehiclesWrite, context.principal)
        var errors = ValidationErrors()
        let price = Money.price(amountMinor: sale.priceMinor, currency: sale.currency, field: "price", errors: &errors)
        var vehicleFields = sale.vehicle
        vehicleFields.deliveryDate = sale.deliveryDate
        do {
            vehicleFields = try vehicleFields.validated()
        } catch {
            for entry in error.entries { errors.add("vehicle.\(entry.field)", entry.message) }
        }
        try errors.throwIfAny()
        guard let price else { throw errors }
        let clean = vehicleFields
        return try await kit.useCases.change(
            .leadsWrite, expectedVersion: expectedVersion, context: context, notFound: "No such lead.",
            lock: lockForWork(id, context: context)
        ) { lead, step in
            try LeadRules.checkConvertible(lead)
            let (customer, created) = try await buyer(of: lead, in: step)
            guard customer.erasedAt == nil else {
                throw RuleViolation("The lead's customer has been erased; record the sale on a new customer.")
            }
            for consent in try await leads.consents(leadID: lead.id, dealerID: lead.dealerID, in: step.tx) {
                _ = try await customerService.recordConsent(
                    customer: customer, channel: consent.channel, status: consent.status, effectiveAt: consent.effectiveAt,
                    source: consent.source, note: "given during lead \(lead.id.lowercasedText)", in: step)
            }
            let vehicle: Vehicle
            do {
                vehicle = try await vehicleService.insert(
                    clean, owner: .init(customerID: customer.id, from: sale.deliveryDate), in: step)
            } catch let duplicate as Duplicate<Vehicle> {
                throw VehicleService.duplicateVIN(duplicate, "A vehicle with this VIN already exists at this dealer; nothing was recorded.")
            }
            let won = try LeadRules.win(
                lead,
                sale: LeadSale(vehicleID: vehicle.id, customerID: customer.id, price: price, deliveryDate: sale.deliveryDate, wonAt: step.now))
            let saved = try await leads.save(won, now: step.now, in: step.tx)
            let deliveryCallbacks = try await callbacks.scheduleAfterDelivery(
                leadID: lead.id, customerID: customer.id, consultantID: lead.consultantID, deliveryDate: sale.deliveryDate, in: step)
            let job = try await step.enqueue(
                try JobRequest(
                    kind: Self.welcomePackKind, arguments: WelcomePackArguments(leadID: lead.id), queue: "default",
                    uniqueKey: "welcome_pack:\(lead.dealerID.lowercasedText):\(lead.id.lowercasedText)",
                    dealerID: lead.dealerID))
            return Conversion(
                lead: LeadView(lead: saved, today: step.today), customer: customer, vehicle: vehicle, welcomePackJobID: job.id,
                customerCreated: created, callbacks: deliveryCallbacks)
        }
    }

    /// The customer a won lead's car is sold to: the lead's customer, else the dealer's customer
    /// with the lead's phone (also one created by someone else a moment ago), else a new one made
    /// from the lead. True when it was created here.
    private func buyer(of lead: Lead, in step: UseCase) async throws -> (Customer, Bool) {
        if let linked = try await lead.customerID.asyncMap({ try await customers.find(id: $0, scope: .dealer(lead.dealerID), in: step.tx) }) ?? nil {
            return (linked, false)
        }
        if let byPhone = try await lead.fields.phone.asyncMap({ try await customers.find(phone: $0, dealerID: lead.dealerID, in: step.tx) }) ?? nil {
            return (byPhone, false)
        }
        do {
            return (try await customerService.insert(try Self.customerFields(from: lead).validated(today: step.today), consents: [], in: step), true)
        } catch let duplicate as Duplicate<Customer> {
            guard let existing = duplicate.existing else { throw ServiceError.conflict(CustomerService.duplicatePhone) }
            return (existing, false)
        }
    }

    /// The customer a lead becomes.
    static func customerFields(from lead: Lead) -> CustomerFields {
        let f = lead.fields
        let isCompany = f.party == .company
        let personName = f.name ?? f.surname.map { "\($0)先生/女士" } ?? f.phone ?? "(unknown)"
        return CustomerFields(
            kind: isCompany ? .company : .person, name: isCompany ? (f.companyName ?? personName) : personName,
            surname: isCompany ? nil : f.surname, gender: isCompany ? nil : f.gender, phone: f.phone,
            preferredBrands: f.interestBrand.map { [$0] } ?? [], tags: f.tags)
    }

    struct WelcomePackArguments: Codable {
        var leadID: UUID
        enum CodingKeys: String, CodingKey { case leadID = "lead_id" }
    }

    /// The welcome-pack job: records the pack for the won lead (once). The letter, questionnaire
    /// and club information themselves are a later issue.
    public func prepareWelcomePack(_ context: JobContext) async throws -> JobOutcome {
        let args = try context.arguments(WelcomePackArguments.self)
        guard let dealerID = context.dealerID else { return .cancel(reason: "the job names no dealer") }
        let recorded = try await leads.recordWelcomePack(
            dealerID: dealerID, leadID: args.leadID, jobID: context.id, now: kit.clock.now, in: kit.pool)
        context.logger.info("welcome pack prepared", metadata: ["lead_id": "\(args.leadID)", "new": "\(recorded)"])
        return .completed
    }

    // MARK: Merge

    /// Merges a duplicate lead into another of the same dealer (a manager's call): the
    /// duplicate's history moves over and it is closed as `merged` (`LeadRules.merge`).
    public func merge(_ survivorID: UUID, duplicateID: UUID, expectedVersion: Int?, context: CallContext) async throws -> LeadView {
        guard survivorID != duplicateID else {
            try Authorization.require(.leadsMerge, context.principal)
            throw ValidationErrors(field: "duplicate_id", "is the lead itself")
        }
        return try await kit.useCases.change(
            .leadsMerge, expectedVersion: expectedVersion, context: context, notFound: "No such lead.",
            lock: { [leads] tenant, tx in
                // Both locked, in id order, so two opposite merges cannot deadlock.
                try await leads.lock(ids: [survivorID, duplicateID], scope: LeadScope(tenant: tenant), in: tx)
                    .first { $0.id == survivorID }
            }
        ) { survivor, step in
            guard let duplicate = try await leads.find(id: duplicateID, scope: LeadScope(tenant: step.principal.readScope), in: step.tx)
            else { throw ValidationErrors(field: "duplicate_id", "is not a lead you can merge") }
            let merged = try LeadRules.merge(duplicate, into: survivor)
            // The duplicate closes first: its phone leaves the open leads before the survivor takes it.
            _ = try await leads.save(merged.duplicate, now: step.now, in: step.tx)
            try await leads.moveHistory(from: duplicate.id, to: survivor.id, dealerID: survivor.dealerID, in: step.tx)
            return LeadView(lead: try await leads.save(merged.survivor, now: step.now, in: step.tx), today: step.today)
        }
    }

    // MARK: KPIs

    public struct Report: Sendable {
        /// The groups, then `totals`.
        public var rows: [LeadReportRates.Row]
        public var totals: LeadReportRates.Row
        /// Competitor models the period's prospect base considers: over all series (series nil)
        /// and per series of interest, with each one's share of its base.
        public var competitors: [LeadReportRates.Competitor]
    }

    /// Lead KPIs for a period (inclusive dates), grouped by channel, consultant, series or (group
    /// keys) dealer, with a totals row.
    public func report(
        from: LocalDate, to: LocalDate, grouping: LeadReportGrouping, dealerFilter: UUID?, context: CallContext
    ) async throws -> Report {
        try Authorization.require(.leadsReport, context.principal)
        guard from <= to else { throw ValidationErrors(field: "from", "must not be after 'to'") }
        guard from.days(until: to) <= 3 * 366 else { throw ValidationErrors(field: "to", "a report spans at most three years") }
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        let now = context.clock.now
        // One statement, in a transaction only for `SET LOCAL jit = off`.
        let report = try await kit.pool.withTransaction(readOnly: true) { tx in
            try await rollups.prepareReport(in: tx)
            return try await rollups.report(scope: scope, grouping: grouping, from: from, to: to, now: now, in: tx)
        }
        let counts = report.counts
        guard let totals = counts.first(where: \.isTotal) else { throw ServiceError.unavailable("The report returned no totals row.", retryAfter: 1) }
        return Report(
            rows: LeadReportRates.rows(counts.filter { !$0.isTotal }, totals: totals),
            totals: LeadReportRates.rows([totals], totals: totals)[0],
            competitors: LeadReportRates.competitors(
                report.competitors.counts, seriesBase: report.competitors.seriesBase, totalBase: report.competitors.totalBase))
    }

    /// Adds the dealer's changed leads to the KPI roll-ups, `batch` leads per transaction, until
    /// none is left (the `leads.kpi_rollup` job). Returns how many were applied.
    public func rollUpKPIs(dealerID: UUID, batch: Int = 20_000) async throws -> Int {
        var total = 0
        var after: UUID?
        while true {
            let now = kit.clock.now
            let (applied, last) = try await kit.pool.withTransaction { [after] tx in
                try await rollups.applyChanged(dealerID: dealerID, now: now, limit: batch, after: after, in: tx)
            }
            total += applied
            after = last
            if applied < batch { break }
        }
        if total >= plannerStatisticsBurst { try await rollups.refreshStatistics(in: kit.pool) }
        return total
    }
}
