public import CRMDomain
import CRMStore
public import Foundation
import PostgresClient

/// Vehicles, ownership over time, odometer history.
public final class VehicleService: Sendable {
    let kit: ServiceKit
    let vehicles = VehicleRepository()
    let customers = CustomerRepository()

    init(_ kit: ServiceKit) { self.kit = kit }

    /// The first owner, given with the vehicle's creation.
    public struct InitialOwner: Sendable {
        public var customerID: UUID
        public var from: LocalDate?
        public init(customerID: UUID, from: LocalDate?) {
            self.customerID = customerID
            self.from = from
        }
    }

    static func duplicateVIN(_ duplicate: Duplicate<Vehicle>, _ message: String = "A vehicle with this VIN already exists at this dealer.")
        -> ServiceError
    {
        .conflict(message, existingID: duplicate.existing?.id)
    }

    public func create(_ fields: VehicleFields, dealerID requested: UUID?, owner: InitialOwner?, context: CallContext)
        async throws -> Vehicle
    {
        try await kit.useCases.create(.vehiclesWrite, dealer: requested, context: context) { step in
            let clean = try fields.validated()
            do {
                return try await insert(clean, owner: owner, in: step)
            } catch let duplicate as Duplicate<Vehicle> {
                throw Self.duplicateVIN(duplicate)
            }
        }
    }

    /// Inserts a validated vehicle (and its first ownership) inside a use case of this module
    /// (the leads service's conversion goes through here).
    func insert(_ clean: VehicleFields, owner: InitialOwner?, in step: UseCase) async throws -> Vehicle {
        if let owner {
            guard try await customers.find(id: owner.customerID, scope: .dealer(step.dealer.id), in: step.tx) != nil else {
                throw ValidationErrors(field: "owner.customer_id", "is not a customer of this dealer")
            }
        }
        let vehicle = try await vehicles.insert(
            id: UUID(), dealerID: step.dealer.id, fields: clean, recallOpenedOn: clean.openRecall ? step.today : nil, now: step.now,
            in: step.tx)
        if let owner {
            _ = try await vehicles.transfer(
                vehicleID: vehicle.id, dealerID: step.dealer.id, to: owner.customerID,
                from: owner.from ?? clean.deliveryDate ?? step.today, now: step.now, in: step.tx)
        }
        return vehicle
    }

    public func get(_ id: UUID, context: CallContext) async throws -> Vehicle {
        try Authorization.require(.vehiclesRead, context.principal)
        guard let vehicle = try await vehicles.find(id: id, scope: context.principal.readScope, in: kit.pool) else {
            throw ServiceError.notFound("No such vehicle.")
        }
        return vehicle
    }

    public func list(
        filter: VehicleFilter, dealerFilter: UUID?, page: PageRequest, context: CallContext
    ) async throws -> Page<Vehicle> {
        try Authorization.require(.vehiclesRead, context.principal)
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        return try await vehicles.list(scope: scope, filter: filter.normalized(), page: page, in: kit.pool)
    }

    public func update(_ id: UUID, expectedVersion: Int, fields: VehicleFields, context: CallContext) async throws -> Vehicle {
        try await kit.useCases.change(
            .vehiclesWrite, expectedVersion: expectedVersion, context: context, notFound: "No such vehicle.",
            lock: { scope, tx in try await vehicles.lock(id: id, scope: scope, in: tx) }
        ) { current, step in
            let changed = current.changed(to: try fields.validated(), today: step.today)
            do {
                return try await vehicles.save(changed, now: step.now, in: step.tx)
            } catch let duplicate as Duplicate<Vehicle> {
                throw Self.duplicateVIN(duplicate, "Another vehicle at this dealer has this VIN.")
            }
        }
    }

    public func delete(_ id: UUID, expectedVersion: Int, context: CallContext) async throws {
        try await kit.useCases.change(
            .vehiclesDelete, expectedVersion: expectedVersion, context: context, notFound: "No such vehicle.",
            lock: { scope, tx in try await vehicles.lock(id: id, scope: scope, in: tx) }
        ) { current, step in
            _ = try await vehicles.delete(current, now: step.now, in: step.tx)
            let owner = try await vehicles.ownerships(vehicleID: id, dealerID: current.dealerID, in: step.tx).first {
                $0.ownedTo == nil
            }
            try await step.record(
                .delete, entity: "vehicle", id: id, customerID: owner?.customerID,
                changes: [FieldChange(field: "vin", old: current.fields.vin, new: nil)])
        }
    }

    // MARK: Ownership

    public func ownerships(vehicleID: UUID, context: CallContext) async throws -> [Ownership] {
        let vehicle = try await get(vehicleID, context: context)
        return try await vehicles.ownerships(vehicleID: vehicle.id, dealerID: vehicle.dealerID, in: kit.pool)
    }

    /// A change of owner: the current ownership ends the day the new one starts.
    public func transfer(vehicleID: UUID, to customerID: UUID, from date: LocalDate?, context: CallContext) async throws
        -> Ownership
    {
        try await kit.useCases.change(
            .vehiclesWrite, expectedVersion: nil, context: context, notFound: "No such vehicle.",
            lock: { scope, tx in try await vehicles.lock(id: vehicleID, scope: scope, in: tx) }
        ) { vehicle, step in
            guard let customer = try await customers.find(id: customerID, scope: .dealer(vehicle.dealerID), in: step.tx) else {
                throw ValidationErrors(field: "customer_id", "is not a customer of the vehicle's dealer")
            }
            let start = date ?? step.today
            let history = try await vehicles.ownerships(vehicleID: vehicleID, dealerID: vehicle.dealerID, in: step.tx)
            let current = history.first { $0.ownedTo == nil }
            if let current {
                if current.customerID == customer.id { throw RuleViolation("This customer already owns the vehicle.") }
                if start < current.ownedFrom {
                    throw ValidationErrors(field: "from", "is before the current ownership began (\(current.ownedFrom))")
                }
            }
            let ownership = try await vehicles.transfer(
                vehicleID: vehicleID, dealerID: vehicle.dealerID, to: customer.id, from: start, now: step.now, in: step.tx)
            try await step.record(
                .update, entity: "vehicle", id: vehicleID, customerID: customer.id,
                changes: [FieldChange(field: "owner", old: current?.customerID.lowercasedText, new: customer.id.lowercasedText)])
            return ownership
        }
    }

    // MARK: Odometer

    public func readings(vehicleID: UUID, context: CallContext) async throws -> [OdometerReading] {
        let vehicle = try await get(vehicleID, context: context)
        return try await vehicles.readings(vehicleID: vehicle.id, dealerID: vehicle.dealerID, in: kit.pool)
    }

    /// Adds a reading that fits the history (no odometer running backwards). The vehicle row is
    /// locked so two concurrent readings are checked against each other.
    public func addReading(
        vehicleID: UUID, readOn: LocalDate?, km: Int, source: OdometerSource, context: CallContext
    ) async throws -> OdometerReading {
        try await kit.useCases.change(
            .vehiclesWrite, expectedVersion: nil, context: context, notFound: "No such vehicle.",
            lock: { scope, tx in try await vehicles.lock(id: vehicleID, scope: scope, in: tx) }
        ) { vehicle, step in
            let date = readOn ?? step.today
            let history = try await vehicles.readings(vehicleID: vehicleID, dealerID: vehicle.dealerID, in: step.tx)
            try OdometerReading.validate(readOn: date, km: km, today: step.today, history: history)
            return try await vehicles.insertReading(
                dealerID: vehicle.dealerID, vehicleID: vehicleID, readOn: date, km: km, source: source,
                recordedBy: context.principal.keyID, now: step.now, in: step.tx)
        }
    }
}
