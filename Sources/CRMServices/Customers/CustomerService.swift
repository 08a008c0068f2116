public import CRMDomain
import CRMStore
public import Foundation
import PostgresClient

/// Customers: create, read, search, update with audit, delete, erase, consent.
public final class CustomerService: Sendable {
    let kit: ServiceKit
    let customers = CustomerRepository()
    let consents = ConsentRepository()
    let audit = AuditRepository()

    /// What the other domains wipe when a customer is erased.
    let erasures: [any CustomerErasureStep]

    init(_ kit: ServiceKit, erasures: [any CustomerErasureStep] = []) {
        self.kit = kit
        self.erasures = erasures
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

        /// Each channel at most once.
        static func check(_ consents: [InitialConsent]) throws {
            if Set(consents.map(\.channel)).count != consents.count {
                throw ValidationErrors(field: "consents", "names a channel twice")
            }
        }
    }

    static let duplicatePhone = "A customer with this phone number already exists at this dealer."

    public func create(
        _ fields: CustomerFields, dealerID requested: UUID?, consents initial: [InitialConsent] = [], context: CallContext
    ) async throws -> Customer {
        try InitialConsent.check(initial)
        return try await kit.useCases.create(.customersWrite, dealer: requested, context: context) { step in
            do {
                return try await insert(try fields.validated(today: step.today), consents: initial, in: step)
            } catch let duplicate as Duplicate<Customer> {
                throw ServiceError.conflict(Self.duplicatePhone, existingID: duplicate.existing?.id)
            }
        }
    }

    /// Inserts a validated customer with its initial consents and audit entry, inside a use case
    /// of this module (the leads service's conversion goes through `CustomerService` too).
    func insert(_ clean: CustomerFields, consents initial: [InitialConsent], in step: UseCase) async throws -> Customer {
        let customer = try await customers.insert(id: UUID(), dealerID: step.dealer.id, fields: clean, now: step.now, in: step.tx)
        try await step.record(
            .create, entity: "customer", id: customer.id, customerID: customer.id,
            changes: CustomerFields(kind: clean.kind, name: "").contactChanges(to: clean).map {
                FieldChange(field: $0.field, old: nil, new: $0.new)
            }.filter { $0.new != nil })
        for consent in initial {
            _ = try await recordConsent(
                customer: customer, channel: consent.channel, status: consent.status, effectiveAt: step.now,
                source: consent.source, note: nil, in: step)
        }
        return customer
    }

    public func get(_ id: UUID, context: CallContext) async throws -> Customer {
        try Authorization.require(.customersRead, context.principal)
        guard let customer = try await customers.find(id: id, scope: context.principal.readScope, in: kit.pool) else {
            throw ServiceError.notFound("No such customer.")
        }
        return customer
    }

    /// Search: exact phone (any spelling of the number), name prefix, plate or VIN of a vehicle
    /// the customer owns now, tag, kind.
    public func list(
        filter: CustomerFilter, dealerFilter: UUID?, page: PageRequest, context: CallContext
    ) async throws -> Page<Customer> {
        try Authorization.require(.customersRead, context.principal)
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        return try await customers.list(scope: scope, filter: try filter.normalized(), page: page, in: kit.pool)
    }

    /// Replaces the writable fields (the HTTP layer applies the merge patch to the current
    /// fields first); contact-field changes go to the audit trail in the same transaction.
    public func update(_ id: UUID, expectedVersion: Int, fields: CustomerFields, context: CallContext) async throws
        -> Customer
    {
        try await kit.useCases.change(
            .customersWrite, expectedVersion: expectedVersion, context: context, notFound: "No such customer.",
            lock: { scope, tx in try await customers.lock(id: id, scope: scope, in: tx) }
        ) { current, step in
            guard current.erasedAt == nil else { throw RuleViolation("The customer has been erased; it cannot be edited.") }
            var changed = current
            changed.fields = try fields.validated(today: step.today)
            let saved: Customer
            do {
                saved = try await customers.save(changed, now: step.now, in: step.tx)
            } catch let duplicate as Duplicate<Customer> {
                throw ServiceError.conflict(Self.duplicatePhone, existingID: duplicate.existing?.id)
            }
            let changes = current.fields.contactChanges(to: saved.fields)
            if !changes.isEmpty {
                try await step.record(.update, entity: "customer", id: id, customerID: id, changes: changes)
            }
            return saved
        }
    }

    public func delete(_ id: UUID, expectedVersion: Int, context: CallContext) async throws {
        try await kit.useCases.change(
            .customersDelete, expectedVersion: expectedVersion, context: context, notFound: "No such customer.",
            lock: { scope, tx in try await customers.lock(id: id, scope: scope, in: tx) }
        ) { current, step in
            _ = try await customers.delete(current, now: step.now, in: step.tx)
            try await step.record(.delete, entity: "customer", id: id, customerID: id)
        }
    }

    /// Anonymises a customer on request: personal fields wiped, the values in its audit trail
    /// scrubbed, every granted consent withdrawn; vehicles, history and statistics kept; the
    /// erasure itself audited. Erasing an erased customer changes nothing.
    public func erase(_ id: UUID, context: CallContext) async throws -> Customer {
        try await kit.useCases.change(
            .customersErase, expectedVersion: nil, context: context, notFound: "No such customer.",
            lock: { scope, tx in try await customers.lock(id: id, scope: scope, in: tx) }
        ) { current, step in
            if current.erasedAt != nil { return current }
            for state in try await consents.current(customerID: id, dealerID: current.dealerID, in: step.tx)
            where state.status == .granted {
                _ = try await recordConsent(
                    customer: current, channel: state.channel, status: .withdrawn, effectiveAt: step.now,
                    source: .customerRequest, note: "erasure", in: step)
            }
            let erased = try await customers.erase(current, now: step.now, in: step.tx)
            try await audit.scrubValues(customerID: id, dealerID: current.dealerID, in: step.tx)
            for erasure in erasures { try await erasure.erase(customer: erased, in: step) }
            try await step.record(.erase, entity: "customer", id: id, customerID: id)
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
        var errors = ValidationErrors()
        let note = Text.optional(change.note, field: "note", maxLength: 500, errors: &errors)
        try errors.throwIfAny()
        return try await kit.useCases.change(
            .consentsWrite, expectedVersion: nil, context: context, notFound: "No such customer.",
            lock: { scope, tx in try await customers.lock(id: customerID, scope: scope, in: tx) }
        ) { customer, step in
            let effectiveAt = change.effectiveAt ?? step.now
            if effectiveAt > step.now.addingTimeInterval(60) {
                throw ValidationErrors(field: "effective_at", "cannot be in the future")
            }
            if customer.erasedAt != nil, change.status == .granted {
                throw RuleViolation("The customer has been erased; consent cannot be granted.")
            }
            return try await recordConsent(
                customer: customer, channel: change.channel, status: change.status, effectiveAt: effectiveAt,
                source: change.source, note: note, in: step)
        }
    }

    /// Records a consent change with its audit entry, inside a use case of this module (the
    /// leads service carries a lead's consents over at conversion through here).
    func recordConsent(
        customer: Customer, channel: ConsentChannel, status: ConsentStatus, effectiveAt: Date, source: ConsentSource,
        note: String?, in step: UseCase
    ) async throws -> ConsentEvent {
        let event = try await consents.record(
            dealerID: customer.dealerID, customerID: customer.id, channel: channel, status: status,
            effectiveAt: effectiveAt, source: source, note: note, actor: step.actor, now: step.now, in: step.tx)
        try await step.record(
            .consent, entity: "consent", id: event.id, customerID: customer.id,
            changes: [FieldChange(field: "consent.\(channel.rawValue)", old: nil, new: status.rawValue)])
        return event
    }

    public func consents(customerID: UUID, context: CallContext) async throws -> [ConsentState] {
        let customer = try await get(customerID, context: context)
        return try await consents.current(customerID: customer.id, dealerID: customer.dealerID, in: kit.pool)
    }

    public func consentHistory(customerID: UUID, page: PageRequest, context: CallContext) async throws -> Page<ConsentEvent> {
        let customer = try await get(customerID, context: context)
        return try await consents.history(customerID: customer.id, dealerID: customer.dealerID, page: page, in: kit.pool)
    }

    // MARK: Audit

    /// The audit trail of a customer: managers and admins only. A deleted customer keeps its
    /// trail.
    public func auditTrail(customerID: UUID, page: PageRequest, context: CallContext) async throws -> Page<AuditEvent> {
        try Authorization.require(.auditRead, context.principal)
        guard
            let dealerID = try await customers.dealerOf(
                id: customerID, scope: context.principal.readScope, includingDeleted: true, in: kit.pool)
        else { throw ServiceError.notFound("No such customer.") }
        return try await audit.events(customerID: customerID, dealerID: dealerID, page: page, in: kit.pool)
    }
}
