public import CRMDomain
public import CRMStore
public import Foundation
public import JobQueue
import Logging
public import PostgresClient

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
/// merging, KPIs. The model the other domain services follow.
public final class LeadService: Sendable {
    let pool: PostgresPool
    let access: AccessService
    let customerService: CustomerService
    let vehicleService: VehicleService
    let queue: JobQueue
    let leads = LeadRepository()
    let reports = LeadReportRepository()
    let customers = CustomerRepository()
    let vehicles = VehicleRepository()

    public init(
        pool: PostgresPool, access: AccessService, customers: CustomerService, vehicles: VehicleService, queue: JobQueue
    ) {
        self.pool = pool
        self.access = access
        self.customerService = customers
        self.vehicleService = vehicles
        self.queue = queue
    }

    // MARK: Visibility

    /// A consultant (role `sales`) sees his own leads and the open pool; everyone else with
    /// `leadsRead` sees every lead of the dealers in scope.
    static func scope(_ caller: Principal, tenant: TenantScope) -> LeadScope {
        guard caller.role == .sales else { return LeadScope(tenant: tenant) }
        if let staff = caller.staffID { return LeadScope(tenant: tenant, consultant: staff) }
        return LeadScope(tenant: tenant, poolOnly: true)
    }

    func readScope(_ context: CallContext, dealerFilter: UUID? = nil) async throws -> LeadScope {
        try Authorization.require(.leadsRead, context.principal)
        return Self.scope(context.principal, tenant: try await access.readScope(context.principal, dealerFilter: dealerFilter))
    }

    /// The lead for a change by the caller: visible, and for a consultant his own (a pool lead is
    /// claimed first). Locked in `tx`.
    func lockForWork(_ id: UUID, expectedVersion: Int?, context: CallContext, in tx: PostgresTransaction) async throws -> Lead {
        try Authorization.require(.leadsWrite, context.principal)
        let scope = Self.scope(context.principal, tenant: Scopes.read(context.principal))
        guard let lead = try await leads.lock(id: id, scope: scope, in: tx) else { throw ServiceError.notFound("No such lead.") }
        if context.principal.role == .sales, context.principal.staffID == nil || lead.consultantID != context.principal.staffID {
            throw ServiceError.forbidden("A consultant works his own leads; claim a pool lead first.")
        }
        if let expectedVersion, expectedVersion != lead.version { throw ServiceError.stale(currentVersion: lead.version) }
        return lead
    }

    /// Renders leads with each one's dealer date.
    func views(_ items: [Lead]) async throws -> [LeadView] {
        var todays: [UUID: LocalDate] = [:]
        var result: [LeadView] = []
        result.reserveCapacity(items.count)
        for lead in items {
            let today: LocalDate
            if let known = todays[lead.dealerID] {
                today = known
            } else {
                today = try await dealer(lead.dealerID).today()
                todays[lead.dealerID] = today
            }
            result.append(LeadView(lead: lead, today: today))
        }
        return result
    }

    func view(_ lead: Lead) async throws -> LeadView {
        LeadView(lead: lead, today: try await dealer(lead.dealerID).today())
    }

    private func dealer(_ id: UUID) async throws -> Dealer {
        guard let dealer = try await access.dealerForBootstrap(id) else { throw ServiceError.notFound("No such dealer.") }
        return dealer
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
        try Authorization.require(.leadsWrite, context.principal)
        let caller = context.principal
        let dealer = try await access.writeDealer(caller, requested: dealerID)
        let clean = try fields.validated(today: dealer.today())
        if Set(consents.map(\.channel)).count != consents.count {
            throw ValidationErrors(field: "consents", "names a channel twice")
        }
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
        if let requested = consultant, !(try await leads.isActiveConsultant(requested, dealerID: dealer.id, in: pool)) {
            throw ValidationErrors(field: "consultant_id", "is not an active sales consultant of this dealer")
        }
        try await checkReferrer(clean.referrerCustomerID, dealerID: dealer.id, in: pool)
        do {
            let lead = try await pool.withTransaction { tx -> Lead in
                var reason: AssignmentReason = .created
                if consultant == nil, dealer.fields.settings.leadAssignment == .roundRobin {
                    consultant = try await leads.nextRoundRobinConsultant(dealerID: dealer.id, in: tx)
                    reason = .roundRobin
                }
                let customer = try await clean.phone.asyncMap { try await customers.find(phone: $0, dealerID: dealer.id, in: tx) } ?? nil
                let lead = try await leads.insert(
                    id: UUID(), dealerID: dealer.id, fields: clean, consultantID: consultant, customerID: customer?.id, in: tx)
                if let consultant {
                    try await leads.recordAssignment(
                        dealerID: dealer.id, leadID: lead.id, from: nil, to: consultant, reason: reason, actorKey: caller.keyID,
                        in: tx)
                }
                let now = Date()
                for consent in consents {
                    try await leads.addConsent(
                        leadID: lead.id, dealerID: dealer.id, channel: consent.channel, status: consent.status,
                        source: consent.source, effectiveAt: now, actorKey: caller.keyID, in: tx)
                }
                return lead
            }
            return LeadView(lead: lead, today: dealer.today())
        } catch let error as PostgresError where error.kind == .uniqueViolation && error.constraintName == "leads_open_phone" {
            throw try await duplicatePhone(clean.phone, dealerID: dealer.id)
        }
    }

    /// The referring customer must be one of the dealer's.
    func checkReferrer(_ referrer: UUID?, dealerID: UUID, in db: some PostgresQueryable) async throws {
        if let referrer, try await customers.find(id: referrer, scope: .dealer(dealerID), in: db) == nil {
            throw ValidationErrors(field: "referrer_customer_id", "is not a customer of this dealer")
        }
    }

    /// The 409 for a phone that an open lead already has: names the lead and its consultant.
    func duplicatePhone(_ phone: String?, dealerID: UUID) async throws -> ServiceError {
        let existing = try await phone.asyncMap { try await leads.openLead(phone: $0, dealerID: dealerID, in: pool) } ?? nil
        var details: [String: String] = [:]
        if let consultant = existing?.consultantID { details["existing_consultant_id"] = consultant.uuidString.lowercased() }
        return .conflict(
            existing?.consultantID == nil
                ? "An open lead with this phone number already exists at this dealer (in the shared pool)."
                : "An open lead with this phone number already exists at this dealer, owned by another consultant.",
            existingID: existing?.id, details: details)
    }

    // MARK: Reading

    public func get(_ id: UUID, context: CallContext) async throws -> LeadView {
        let scope = try await readScope(context)
        guard let lead = try await leads.find(id: id, scope: scope, in: pool) else { throw ServiceError.notFound("No such lead.") }
        return try await view(lead)
    }

    public func list(
        filter: LeadRepository.Filter, dealerFilter: UUID?, page: PageRequest, context: CallContext
    ) async throws -> Page<LeadView> {
        let scope = try await readScope(context, dealerFilter: dealerFilter)
        var normalized = filter
        var errors = ValidationErrors()
        normalized.phone = PhoneNumber.normalized(filter.phone, errors: &errors)
        try errors.throwIfAny()
        if normalized.overdue, context.principal.role == .sales {
            // A consultant's overdue list is his own leads (not the pool's).
            guard let staff = context.principal.staffID else { return Page(items: [], nextCursor: nil) }
            normalized.consultantID = staff
        }
        var today: LocalDate?
        if let dealerID = scope.tenant.singleDealer { today = try await dealer(dealerID).today() }
        let page = try await leads.list(scope: scope, filter: normalized, today: today, page: page, in: pool)
        return Page(items: try await views(page.items), nextCursor: page.nextCursor)
    }

    public func followUps(leadID: UUID, page: PageRequest, context: CallContext) async throws -> Page<LeadFollowUp> {
        let lead = try await get(leadID, context: context).lead
        return try await leads.followUps(leadID: lead.id, dealerID: lead.dealerID, page: page, in: pool)
    }

    public func assignments(leadID: UUID, page: PageRequest, context: CallContext) async throws -> Page<LeadAssignment> {
        let lead = try await get(leadID, context: context).lead
        return try await leads.assignments(leadID: lead.id, dealerID: lead.dealerID, page: page, in: pool)
    }

    // MARK: Editing

    /// Replaces the editable fields (the HTTP layer merges the patch first).
    public func update(_ id: UUID, expectedVersion: Int, fields: LeadFields, context: CallContext) async throws -> LeadView {
        do {
            let lead = try await pool.withTransaction { tx -> Lead in
                let current = try await lockForWork(id, expectedVersion: expectedVersion, context: context, in: tx)
                guard current.status.isOpen else {
                    throw ServiceError.conflict("A \(current.status.rawValue) lead cannot be edited.")
                }
                let dealer = try await dealer(current.dealerID)
                let clean = try fields.validated(today: dealer.today())
                try await checkReferrer(clean.referrerCustomerID, dealerID: dealer.id, in: tx)
                let customer = try await clean.phone.asyncMap {
                    try await customers.find(phone: $0, dealerID: dealer.id, in: tx)
                } ?? nil
                return try await leads.update(
                    id: id, expectedVersion: expectedVersion, fields: clean, customerID: customer?.id,
                    scope: LeadScope(tenant: .dealer(dealer.id)), in: tx
                ).unwrap(notFound: "No such lead.")
            }
            return try await view(lead)
        } catch let error as PostgresError where error.kind == .uniqueViolation && error.constraintName == "leads_open_phone" {
            let dealerID = try await get(id, context: context).lead.dealerID
            throw try await duplicatePhone(try fields.validated(today: dealer(dealerID).today()).phone, dealerID: dealerID)
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
        try Authorization.require(.leadsAssign, context.principal)
        let lead = try await pool.withTransaction { tx -> Lead in
            guard let lead = try await leads.lock(id: id, scope: LeadScope(tenant: Scopes.read(context.principal)), in: tx) else {
                throw ServiceError.notFound("No such lead.")
            }
            if let expectedVersion, expectedVersion != lead.version { throw ServiceError.stale(currentVersion: lead.version) }
            guard lead.status.isOpen else { throw ServiceError.conflict("A \(lead.status.rawValue) lead cannot be assigned.") }
            switch target {
            case .consultant(let staff):
                guard try await leads.isActiveConsultant(staff, dealerID: lead.dealerID, in: tx) else {
                    throw ValidationErrors(field: "consultant_id", "is not an active sales consultant of this dealer")
                }
                return try await leads.assign(lead, to: staff, reason: .manual, actorKey: context.principal.keyID, in: tx)
            case .roundRobin:
                guard let next = try await leads.nextRoundRobinConsultant(dealerID: lead.dealerID, in: tx) else {
                    throw ServiceError.conflict("The dealer has no active sales consultant to assign to.")
                }
                return try await leads.assign(lead, to: next, reason: .roundRobin, actorKey: context.principal.keyID, in: tx)
            case .pool:
                return try await leads.assign(lead, to: nil, reason: .released, actorKey: context.principal.keyID, in: tx)
            }
        }
        return try await view(lead)
    }

    /// A consultant takes a lead from the shared pool.
    public func claim(_ id: UUID, context: CallContext) async throws -> LeadView {
        try Authorization.require(.leadsWrite, context.principal)
        guard let staff = context.principal.staffID else {
            throw ServiceError.forbidden("Only a key tied to a sales consultant can claim a lead.")
        }
        let lead = try await pool.withTransaction { tx -> Lead in
            let scope = Self.scope(context.principal, tenant: Scopes.read(context.principal))
            guard let lead = try await leads.lock(id: id, scope: scope, in: tx) else { throw ServiceError.notFound("No such lead.") }
            guard lead.isInPool else {
                throw ServiceError.conflict(
                    lead.consultantID == staff ? "The lead is already yours." : "Only a lead in the shared pool can be claimed.")
            }
            guard try await leads.isActiveConsultant(staff, dealerID: lead.dealerID, in: tx) else {
                throw ServiceError.forbidden("Only an active sales consultant of the lead's dealer can claim it.")
            }
            return try await leads.assign(lead, to: staff, reason: .claimed, actorKey: context.principal.keyID, in: tx)
        }
        return try await view(lead)
    }

    /// The periodic job's work for one dealer: stale assigned leads go back to the pool.
    public func recyclePool(dealerID: UUID) async throws -> [UUID] {
        guard let dealer = try await access.dealerForBootstrap(dealerID) else { return [] }
        return try await pool.withTransaction { tx in
            try await leads.recycleStale(
                dealerID: dealer.id, days: dealer.fields.settings.leadFollowUpDays, timeZone: dealer.fields.timeZone, in: tx)
        }
    }

    // MARK: Follow-ups and status

    public struct FollowUpInput: Sendable {
        public var contactedAt: Date?
        public var channel: FollowUpChannel
        public var result: String
        public var notes: String?
        public var nextContactDate: LocalDate?
        public var nextContactAction: String?

        public init(
            contactedAt: Date?, channel: FollowUpChannel, result: String, notes: String?, nextContactDate: LocalDate?,
            nextContactAction: String?
        ) {
            self.contactedAt = contactedAt
            self.channel = channel
            self.result = result
            self.notes = notes
            self.nextContactDate = nextContactDate
            self.nextContactAction = nextContactAction
        }
    }

    /// Logs a contact; the lead shows it as its last contact and plan, and its status moves up to
    /// what the contact shows (a visit, a test drive).
    public func addFollowUp(_ leadID: UUID, _ input: FollowUpInput, context: CallContext) async throws -> (LeadFollowUp, LeadView) {
        var errors = ValidationErrors()
        let result = Text.required(input.result, field: "result", maxLength: 500, errors: &errors)
        let notes = Text.optional(input.notes, field: "notes", maxLength: 4000, errors: &errors)
        let action = Text.optional(input.nextContactAction, field: "next_contact_action", maxLength: 200, errors: &errors)
        let now = Date()
        let contactedAt = input.contactedAt ?? now
        if contactedAt > now.addingTimeInterval(300) { errors.add("contacted_at", "cannot be in the future") }
        try errors.throwIfAny()
        let (followUp, lead) = try await pool.withTransaction { tx -> (LeadFollowUp, Lead) in
            let lead = try await lockForWork(leadID, expectedVersion: nil, context: context, in: tx)
            guard lead.status.isOpen else {
                throw ServiceError.conflict("A \(lead.status.rawValue) lead takes no more follow-ups.")
            }
            let today = try await dealer(lead.dealerID).today()
            if let next = input.nextContactDate {
                if next < today { throw ValidationErrors(field: "next_contact_date", "cannot be before today (\(today))") }
                // A contact planned years ahead would keep the lead from the pool for good.
                if next > today.adding(months: 12) {
                    throw ValidationErrors(field: "next_contact_date", "must be within 12 months (by \(today.adding(months: 12)))")
                }
            }
            let record = LeadFollowUp(
                id: UUID(), leadID: lead.id, contactedAt: contactedAt, channel: input.channel, result: result ?? "",
                notes: notes, nextContactDate: input.nextContactDate, nextContactAction: action,
                staffID: context.principal.staffID, actorKey: context.principal.keyID, recordedAt: now)
            return try await leads.addFollowUp(
                record, to: lead, newStatus: LeadRules.status(after: input.channel, from: lead.status), in: tx)
        }
        return (followUp, try await view(lead))
    }

    /// Moves a lead forward in the sales process (new -> contacted -> visited / test drive ->
    /// negotiating). Won and lost have their own use cases.
    public func progress(_ id: UUID, to status: LeadStatus, expectedVersion: Int?, context: CallContext) async throws -> LeadView {
        let lead = try await pool.withTransaction { tx -> Lead in
            let lead = try await lockForWork(id, expectedVersion: expectedVersion, context: context, in: tx)
            guard lead.status.allowedProgress.contains(status) else {
                throw Self.illegalTransition(from: lead.status, to: status)
            }
            return try await leads.setStatus(lead, to: status, in: tx)
        }
        return try await view(lead)
    }

    static func illegalTransition(from: LeadStatus, to: LeadStatus) -> ServiceError {
        var allowed = from.allowedProgress.map(\.rawValue)
        if from.canConvert { allowed.append("won (POST /v1/leads/{id}/conversion)") }
        if from.canDeclareLoss { allowed.append("loss_pending (POST /v1/leads/{id}/loss)") }
        let list = allowed.isEmpty ? "none: it is final" : allowed.joined(separator: ", ")
        return .conflict("A \(from.rawValue) lead cannot become \(to.rawValue). Allowed from \(from.rawValue): \(list).",
            details: ["allowed_transitions": allowed.joined(separator: ",")])
    }

    // MARK: Loss

    /// Declares the lead lost, with a reason; a manager approves (lost) or rejects (back to work).
    public func declareLoss(
        _ id: UUID, reason: LossReason, competitor: String?, note: String?, expectedVersion: Int?, context: CallContext
    ) async throws -> LeadView {
        var errors = ValidationErrors()
        let competitor = Text.optional(competitor, field: "competitor", maxLength: 200, errors: &errors)
        let note = Text.optional(note, field: "note", maxLength: 2000, errors: &errors)
        if reason == .boughtCompetitor, competitor == nil { errors.add("competitor", "is required when the prospect bought a competitor's car") }
        if reason == .other, note == nil { errors.add("note", "is required for reason 'other'") }
        try errors.throwIfAny()
        let lead = try await pool.withTransaction { tx -> Lead in
            let lead = try await lockForWork(id, expectedVersion: expectedVersion, context: context, in: tx)
            guard lead.status.canDeclareLoss else { throw Self.illegalTransition(from: lead.status, to: .lossPending) }
            return try await leads.declareLoss(
                lead, reason: reason, competitor: competitor, note: note, actorKey: context.principal.keyID, in: tx)
        }
        return try await view(lead)
    }

    /// A manager's decision on a declared loss.
    public func decideLoss(_ id: UUID, decision: LossDecision, note: String?, expectedVersion: Int?, context: CallContext)
        async throws -> LeadView
    {
        try Authorization.require(.leadsApproveLoss, context.principal)
        var errors = ValidationErrors()
        let note = Text.optional(note, field: "note", maxLength: 2000, errors: &errors)
        try errors.throwIfAny()
        let lead = try await pool.withTransaction { tx -> Lead in
            guard let lead = try await leads.lock(id: id, scope: LeadScope(tenant: Scopes.read(context.principal)), in: tx) else {
                throw ServiceError.notFound("No such lead.")
            }
            if let expectedVersion, expectedVersion != lead.version { throw ServiceError.stale(currentVersion: lead.version) }
            guard lead.status == .lossPending else {
                throw ServiceError.conflict("Only a lead whose loss awaits approval (loss_pending) can be decided; this one is \(lead.status.rawValue).")
            }
            return try await leads.decideLoss(lead, decision: decision, note: note, actorKey: context.principal.keyID, in: tx)
        }
        return try await view(lead)
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
    }

    /// The job kind that prepares a customer's welcome pack at delivery.
    public static let welcomePackKind = "customers.welcome_pack"

    /// Records the sale: the lead is won; the customer is linked (the lead's customer, or the
    /// dealer's customer with its phone) or created from the lead, with the consents given during
    /// the lead; the vehicle and its ownership from the delivery date are created; and the
    /// welcome-pack job is enqueued. One transaction: all of it or none.
    public func convert(_ id: UUID, sale: Sale, expectedVersion: Int?, context: CallContext) async throws -> Conversion {
        try Authorization.require(.customersWrite, context.principal)
        try Authorization.require(.vehiclesWrite, context.principal)
        var errors = ValidationErrors()
        if sale.priceMinor <= 0 { errors.add("price.amount", "must be positive (minor units, e.g. fen)") }
        let currency = sale.currency.uppercased()
        if currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isLetter }) {
            errors.add("price.currency", "must be an ISO 4217 code such as CNY")
        }
        var vehicleFields = sale.vehicle
        vehicleFields.deliveryDate = sale.deliveryDate
        do {
            vehicleFields = try vehicleFields.validated()
        } catch {
            for entry in error.entries { errors.add("vehicle.\(entry.field)", entry.message) }
        }
        try errors.throwIfAny()
        // A customer with the lead's phone created by someone else at the same moment makes the
        // insert fail on customers_phone; the second try finds and links that customer.
        var retriesLeft = 1
        while true {
            do {
                return try await convertOnce(
                    id, sale: sale, vehicleFields: vehicleFields, currency: currency, expectedVersion: expectedVersion,
                    context: context)
            } catch let error as PostgresError
                where error.kind == .uniqueViolation && error.constraintName == "customers_phone" && retriesLeft > 0
            {
                retriesLeft -= 1
            } catch let error as PostgresError where error.kind == .uniqueViolation && error.constraintName == "vehicles_vin" {
                let dealerID = try await get(id, context: context).lead.dealerID
                let existing = try await vehicles.find(vin: vehicleFields.vin, dealerID: dealerID, in: pool)
                throw ServiceError.conflict(
                    "A vehicle with this VIN already exists at this dealer; nothing was recorded.", existingID: existing?.id)
            }
        }
    }

    /// One attempt at the conversion's transaction.
    private func convertOnce(
        _ id: UUID, sale: Sale, vehicleFields: VehicleFields, currency: String, expectedVersion: Int?, context: CallContext
    ) async throws -> Conversion {
        let actor = context.actor
        let result = try await pool.withTransaction { tx -> (Lead, Customer, Vehicle, Int64?, Bool) in
            let lead = try await lockForWork(id, expectedVersion: expectedVersion, context: context, in: tx)
            guard lead.status.canConvert else { throw Self.illegalTransition(from: lead.status, to: .won) }
            let dealer = try await dealer(lead.dealerID)
            var created = false
            var customer: Customer
            if let linked = try await lead.customerID.asyncMap({ try await customers.find(id: $0, scope: .dealer(dealer.id), in: tx) }) ?? nil {
                customer = linked
            } else if let byPhone = try await lead.fields.phone.asyncMap({ try await customers.find(phone: $0, dealerID: dealer.id, in: tx) }) ?? nil {
                customer = byPhone
            } else {
                customer = try await customerService.insert(
                    try Self.customerFields(from: lead).validated(today: dealer.today()), dealerID: dealer.id,
                    consents: [], actor: actor, in: tx)
                created = true
            }
            guard customer.erasedAt == nil else {
                throw ServiceError.conflict("The lead's customer has been erased; record the sale on a new customer.")
            }
            for consent in try await leads.consents(leadID: lead.id, dealerID: dealer.id, in: tx) {
                _ = try await customerService.recordConsent(
                    customer: customer, channel: consent.channel, status: consent.status,
                    effectiveAt: consent.effectiveAt, source: consent.source, note: "given during lead \(lead.id.uuidString.lowercased())",
                    actor: actor, in: tx)
            }
            let vehicle = try await vehicleService.insert(
                vehicleFields, dealerID: dealer.id,
                owner: .init(customerID: customer.id, from: sale.deliveryDate), today: dealer.today(), in: tx)
            let won = try await leads.win(
                lead,
                sale: LeadSale(
                    vehicleID: vehicle.id, customerID: customer.id, priceMinor: sale.priceMinor, currency: currency,
                    deliveryDate: sale.deliveryDate, wonAt: Date()),
                in: tx)
            let job = try await queue.enqueue(
                try JobRequest(
                    kind: Self.welcomePackKind, arguments: WelcomePackArguments(leadID: lead.id), queue: "default",
                    uniqueKey: "welcome_pack:\(dealer.id.uuidString.lowercased()):\(lead.id.uuidString.lowercased())",
                    dealerID: dealer.id),
                in: tx)
            return (won, customer, vehicle, job.id, created)
        }
        return Conversion(
            lead: try await view(result.0), customer: result.1, vehicle: result.2, welcomePackJobID: result.3,
            customerCreated: result.4)
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
        let recorded = try await leads.recordWelcomePack(dealerID: dealerID, leadID: args.leadID, jobID: context.id, in: pool)
        context.logger.info("welcome pack prepared", metadata: ["lead_id": "\(args.leadID)", "new": "\(recorded)"])
        return .completed
    }

    // MARK: Merge

    /// Merges a duplicate lead into another of the same dealer (a manager's call): the
    /// duplicate's history moves over and it is closed as `merged`.
    public func merge(_ survivorID: UUID, duplicateID: UUID, expectedVersion: Int?, context: CallContext) async throws -> LeadView {
        try Authorization.require(.leadsMerge, context.principal)
        guard survivorID != duplicateID else { throw ValidationErrors(field: "duplicate_id", "is the lead itself") }
        let lead = try await pool.withTransaction { tx -> Lead in
            let scope = LeadScope(tenant: Scopes.read(context.principal))
            // Locked in id order, so two opposite merges cannot deadlock.
            let ordered = [survivorID, duplicateID].sorted { $0.uuidString < $1.uuidString }
            var locked: [UUID: Lead] = [:]
            for id in ordered {
                locked[id] = try await leads.lock(id: id, scope: scope, in: tx)
            }
            guard let survivor = locked[survivorID] else { throw ServiceError.notFound("No such lead.") }
            guard let duplicate = locked[duplicateID] else {
                throw ValidationErrors(field: "duplicate_id", "is not a lead you can merge")
            }
            if let expectedVersion, expectedVersion != survivor.version { throw ServiceError.stale(currentVersion: survivor.version) }
            guard survivor.dealerID == duplicate.dealerID else {
                throw ValidationErrors(field: "duplicate_id", "belongs to another dealer")
            }
            guard survivor.status.isOpen, duplicate.status.isOpen else {
                throw ServiceError.conflict("Only two open leads can be merged.")
            }
            guard survivor.status != .lossPending, duplicate.status != .lossPending else {
                throw ServiceError.conflict("A lead's loss awaits a manager's decision; decide it before merging.")
            }
            return try await leads.merge(
                duplicate, into: survivor, status: LeadRules.furthest(survivor.status, duplicate.status), in: tx)
        }
        return try await view(lead)
    }

    // MARK: KPIs

    public struct ReportRow: Sendable {
        public var counts: LeadReportRepository.Row
        public var leadsPerConsultant: Double?
        public var qualifiedRate: Double?
        public var hotShare: Double?
        public var competitorShare: Double?
        public var conversionRate: Double?
    }

    /// Lead KPIs for a period (inclusive dates), grouped by channel, consultant, series or (group
    /// keys) dealer, with a totals row.
    public func report(
        from: LocalDate, to: LocalDate, grouping: LeadReportRepository.Grouping, dealerFilter: UUID?, context: CallContext
    ) async throws -> [ReportRow] {
        try Authorization.require(.leadsReport, context.principal)
        guard from <= to else { throw ValidationErrors(field: "from", "must not be after 'to'") }
        guard from.days(until: to) <= 3 * 366 else { throw ValidationErrors(field: "to", "a report spans at most three years") }
        let scope = try await access.readScope(context.principal, dealerFilter: dealerFilter)
        let rows = try await reports.report(scope: scope, grouping: grouping, from: from, to: to, in: pool)
        func share(_ part: Int, _ whole: Int) -> Double? { whole == 0 ? nil : Double(part) / Double(whole) }
        return rows.map { row in
            ReportRow(
                counts: row, leadsPerConsultant: share(row.total, row.consultants), qualifiedRate: share(row.qualified, row.total),
                hotShare: share(row.hot, row.total), competitorShare: share(row.consideringCompetitor, row.total),
                conversionRate: share(row.newWon, row.new))
        }
    }
}
