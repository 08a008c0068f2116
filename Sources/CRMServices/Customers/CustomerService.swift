public import CRMDomain
public import CRMStore
public import Foundation
public import PostgresClient

/// A section of the customer 360 view that another domain contributes (leads, membership,
/// reminders, complaints...). Each domain implements one in its own folder and registers it;
/// the 360 view never changes for a new section.
public protocol Customer360SectionProvider: Sendable {
    /// The section's key in the view.
    var name: String { get }
    /// The section's content for one customer as `context`'s caller may see it, read inside the
    /// view's snapshot transaction; nil leaves the section out (the caller's role may not read
    /// that domain).
    func section(for customer: Customer, context: CallContext, in transaction: PostgresTransaction) async throws
        -> (any Sendable)?
}

/// The customer 360 view: one consistent snapshot of everything known about a customer.
public struct Customer360: Sendable {
    public var customer: Customer
    public var consents: [ConsentState]
    public var vehicles: [(vehicle: Vehicle, ownership: Ownership, latestReading: OdometerReading?)]
    /// Contributed sections by name.
    public var sections: [String: any Sendable]
}

/// Customers: create, read, search, update with audit, delete, erase, consent, 360 view.
public final class CustomerService: Sendable {
    let pool: PostgresPool
    let access: AccessService
    let customers = CustomerRepository()
    let consents = ConsentRepository()
    let audit = AuditRepository()
    let vehicles = VehicleRepository()
    let sectionProviders: [any Customer360SectionProvider]

    public init(pool: PostgresPool, access: AccessService, sections: [any Customer360SectionProvider] = []) {
        self.pool = pool
        self.access = access
        self.sectionProviders = sections
    }

    /// An initial consent given with the customer's creation.
    public struct InitialConsent: Sendable {
        public var channel: ConsentChannel
        public var status: ConsentStatus
        public var source: ConsentSource

        public init(channel: ConsentChannel, status: ConsentStatus, source: ConsentSource) {
            self.channel = channel
            self.status = status
            self.source = source
        }
    }

    public func create(
        _ fields: CustomerFields, dealerID requested: UUID?, consents initial: [InitialConsent] = [], context: CallContext
    ) async throws -> Customer {
        try Authorization.require(.customersWrite, context.principal)
        let dealer = try await access.writeDealer(context.principal, requested: requested)
        let clean = try fields.validated(today: dealer.today())
        if Set(initial.map(\.channel)).count != initial.count {
            throw ValidationErrors(field: "consents", "names a channel twice")
        }
        do {
            return try await pool.withTransaction { tx in
                try await self.insert(clean, dealerID: dealer.id, consents: initial, actor: context.actor, in: tx)
            }
        } catch let error as PostgresError where error.kind == .uniqueViolation && error.constraintName == "customers_phone" {
            throw try await duplicatePhone(clean.phone, dealerID: dealer.id)
        }
    }

    /// Inserts a validated customer with its initial consents and audit entry, inside the
    /// caller's transaction (the leads service converts a lead with it).
    public func insert(
        _ clean: CustomerFields, dealerID: UUID, consents initial: [InitialConsent], actor: Actor, in tx: PostgresTransaction
    ) async throws -> Customer {
        let customer = try await customers.insert(id: UUID(), dealerID: dealerID, fields: clean, in: tx)
        try await audit.record(
            dealerID: dealerID, customerID: customer.id, entity: "customer", entityID: customer.id, action: .create,
            changes: CustomerFields(kind: clean.kind, name: "").contactChanges(to: clean).map {
                FieldChange(field: $0.field, old: nil, new: $0.new)
            }.filter { $0.new != nil }, actor: actor, in: tx)
        let now = Date()
        for consent in initial {
            try await recordConsent(
                customer: customer, channel: consent.channel, status: consent.status, effectiveAt: now,
                source: consent.source, note: nil, actor: actor, in: tx)
        }
        return customer
    }

    func duplicatePhone(_ phone: String?, dealerID: UUID) async throws -> ServiceError {
        let existing = try await phone.asyncMap { try await customers.find(phone: $0, dealerID: dealerID, in: pool) } ?? nil
        return .conflict("A customer with this phone number already exists at this dealer.", existingID: existing?.id)
    }

    public func get(_ id: UUID, context: CallContext) async throws -> Customer {
        try Authorization.require(.customersRead, context.principal)
        guard let customer = try await customers.find(id: id, scope: Scopes.read(context.principal), in: pool) else {
            throw ServiceError.notFound("No such customer.")
        }
        return customer
    }

    /// Search: exact phone (any spelling of the number), name prefix, plate or VIN of a vehicle
    /// the customer owns now, tag, kind.
    public func list(
        filter: CustomerRepository.Filter, dealerFilter: UUID?, page: PageRequest, context: CallContext
    ) async throws -> Page<Customer> {
        try Authorization.require(.customersRead, context.principal)
        let scope = try await access.readScope(context.principal, dealerFilter: dealerFilter)
        var normalized = filter
        var errors = ValidationErrors()
        normalized.phone = PhoneNumber.normalized(filter.phone, errors: &errors)
        if let vin = filter.vin { normalized.vin = vin.trimmingCharacters(in: .whitespaces).uppercased() }
        if let plate = filter.plate { normalized.plate = plate.uppercased().filter { !" ·.-".contains($0) } }
        if let prefix = filter.namePrefix {
            let trimmed = prefix.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.count > 100 { errors.add("name", "must be 1 to 100 characters") }
            normalized.namePrefix = trimmed
        }
        try errors.throwIfAny()
        return try await customers.list(scope: scope, filter: normalized, page: page, in: pool)
    }

    /// Replaces the writable fields (the HTTP layer applies the merge patch to the current
    /// fields first); contact-field changes go to the audit trail in the same transaction.
    public func update(_ id: UUID, expectedVersion: Int, fields: CustomerFields, context: CallContext) async throws
        -> Customer
    {
        try Authorization.require(.customersWrite, context.principal)
        let scope = Scopes.read(context.principal)
        guard let current = try await customers.find(id: id, scope: scope, in: pool) else {
            throw ServiceError.notFound("No such customer.")
        }
        guard current.version == expectedVersion else { throw ServiceError.stale(currentVersion: current.version) }
        guard current.erasedAt == nil else { throw ServiceError.conflict("The customer has been erased; it cannot be edited.") }
        let dealer = try await access.dealer(current.dealerID, inGroup: context.principal.groupID)
        let clean = try fields.validated(today: dealer?.today() ?? LocalDate(Date(), in: TimeZone(secondsFromGMT: 28800) ?? .gmt))
        do {
            return try await pool.withTransaction { tx in
                let updated = try await customers.update(
                    id: id, expectedVersion: expectedVersion, fields: clean, scope: .dealer(current.dealerID), in: tx
                ).unwrap(notFound: "No such customer.")
                let changes = current.fields.contactChanges(to: updated.fields)
                if !changes.isEmpty {
                    try await audit.record(
                        dealerID: current.dealerID, customerID: id, entity: "customer", entityID: id, action: .update,
                        changes: changes, actor: context.actor, in: tx)
                }
                return updated
            }
        } catch let error as PostgresError where error.kind == .uniqueViolation && error.constraintName == "customers_phone" {
            throw try await duplicatePhone(clean.phone, dealerID: current.dealerID)
        }
    }

    public func delete(_ id: UUID, expectedVersion: Int, context: CallContext) async throws {
        try Authorization.require(.customersDelete, context.principal)
        let scope = Scopes.read(context.principal)
        try await pool.withTransaction { tx in
            let deleted = try await customers.delete(id: id, expectedVersion: expectedVersion, scope: scope, in: tx)
                .unwrap(notFound: "No such customer.")
            try await audit.record(
                dealerID: deleted.dealerID, customerID: id, entity: "customer", entityID: id, action: .delete,
                changes: [], actor: context.actor, in: tx)
        }
    }

    /// Anonymises a customer on request: personal fields wiped, the values in its audit trail
    /// scrubbed, every granted consent withdrawn; vehicles, history and statistics kept; the
    /// erasure itself audited.
    public func erase(_ id: UUID, context: CallContext) async throws -> Customer {
        try Authorization.require(.customersErase, context.principal)
        guard let current = try await customers.find(id: id, scope: Scopes.read(context.principal), in: pool) else {
            throw ServiceError.notFound("No such customer.")
        }
        if current.erasedAt != nil { return current }
        return try await pool.withTransaction { tx in
            let states = try await consents.current(customerID: id, dealerID: current.dealerID, in: tx)
            for state in states where state.status == .granted {
                try await recordConsent(
                    customer: current, channel: state.channel, status: .withdrawn, effectiveAt: Date(),
                    source: .customerRequest, note: "erasure", actor: context.actor, in: tx)
            }
            guard let erased = try await customers.erase(id: id, dealerID: current.dealerID, in: tx) else {
                throw ServiceError.notFound("No such customer.")
            }
            try await audit.scrubValues(customerID: id, dealerID: current.dealerID, in: tx)
            try await audit.record(
                dealerID: current.dealerID, customerID: id, entity: "customer", entityID: id, action: .erase,
                changes: [], actor: context.actor, in: tx)
            return erased
        }
    }

    // MARK: Consent

    public struct ConsentChange: Sendable {
        public var channel: ConsentChannel
        public var status: ConsentStatus
        public var source: ConsentSource
        /// When the customer gave or withdrew it (default: now); not in the future.
        public var effectiveAt: Date?
        public var note: String?

        public init(channel: ConsentChannel, status: ConsentStatus, source: ConsentSource, effectiveAt: Date?, note: String?) {
            self.channel = channel
            self.status = status
            self.source = source
            self.effectiveAt = effectiveAt
            self.note = note
        }
    }

    public func changeConsent(customerID: UUID, _ change: ConsentChange, context: CallContext) async throws -> ConsentEvent {
        try Authorization.require(.consentsWrite, context.principal)
        var errors = ValidationErrors()
        let note = Text.optional(change.note, field: "note", maxLength: 500, errors: &errors)
        let now = Date()
        let effectiveAt = change.effectiveAt ?? now
        if effectiveAt > now.addingTimeInterval(60) { errors.add("effective_at", "cannot be in the future") }
        try errors.throwIfAny()
        guard let customer = try await customers.find(id: customerID, scope: Scopes.read(context.principal), in: pool) else {
            throw ServiceError.notFound("No such customer.")
        }
        if customer.erasedAt != nil, change.status == .granted {
            throw ServiceError.conflict("The customer has been erased; consent cannot be granted.")
        }
        return try await pool.withTransaction { tx in
            try await recordConsent(
                customer: customer, channel: change.channel, status: change.status, effectiveAt: effectiveAt,
                source: change.source, note: note, actor: context.actor, in: tx)
        }
    }

    /// Records a consent change and its audit entry in the caller's transaction.
    /// Records a consent change with its audit entry, inside the caller's transaction (the
    /// leads service carries a lead's consents over at conversion).
    public func recordConsent(
        customer: Customer, channel: ConsentChannel, status: ConsentStatus, effectiveAt: Date, source: ConsentSource,
        note: String?, actor: Actor, in tx: PostgresTransaction
    ) async throws -> ConsentEvent {
        let event = try await consents.record(
            dealerID: customer.dealerID, customerID: customer.id, channel: channel, status: status,
            effectiveAt: effectiveAt, source: source, note: note, actor: actor, in: tx)
        try await audit.record(
            dealerID: customer.dealerID, customerID: customer.id, entity: "consent", entityID: event.id, action: .consent,
            changes: [FieldChange(field: "consent.\(channel.rawValue)", old: nil, new: status.rawValue)], actor: actor, in: tx)
        return event
    }

    public func consents(customerID: UUID, context: CallContext) async throws -> [ConsentState] {
        let customer = try await get(customerID, context: context)
        return try await consents.current(customerID: customer.id, dealerID: customer.dealerID, in: pool)
    }

    public func consentHistory(customerID: UUID, page: PageRequest, context: CallContext) async throws -> Page<ConsentEvent> {
        let customer = try await get(customerID, context: context)
        return try await consents.history(customerID: customer.id, dealerID: customer.dealerID, page: page, in: pool)
    }

    // MARK: Audit and 360

    /// The audit trail of a customer: managers and admins only.
    public func auditTrail(customerID: UUID, page: PageRequest, context: CallContext) async throws -> Page<AuditEvent> {
        try Authorization.require(.auditRead, context.principal)
        // Deleted customers keep their trail: look the id up without the deleted filter.
        let scope = Scopes.read(context.principal)
        guard let dealerID = try await dealerOfCustomer(customerID, scope: scope, includeDeleted: true) else {
            throw ServiceError.notFound("No such customer.")
        }
        return try await audit.events(customerID: customerID, dealerID: dealerID, page: page, in: pool)
    }

    func dealerOfCustomer(_ id: UUID, scope: TenantScope, includeDeleted: Bool) async throws -> UUID? {
        let row = try await pool.queryFirst(
            """
            SELECT dealer_id FROM customers
            WHERE \(fragment: scope.condition()) AND id = \(id) AND (\(includeDeleted) OR deleted_at IS NULL)
            """)
        return try row?.decode(0, as: UUID.self)
    }

    /// The 360 view, read in one snapshot.
    public func view360(_ id: UUID, context: CallContext) async throws -> Customer360 {
        try Authorization.require(.customersRead, context.principal)
        let scope = Scopes.read(context.principal)
        let providers = sectionProviders
        return try await pool.withTransaction(isolation: .repeatableRead, readOnly: true) { tx in
            guard let customer = try await customers.find(id: id, scope: scope, in: tx) else {
                throw ServiceError.notFound("No such customer.")
            }
            let states = try await consents.current(customerID: id, dealerID: customer.dealerID, in: tx)
            let owned = try await vehicles.owned(byCustomer: id, dealerID: customer.dealerID, in: tx)
            var sections: [String: any Sendable] = [:]
            for provider in providers {
                if let section = try await provider.section(for: customer, context: context, in: tx) {
                    sections[provider.name] = section
                }
            }
            return Customer360(
                customer: customer, consents: states,
                vehicles: owned.map { (vehicle: $0.0, ownership: $0.1, latestReading: $0.2) }, sections: sections)
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
