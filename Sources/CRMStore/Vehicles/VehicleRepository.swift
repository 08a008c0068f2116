public import CRMDomain
public import Foundation
public import PostgresClient

/// Vehicles, their ownership over time and their odometer history.
public struct VehicleRepository: Sendable {
    public init() {}

    static let columns: StaticString = """
        v.dealer_id, v.id, v.vin, v.plate, v.brand, v.series, v.model, v.model_year, v.colour, v.delivery_date, \
        v.warranty_end, v.insurance_expiry, v.inspection_due, v.open_recall, v.recall_opened_on, v.created_at, v.updated_at, \
        v.version
        """

    static func decode(_ r: inout PostgresNamedRow) throws -> Vehicle {
        let fields = VehicleFields(
            vin: try r("vin"), plate: try r("plate"), brand: try r("brand"), series: try r("series"), model: try r("model"),
            modelYear: try r("model_year"), colour: try r("colour"), deliveryDate: try r("delivery_date"),
            warrantyEnd: try r("warranty_end"), insuranceExpiry: try r("insurance_expiry"), inspectionDue: try r("inspection_due"),
            openRecall: try r("open_recall"))
        return Vehicle(
            id: try r("id"), dealerID: try r("dealer_id"), fields: fields, recallOpenedOn: try r("recall_opened_on"),
            createdAt: try r("created_at"), updatedAt: try r("updated_at"), version: try r("version"))
    }

    /// Inserts a vehicle created at `now`. A VIN another vehicle of the dealer has is
    /// `Duplicate<Vehicle>` naming that vehicle (found without raising an error).
    public func insert(
        id: UUID, dealerID: UUID, fields f: VehicleFields, recallOpenedOn: LocalDate?, now: Date, in tx: PostgresTransaction
    ) async throws -> Vehicle {
        let inserted = try await tx.query(
            """
            INSERT INTO vehicles AS v (dealer_id, id, vin, plate, brand, series, model, model_year, colour, delivery_date,
                warranty_end, insurance_expiry, inspection_due, open_recall, recall_opened_on, created_at, updated_at)
            VALUES (\(dealerID), \(id), \(f.vin), \(f.plate), \(f.brand), \(f.series), \(f.model), \(f.modelYear), \(f.colour),
                \(f.deliveryDate), \(f.warrantyEnd), \(f.insuranceExpiry), \(f.inspectionDue), \(f.openRecall), \(recallOpenedOn),
                \(now), \(now))
            ON CONFLICT DO NOTHING
            RETURNING \(sql: Self.columns)
            """
        ).first(named: Self.decode)
        if let inserted { return inserted }
        throw Duplicate(existing: try await find(vin: f.vin, dealerID: dealerID, in: tx))
    }

    public func find(id: UUID, scope: TenantScope, in db: some PostgresQueryable) async throws -> Vehicle? {
        try await db.query(
            """
            SELECT \(sql: Self.columns) FROM vehicles v
            WHERE \(fragment: scope.condition("v.dealer_id")) AND v.id = \(id) AND v.deleted_at IS NULL
            """
        ).first(named: Self.decode)
    }

    public func find(vin: String, dealerID: UUID, in db: some PostgresQueryable) async throws -> Vehicle? {
        try await db.query(
            """
            SELECT \(sql: Self.columns) FROM vehicles v
            WHERE v.dealer_id = \(dealerID) AND v.vin = \(vin) AND v.deleted_at IS NULL
            """
        ).first(named: Self.decode)
    }

    public func list(scope: TenantScope, filter: VehicleFilter, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<Vehicle>
    {
        var query: PostgresQuery = """
            SELECT \(sql: Self.columns) FROM vehicles v
            WHERE \(fragment: scope.pageCondition("v.dealer_id")) AND v.deleted_at IS NULL
            """
        if let vin = filter.vin { query.append(" AND v.vin = \(vin)") }
        if let plate = filter.plate { query.append(" AND v.plate = \(plate)") }
        if let brand = filter.brand { query.append(" AND v.brand = \(brand)") }
        if let openRecall = filter.openRecall { query.append(" AND v.open_recall = \(constant: openRecall)") }
        if let owner = filter.ownerID {
            query.append(
                """
                 AND EXISTS (SELECT 1 FROM vehicle_ownerships o WHERE o.dealer_id = v.dealer_id
                             AND o.vehicle_id = v.id AND o.customer_id = \(owner) AND o.owned_to IS NULL)
                """)
        }
        if let cursor = page.cursor {
            _ = try cursor.values(for: "vehicles.created", count: 2)
            query.append(" AND (v.created_at, v.id) < (\(try cursor.timestamp(0)), \(try cursor.uuid(1)))")
        }
        let rows = try await db.query(
            scope.page(query, alias: "v", order: "v.created_at DESC, v.id DESC", limit: page.limit + 1)).map(named: Self.decode)
        return Page.from(rows, limit: page.limit, sort: "vehicles.created") { [Cursor.value(of: $0.createdAt), $0.id.lowercasedText] }
    }

    /// Stores the vehicle's fields (a vehicle locked with `lock`, at the version it was read). A
    /// VIN another vehicle of the dealer has is `Duplicate<Vehicle>`.
    public func save(_ vehicle: Vehicle, now: Date, in tx: PostgresTransaction) async throws -> Vehicle {
        let f = vehicle.fields
        if let holder = try await find(vin: f.vin, dealerID: vehicle.dealerID, in: tx), holder.id != vehicle.id {
            throw Duplicate(existing: holder)
        }
        return try await guardingUniqueness {
            try await tx.one(
                """
                UPDATE vehicles AS v SET vin = \(f.vin), plate = \(f.plate), brand = \(f.brand), series = \(f.series),
                    model = \(f.model), model_year = \(f.modelYear), colour = \(f.colour), delivery_date = \(f.deliveryDate),
                    warranty_end = \(f.warrantyEnd), insurance_expiry = \(f.insuranceExpiry), inspection_due = \(f.inspectionDue),
                    open_recall = \(f.openRecall), recall_opened_on = \(vehicle.recallOpenedOn), updated_at = \(now),
                    version = v.version + 1
                WHERE v.dealer_id = \(vehicle.dealerID) AND v.id = \(vehicle.id) AND v.version = \(vehicle.version)
                RETURNING \(sql: Self.columns)
                """, orElse: .lostLock, Self.decode)
        }
    }

    /// Soft-deletes a locked vehicle.
    public func delete(_ vehicle: Vehicle, now: Date, in tx: PostgresTransaction) async throws -> Vehicle {
        try await tx.one(
            """
            UPDATE vehicles AS v SET deleted_at = \(now), updated_at = \(now), version = v.version + 1
            WHERE v.dealer_id = \(vehicle.dealerID) AND v.id = \(vehicle.id) AND v.version = \(vehicle.version)
            RETURNING \(sql: Self.columns)
            """, orElse: .lostLock, Self.decode)
    }

    // MARK: Ownership

    static func decodeOwnership(_ r: inout PostgresNamedRow) throws -> Ownership {
        Ownership(
            id: try r("id"), vehicleID: try r("vehicle_id"), customerID: try r("customer_id"), ownedFrom: try r("owned_from"),
            ownedTo: try r("owned_to"))
    }

    public func ownerships(vehicleID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> [Ownership] {
        try await db.query(
            """
            SELECT id, vehicle_id, customer_id, owned_from, owned_to FROM vehicle_ownerships
            WHERE dealer_id = \(dealerID) AND vehicle_id = \(vehicleID)
            ORDER BY owned_from DESC, created_at DESC
            """
        ).map(named: Self.decodeOwnership)
    }

    /// Ends the current ownership (if any) the day the new one starts and records the new one.
    /// Lock the vehicle row first (`lockForUpdate`) so two transfers do not interleave.
    public func transfer(
        vehicleID: UUID, dealerID: UUID, to customerID: UUID, from date: LocalDate, now: Date, in db: some PostgresQueryable
    ) async throws -> Ownership {
        try await db.execute(
            """
            UPDATE vehicle_ownerships SET owned_to = greatest(owned_from, \(date))
            WHERE dealer_id = \(dealerID) AND vehicle_id = \(vehicleID) AND owned_to IS NULL
            """)
        let id = UUID()
        try await db.execute(
            """
            INSERT INTO vehicle_ownerships (dealer_id, id, vehicle_id, customer_id, owned_from, created_at)
            VALUES (\(dealerID), \(id), \(vehicleID), \(customerID), \(date), \(now))
            """)
        return Ownership(id: id, vehicleID: vehicleID, customerID: customerID, ownedFrom: date, ownedTo: nil)
    }

    /// Locks a vehicle row for the rest of the transaction; nil if it is not visible.
    public func lock(id: UUID, scope: TenantScope, in tx: PostgresTransaction) async throws -> Vehicle? {
        try await tx.query(
            """
            SELECT \(sql: Self.columns) FROM vehicles v
            WHERE \(fragment: scope.condition("v.dealer_id")) AND v.id = \(id) AND v.deleted_at IS NULL
            FOR UPDATE
            """
        ).first(named: Self.decode)
    }

    // MARK: Odometer

    static func decodeReading(_ r: inout PostgresNamedRow) throws -> OdometerReading {
        OdometerReading(
            id: try r("id"), vehicleID: try r("vehicle_id"), readOn: try r("read_on"), km: try r("km"), source: try r("source"),
            recordedAt: try r("recorded_at"))
    }

    public func readings(vehicleID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> [OdometerReading] {
        try await db.query(
            """
            SELECT id, vehicle_id, read_on, km, source, recorded_at FROM odometer_readings
            WHERE dealer_id = \(dealerID) AND vehicle_id = \(vehicleID)
            ORDER BY read_on DESC, recorded_at DESC, id DESC
            """
        ).map(named: Self.decodeReading)
    }

    public func insertReading(
        dealerID: UUID, vehicleID: UUID, readOn: LocalDate, km: Int, source: OdometerSource, recordedBy: UUID?, now: Date,
        in db: some PostgresQueryable
    ) async throws -> OdometerReading {
        try await db.one(
            """
            INSERT INTO odometer_readings (dealer_id, id, vehicle_id, read_on, km, source, recorded_by, recorded_at)
            VALUES (\(dealerID), \(UUID()), \(vehicleID), \(readOn), \(km), \(source), \(recordedBy), \(now))
            RETURNING id, vehicle_id, read_on, km, source, recorded_at
            """, orElse: .noRowReturned, Self.decodeReading)
    }

    /// The vehicles a customer owns now, each with its latest odometer reading.
    public func owned(byCustomer customerID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws
        -> [(Vehicle, Ownership, OdometerReading?)]
    {
        try await db.query(
            """
            SELECT \(sql: Self.columns), o.id AS ownership_id, o.customer_id, o.owned_from, o.owned_to,
                   r.id AS reading_id, r.read_on, r.km, r.source, r.recorded_at
            FROM vehicle_ownerships o
            JOIN vehicles v ON v.dealer_id = o.dealer_id AND v.id = o.vehicle_id AND v.deleted_at IS NULL
            LEFT JOIN LATERAL (
                SELECT id, read_on, km, source, recorded_at FROM odometer_readings
                WHERE dealer_id = v.dealer_id AND vehicle_id = v.id
                ORDER BY read_on DESC, recorded_at DESC, id DESC LIMIT 1
            ) r ON true
            WHERE o.dealer_id = \(dealerID) AND o.customer_id = \(customerID) AND o.owned_to IS NULL
            ORDER BY o.owned_from DESC, v.id
            """
        ).map(named: { r in
            let vehicle = try Self.decode(&r)
            let ownership = Ownership(
                id: try r("ownership_id"), vehicleID: vehicle.id, customerID: try r("customer_id"),
                ownedFrom: try r("owned_from"), ownedTo: try r("owned_to"))
            var reading: OdometerReading?
            if let readingID = try r("reading_id", as: UUID?.self) {
                reading = OdometerReading(
                    id: readingID, vehicleID: vehicle.id, readOn: try r("read_on"), km: try r("km"), source: try r("source"),
                    recordedAt: try r("recorded_at"))
            }
            return (vehicle, ownership, reading)
        })
    }
}
