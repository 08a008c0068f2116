public import CRMDomain
public import Foundation
public import PostgresClient

/// Vehicles, their ownership over time and their odometer history.
public struct VehicleRepository: Sendable {
    public init() {}

    static let columns: StaticString = """
        v.dealer_id, v.id, v.vin, v.plate, v.brand, v.series, v.model, v.model_year, v.colour, v.delivery_date, \
        v.warranty_end, v.open_recall, v.created_at, v.updated_at, v.version
        """

    static func decode(_ row: PostgresRow) throws -> Vehicle {
        var r = ColumnReader(row)
        let dealerID: UUID = try r.next()
        let id: UUID = try r.next()
        let fields = VehicleFields(
            vin: try r.next(), plate: try r.next(), brand: try r.next(), series: try r.next(), model: try r.next(),
            modelYear: try r.next(), colour: try r.next(), deliveryDate: try r.next(), warrantyEnd: try r.next(),
            openRecall: try r.next())
        return Vehicle(
            id: id, dealerID: dealerID, fields: fields, createdAt: try r.next(), updatedAt: try r.next(), version: try r.next())
    }

    /// A duplicate VIN at the dealer fails with a unique violation on `vehicles_vin`.
    public func insert(id: UUID, dealerID: UUID, fields f: VehicleFields, in db: some PostgresQueryable) async throws
        -> Vehicle
    {
        let row = try await db.queryFirst(
            """
            INSERT INTO vehicles AS v (dealer_id, id, vin, plate, brand, series, model, model_year, colour, delivery_date,
                warranty_end, open_recall)
            VALUES (\(dealerID), \(id), \(f.vin), \(f.plate), \(f.brand), \(f.series), \(f.model), \(f.modelYear), \(f.colour),
                \(f.deliveryDate), \(f.warrantyEnd), \(f.openRecall))
            RETURNING \(sql: Self.columns)
            """)
        guard let row else { throw RepositoryError.noRowReturned }
        return try Self.decode(row)
    }

    public func find(id: UUID, scope: TenantScope, in db: some PostgresQueryable) async throws -> Vehicle? {
        try await db.queryFirst(
            """
            SELECT \(sql: Self.columns) FROM vehicles v
            WHERE \(fragment: scope.condition("v.dealer_id")) AND v.id = \(id) AND v.deleted_at IS NULL
            """
        ).map(Self.decode)
    }

    public func find(vin: String, dealerID: UUID, in db: some PostgresQueryable) async throws -> Vehicle? {
        try await db.queryFirst(
            """
            SELECT \(sql: Self.columns) FROM vehicles v
            WHERE v.dealer_id = \(dealerID) AND v.vin = \(vin) AND v.deleted_at IS NULL
            """
        ).map(Self.decode)
    }

    public struct Filter: Sendable {
        public var vin: String?
        public var plate: String?
        public var brand: String?
        /// Vehicles this customer owns now.
        public var ownerID: UUID?
        public var openRecall: Bool?

        public init(vin: String? = nil, plate: String? = nil, brand: String? = nil, ownerID: UUID? = nil, openRecall: Bool? = nil) {
            self.vin = vin
            self.plate = plate
            self.brand = brand
            self.ownerID = ownerID
            self.openRecall = openRecall
        }
    }

    public func list(scope: TenantScope, filter: Filter, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<Vehicle>
    {
        var query: PostgresQuery = """
            SELECT \(sql: Self.columns) FROM vehicles v
            WHERE \(fragment: scope.condition("v.dealer_id")) AND v.deleted_at IS NULL
            """
        if let vin = filter.vin { query.append(" AND v.vin = \(vin)") }
        if let plate = filter.plate { query.append(" AND v.plate = \(plate)") }
        if let brand = filter.brand { query.append(" AND v.brand = \(brand)") }
        if let openRecall = filter.openRecall { query.append(" AND v.open_recall = \(openRecall)") }
        if let owner = filter.ownerID {
            query.append(
                """
                 AND EXISTS (SELECT 1 FROM vehicle_ownerships o WHERE o.dealer_id = v.dealer_id
                             AND o.vehicle_id = v.id AND o.customer_id = \(owner) AND o.owned_to IS NULL)
                """)
        }
        if let cursor = page.cursor {
            let values = try cursor.values(for: "vehicles.created", count: 2)
            guard let id = UUID(uuidString: values[1]) else { throw CursorError() }
            query.append(" AND (v.created_at, v.id) < (\(values[0])::timestamptz, \(id))")
        }
        query.append(" ORDER BY v.created_at DESC, v.id DESC LIMIT \(page.limit + 1)")
        let rows = try await db.query(query).map(Self.decode)
        return Page.from(rows, limit: page.limit, sort: "vehicles.created") { [CursorTime.text($0.createdAt), $0.id.uuidString] }
    }

    public func update(
        id: UUID, expectedVersion: Int, fields f: VehicleFields, scope: TenantScope, in db: some PostgresQueryable
    ) async throws -> VersionedUpdate<Vehicle> {
        let row = try await db.queryFirst(
            """
            UPDATE vehicles AS v SET vin = \(f.vin), plate = \(f.plate), brand = \(f.brand), series = \(f.series),
                model = \(f.model), model_year = \(f.modelYear), colour = \(f.colour), delivery_date = \(f.deliveryDate),
                warranty_end = \(f.warrantyEnd), open_recall = \(f.openRecall), version = v.version + 1
            WHERE \(fragment: scope.condition("v.dealer_id")) AND v.id = \(id) AND v.deleted_at IS NULL
              AND v.version = \(expectedVersion)
            RETURNING \(sql: Self.columns)
            """)
        if let row { return .updated(try Self.decode(row)) }
        return try await find(id: id, scope: scope, in: db) == nil ? .notFound : .stale
    }

    public func delete(id: UUID, expectedVersion: Int, scope: TenantScope, in db: some PostgresQueryable) async throws
        -> VersionedUpdate<Vehicle>
    {
        let row = try await db.queryFirst(
            """
            UPDATE vehicles AS v SET deleted_at = now(), version = v.version + 1
            WHERE \(fragment: scope.condition("v.dealer_id")) AND v.id = \(id) AND v.deleted_at IS NULL
              AND v.version = \(expectedVersion)
            RETURNING \(sql: Self.columns)
            """)
        if let row { return .updated(try Self.decode(row)) }
        return try await find(id: id, scope: scope, in: db) == nil ? .notFound : .stale
    }

    // MARK: Ownership

    static func decodeOwnership(_ row: PostgresRow) throws -> Ownership {
        Ownership(
            id: try row.decode(0), vehicleID: try row.decode(1), customerID: try row.decode(2),
            ownedFrom: try row.decode(3), ownedTo: try row.decode(4))
    }

    public func ownerships(vehicleID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> [Ownership] {
        try await db.query(
            """
            SELECT id, vehicle_id, customer_id, owned_from, owned_to FROM vehicle_ownerships
            WHERE dealer_id = \(dealerID) AND vehicle_id = \(vehicleID)
            ORDER BY owned_from DESC, created_at DESC
            """
        ).map(Self.decodeOwnership)
    }

    /// Ends the current ownership (if any) the day the new one starts and records the new one.
    /// Lock the vehicle row first (`lockForUpdate`) so two transfers do not interleave.
    public func transfer(
        vehicleID: UUID, dealerID: UUID, to customerID: UUID, from date: LocalDate, in db: some PostgresQueryable
    ) async throws -> Ownership {
        try await db.execute(
            """
            UPDATE vehicle_ownerships SET owned_to = greatest(owned_from, \(date))
            WHERE dealer_id = \(dealerID) AND vehicle_id = \(vehicleID) AND owned_to IS NULL
            """)
        let id = UUID()
        try await db.execute(
            """
            INSERT INTO vehicle_ownerships (dealer_id, id, vehicle_id, customer_id, owned_from)
            VALUES (\(dealerID), \(id), \(vehicleID), \(customerID), \(date))
            """)
        return Ownership(id: id, vehicleID: vehicleID, customerID: customerID, ownedFrom: date, ownedTo: nil)
    }

    /// Locks a vehicle row for the rest of the transaction; false if it is not visible.
    public func lockForUpdate(id: UUID, scope: TenantScope, in db: some PostgresQueryable) async throws -> Vehicle? {
        try await db.queryFirst(
            """
            SELECT \(sql: Self.columns) FROM vehicles v
            WHERE \(fragment: scope.condition("v.dealer_id")) AND v.id = \(id) AND v.deleted_at IS NULL
            FOR UPDATE
            """
        ).map(Self.decode)
    }

    // MARK: Odometer

    static func decodeReading(_ row: PostgresRow) throws -> OdometerReading {
        OdometerReading(
            id: try row.decode(0), vehicleID: try row.decode(1), readOn: try row.decode(2), km: try row.decode(3),
            source: try row.decode(4), recordedAt: try row.decode(5))
    }

    public func readings(vehicleID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> [OdometerReading] {
        try await db.query(
            """
            SELECT id, vehicle_id, read_on, km, source, recorded_at FROM odometer_readings
            WHERE dealer_id = \(dealerID) AND vehicle_id = \(vehicleID)
            ORDER BY read_on DESC, recorded_at DESC, id DESC
            """
        ).map(Self.decodeReading)
    }

    public func insertReading(
        dealerID: UUID, vehicleID: UUID, readOn: LocalDate, km: Int, source: OdometerSource, recordedBy: UUID?,
        in db: some PostgresQueryable
    ) async throws -> OdometerReading {
        let id = UUID()
        let row = try await db.queryFirst(
            """
            INSERT INTO odometer_readings (dealer_id, id, vehicle_id, read_on, km, source, recorded_by)
            VALUES (\(dealerID), \(id), \(vehicleID), \(readOn), \(km), \(source), \(recordedBy))
            RETURNING id, vehicle_id, read_on, km, source, recorded_at
            """)
        guard let row else { throw RepositoryError.noRowReturned }
        return try Self.decodeReading(row)
    }

    /// The vehicles a customer owns now, each with its latest odometer reading.
    public func owned(byCustomer customerID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws
        -> [(Vehicle, Ownership, OdometerReading?)]
    {
        let rows = try await db.query(
            """
            SELECT \(sql: Self.columns), o.id, o.vehicle_id, o.customer_id, o.owned_from, o.owned_to,
                   r.id, r.vehicle_id, r.read_on, r.km, r.source, r.recorded_at
            FROM vehicle_ownerships o
            JOIN vehicles v ON v.dealer_id = o.dealer_id AND v.id = o.vehicle_id AND v.deleted_at IS NULL
            LEFT JOIN LATERAL (
                SELECT id, vehicle_id, read_on, km, source, recorded_at FROM odometer_readings
                WHERE dealer_id = v.dealer_id AND vehicle_id = v.id
                ORDER BY read_on DESC, recorded_at DESC, id DESC LIMIT 1
            ) r ON true
            WHERE o.dealer_id = \(dealerID) AND o.customer_id = \(customerID) AND o.owned_to IS NULL
            ORDER BY o.owned_from DESC, v.id
            """)
        return try rows.map { row in
            let vehicle = try Self.decode(row)
            let ownership = Ownership(
                id: try row.decode(15), vehicleID: try row.decode(16), customerID: try row.decode(17),
                ownedFrom: try row.decode(18), ownedTo: try row.decode(19))
            let reading: OdometerReading? =
                row.isNull(20)
                ? nil
                : OdometerReading(
                    id: try row.decode(20), vehicleID: try row.decode(21), readOn: try row.decode(22), km: try row.decode(23),
                    source: try row.decode(24), recordedAt: try row.decode(25))
            return (vehicle, ownership, reading)
        }
    }
}
