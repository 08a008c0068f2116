public import CRMDomain
public import CRMStore
public import Foundation
public import PostgresClient

/// Vehicles, ownership over time, odometer history.
public final class VehicleService: Sendable {
    let pool: PostgresPool
    let access: AccessService
    let vehicles = VehicleRepository()
    let customers = CustomerRepository()
    let audit = AuditRepository()

    public init(pool: PostgresPool, access: AccessService) {
        self.pool = pool
        self.access = access
    }

    /// The first owner, given with the vehicle's creation.
    public struct InitialOwner: Sendable {
        public var customerID: UUID
        public var from: LocalDate?
        public init(customerID: UUID, from: LocalDate?) {
            self.customerID = customerID
            self.from = from
        }
    }

    public func create(_ fields: VehicleFields, dealerID requested: UUID?, owner: InitialOwner?, context: CallContext)
        async throws -> Vehicle
    {
        try Authorization.require(.vehiclesWrite, context.principal)
        let dealer = try await access.writeDealer(context.principal, requested: requested)
        let clean = try fields.validated()
        do {
            return try await pool.withTransaction { tx in
                try await insert(clean, dealerID: dealer.id, owner: owner, today: dealer.today(), in: tx)
            }
        } catch let error as PostgresError where error.kind == .uniqueViolation && error.constraintName == "vehicles_vin" {
            let existing = try await vehicles.find(vin: clean.vin, dealerID: dealer.id, in: pool)
            throw ServiceError.conflict("A vehicle with this VIN already exists at this dealer.", existingID: existing?.id)
        }
    }

    /// Inserts a validated vehicle (and its first ownership) inside the caller's transaction.
    public func insert(
        _ clean: VehicleFields, dealerID: UUID, owner: InitialOwner?, today: LocalDate, in tx: PostgresTransaction
    ) async throws -> Vehicle {
        if let owner {
            guard try await customers.find(id: owner.customerID, scope: .dealer(dealerID), in: tx) != nil else {
                throw ValidationErrors(field: "owner.customer_id", "is not a customer of this dealer")
            }
        }
        let vehicle = try await vehicles.insert(id: UUID(), dealerID: dealerID, fields: clean, in: tx)
        if let owner {
            _ = try await vehicles.transfer(
                vehicleID: vehicle.id, dealerID: dealerID, to: owner.customerID,
                from: owner.from ?? clean.deliveryDate ?? today, in: tx)
        }
        return vehicle
    }

    public func get(_ id: UUID, context: CallContext) async throws -> Vehicle {
        try Authorization.require(.vehiclesRead, context.principal)
        guard let vehicle = try await vehicles.find(id: id, scope: Scopes.read(context.principal), in: pool) else {
            throw ServiceError.notFound("No such vehicle.")
        }
        return vehicle
    }

    public func list(
        filter: VehicleRepository.Filter, dealerFilter: UUID?, page: PageRequest, context: CallContext
    ) async throws -> Page<Vehicle> {
        try Authorization.require(.vehiclesRead, context.principal)
        let scope = try await access.readScope(context.principal, dealerFilter: dealerFilter)
        var normalized = filter
        if let vin = filter.vin { normalized.vin = vin.trimmingCharacters(in: .whitespaces).uppercased() }
        if let plate = filter.plate { normalized.plate = plate.uppercased().filter { !" ·.-".contains($0) } }
        return try await vehicles.list(scope: scope, filter: normalized, page: page, in: pool)
    }

    public func update(_ id: UUID, expectedVersion: Int, fields: VehicleFields, context: CallContext) async throws -> Vehicle {
        try Authorization.require(.vehiclesWrite, context.principal)
        let clean = try fields.validated()
        let scope = Scopes.read(context.principal)
        do {
            return try await vehicles.update(id: id, expectedVersion: expectedVersion, fields: clean, scope: scope, in: pool)
                .unwrap(notFound: "No such vehicle.")
        } catch let error as PostgresError where error.kind == .uniqueViolation && error.constraintName == "vehicles_vin" {
            throw ServiceError.conflict("Another vehicle at this dealer has this VIN.")
        }
    }

    public func delete(_ id: UUID, expectedVersion: Int, context: CallContext) async throws {
        try Authorization.require(.vehiclesDelete, context.principal)
        let scope = Scopes.read(context.principal)
        try await pool.withTransaction { tx in
            let deleted = try await vehicles.delete(id: id, expectedVersion: expectedVersion, scope: scope, in: tx)
                .unwrap(notFound: "No such vehicle.")
            let owner = try await vehicles.ownerships(vehicleID: id, dealerID: deleted.dealerID, in: tx).first {
                $0.ownedTo == nil
            }
            try await audit.record(
                dealerID: deleted.dealerID, customerID: owner?.customerID, entity: "vehicle", entityID: id, action: .delete,
                changes: [FieldChange(field: "vin", old: deleted.fields.vin, new: nil)], actor: context.actor, in: tx)
        }
    }

    // MARK: Ownership

    public func ownerships(vehicleID: UUID, context: CallContext) async throws -> [Ownership] {
        let vehicle = try await get(vehicleID, context: context)
        return try await vehicles.ownerships(vehicleID: vehicle.id, dealerID: vehicle.dealerID, in: pool)
    }

    /// A change of owner: the current ownership ends the day the new one starts.
    public func transfer(vehicleID: UUID, to customerID: UUID, from date: LocalDate?, context: CallContext) async throws
        -> Ownership
    {
        try Authorization.require(.vehiclesWrite, context.principal)
        let scope = Scopes.read(context.principal)
        return try await pool.withTransaction { tx in
            guard let vehicle = try await vehicles.lockForUpdate(id: vehicleID, scope: scope, in: tx) else {
                throw ServiceError.notFound("No such vehicle.")
            }
            guard let customer = try await customers.find(id: customerID, scope: .dealer(vehicle.dealerID), in: tx) else {
                throw ValidationErrors(field: "customer_id", "is not a customer of the vehicle's dealer")
            }
            let dealer = try await access.dealer(vehicle.dealerID, inGroup: context.principal.groupID)
            let start = date ?? dealer?.today() ?? LocalDate(Date(), in: .gmt)
            let history = try await vehicles.ownerships(vehicleID: vehicleID, dealerID: vehicle.dealerID, in: tx)
            if let current = history.first(where: { $0.ownedTo == nil }) {
                if current.customerID == customer.id {
                    throw ServiceError.conflict("This customer already owns the vehicle.")
                }
                if start < current.ownedFrom {
                    throw ValidationErrors(field: "from", "is before the current ownership began (\(current.ownedFrom))")
                }
            }
            let ownership = try await vehicles.transfer(
                vehicleID: vehicleID, dealerID: vehicle.dealerID, to: customer.id, from: start, in: tx)
            try await audit.record(
                dealerID: vehicle.dealerID, customerID: customer.id, entity: "vehicle", entityID: vehicleID,
                action: .update,
                changes: [
                    FieldChange(
                        field: "owner", old: history.first { $0.ownedTo == nil }?.customerID.uuidString,
                        new: customer.id.uuidString)
                ], actor: context.actor, in: tx)
            return ownership
        }
    }

    // MARK: Odometer

    public func readings(vehicleID: UUID, context: CallContext) async throws -> [OdometerReading] {
        let vehicle = try await get(vehicleID, context: context)
        return try await vehicles.readings(vehicleID: vehicle.id, dealerID: vehicle.dealerID, in: pool)
    }

    /// Adds a reading that fits the history (no odometer running backwards). The vehicle row is
    /// locked so two concurrent readings are checked against each other.
    public func addReading(
        vehicleID: UUID, readOn: LocalDate?, km: Int, source: OdometerSource, context: CallContext
    ) async throws -> OdometerReading {
        try Authorization.require(.vehiclesWrite, context.principal)
        let scope = Scopes.read(context.principal)
        return try await pool.withTransaction { tx in
            guard let vehicle = try await vehicles.lockForUpdate(id: vehicleID, scope: scope, in: tx) else {
                throw ServiceError.notFound("No such vehicle.")
            }
            let dealer = try await access.dealer(vehicle.dealerID, inGroup: context.principal.groupID)
            let today = dealer?.today() ?? LocalDate(Date(), in: .gmt)
            let date = readOn ?? today
            let history = try await vehicles.readings(vehicleID: vehicleID, dealerID: vehicle.dealerID, in: tx)
            try OdometerReading.validate(readOn: date, km: km, today: today, history: history)
            return try await vehicles.insertReading(
                dealerID: vehicle.dealerID, vehicleID: vehicleID, readOn: date, km: km, source: source,
                recordedBy: context.principal.keyID, in: tx)
        }
    }
}
