public import CRMDomain
public import Foundation
public import PostgresClient

/// Customers: persons and companies of a dealer.
public struct CustomerRepository: Sendable {
    public init() {}

    /// The jsonb members come out as columns: the server extracts them for less than it costs
    /// to parse JSON per row here.
    static let columns: StaticString = """
        c.dealer_id, c.id, c.kind, c.name, c.surname, c.gender, c.phone, c.email, c.birthday, \
        c.address->>'province', c.address->>'city', c.address->>'district', c.address->>'community', \
        c.address->>'street', c.address->>'postal_code', \
        c.occupation, c.employer, c.income_band, c.hobbies, c.marital_status, c.children, c.fleet_category, \
        c.fleet_agreement_ends, c.preferred_brands, \
        c.preferences->>'colour', c.preferences->>'trim', (c.preferences->>'decision_days')::int4, \
        c.tags, c.notes, c.erased_at, c.created_at, c.updated_at, c.version
        """

    static func decode(_ row: PostgresRow) throws -> Customer {
        var r = ColumnReader(row)
        let dealerID: UUID = try r.next()
        let id: UUID = try r.next()
        let kind: CustomerKind = try r.next()
        let name: String = try r.next()
        let surname: String? = try r.next()
        let gender: Gender? = try r.next()
        let phone: String? = try r.next()
        let email: String? = try r.next()
        let birthday: LocalDate? = try r.next()
        let address = Address(
            province: try r.next(), city: try r.next(), district: try r.next(), community: try r.next(),
            street: try r.next(), postalCode: try r.next())
        let fields = CustomerFields(
            kind: kind, name: name, surname: surname, gender: gender, phone: phone, email: email, birthday: birthday,
            address: address.isEmpty ? nil : address, occupation: try r.next(), employer: try r.next(),
            incomeBand: try r.next(), hobbies: try r.next(), maritalStatus: try r.next(), children: try r.next(),
            fleetCategory: try r.next(), fleetAgreementEnds: try r.next(), preferredBrands: try r.next(),
            preferences: PurchasePreferences(colour: try r.next(), trim: try r.next(), decisionDays: try r.next(Int32?.self).map(Int.init)),
            tags: try r.next(), notes: try r.next())
        return Customer(
            id: id, dealerID: dealerID, fields: fields, erasedAt: try r.next(), createdAt: try r.next(),
            updatedAt: try r.next(), version: try r.next())
    }

    /// Inserts a customer; a duplicate phone at the dealer fails with a unique violation on
    /// `customers_phone`.
    public func insert(id: UUID, dealerID: UUID, fields f: CustomerFields, in db: some PostgresQueryable) async throws
        -> Customer
    {
        let row = try await db.queryFirst(
            """
            INSERT INTO customers AS c (dealer_id, id, kind, name, surname, gender, phone, email, birthday, address,
                occupation, employer, income_band, hobbies, marital_status, children, fleet_category,
                fleet_agreement_ends, preferred_brands, preferences, tags, notes)
            VALUES (\(dealerID), \(id), \(f.kind), \(f.name), \(f.surname), \(f.gender), \(f.phone), \(f.email),
                \(f.birthday), \(try PostgresJSON.optional(f.address)), \(f.occupation), \(f.employer), \(f.incomeBand),
                \(f.hobbies)::text[], \(f.maritalStatus), \(f.children), \(f.fleetCategory), \(f.fleetAgreementEnds),
                \(f.preferredBrands)::text[], \(try PostgresJSON(encoding: f.preferences)), \(f.tags)::text[], \(f.notes))
            RETURNING \(sql: Self.columns)
            """)
        guard let row else { throw RepositoryError.noRowReturned }
        return try Self.decode(row)
    }

    public func find(id: UUID, scope: TenantScope, in db: some PostgresQueryable) async throws -> Customer? {
        try await db.queryFirst(
            """
            SELECT \(sql: Self.columns) FROM customers c
            WHERE \(fragment: scope.condition("c.dealer_id")) AND c.id = \(id) AND c.deleted_at IS NULL
            """
        ).map(Self.decode)
    }

    /// The customer holding a phone number at a dealer (duplicate detection).
    public func find(phone: String, dealerID: UUID, in db: some PostgresQueryable) async throws -> Customer? {
        try await db.queryFirst(
            """
            SELECT \(sql: Self.columns) FROM customers c
            WHERE c.dealer_id = \(dealerID) AND c.phone = \(phone) AND c.deleted_at IS NULL
            """
        ).map(Self.decode)
    }

    public struct Filter: Sendable {
        /// E.164.
        public var phone: String?
        /// Case-insensitive prefix of the name (Chinese characters included).
        public var namePrefix: String?
        /// Current owner of the vehicle with this plate / VIN.
        public var plate: String?
        public var vin: String?
        public var tag: String?
        public var kind: CustomerKind?

        public init(
            phone: String? = nil, namePrefix: String? = nil, plate: String? = nil, vin: String? = nil, tag: String? = nil,
            kind: CustomerKind? = nil
        ) {
            self.phone = phone
            self.namePrefix = namePrefix
            self.plate = plate
            self.vin = vin
            self.tag = tag
            self.kind = kind
        }
    }

    /// Newest first; by name when searching a name prefix.
    public func list(scope: TenantScope, filter: Filter, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<Customer>
    {
        var query: PostgresQuery = """
            SELECT \(sql: Self.columns) FROM customers c
            WHERE \(fragment: scope.condition("c.dealer_id")) AND c.deleted_at IS NULL
            """
        if let phone = filter.phone { query.append(" AND c.phone = \(phone)") }
        if let kind = filter.kind { query.append(" AND c.kind = \(kind)") }
        if let tag = filter.tag { query.append(" AND c.tags @> ARRAY[\(tag)]::text[]") }
        if filter.plate != nil || filter.vin != nil {
            query.append(
                """
                 AND (c.dealer_id, c.id) IN (
                    SELECT o.dealer_id, o.customer_id FROM vehicle_ownerships o
                    JOIN vehicles v ON v.dealer_id = o.dealer_id AND v.id = o.vehicle_id AND v.deleted_at IS NULL
                    WHERE o.owned_to IS NULL AND \(fragment: scope.condition("o.dealer_id"))
                """)
            if let plate = filter.plate { query.append(" AND v.plate = \(plate)") }
            if let vin = filter.vin { query.append(" AND v.vin = \(vin)") }
            query.append(")")
        }
        if let prefix = filter.namePrefix?.lowercased() {
            // A byte-order range on lower(name) uses the customers_name index with any prefix,
            // unlike LIKE with a bound pattern.
            query.append(
                """
                 AND lower(c.name) COLLATE "C" >= \(prefix) AND lower(c.name) COLLATE "C" < \(prefix + "\u{10FFFF}")
                """)
            if let cursor = page.cursor {
                let values = try cursor.values(for: "customers.name", count: 2)
                guard let id = UUID(uuidString: values[1]) else { throw CursorError() }
                query.append(" AND (lower(c.name) COLLATE \"C\", c.id) > (\(values[0]), \(id))")
            }
            query.append(" ORDER BY lower(c.name) COLLATE \"C\", c.id LIMIT \(page.limit + 1)")
            let rows = try await db.query(query).map(Self.decode)
            return Page.from(rows, limit: page.limit, sort: "customers.name") {
                [$0.fields.name.lowercased(), $0.id.uuidString]
            }
        }
        if let cursor = page.cursor {
            let values = try cursor.values(for: "customers.created", count: 2)
            guard let id = UUID(uuidString: values[1]) else { throw CursorError() }
            query.append(" AND (c.created_at, c.id) < (\(values[0])::timestamptz, \(id))")
        }
        query.append(" ORDER BY c.created_at DESC, c.id DESC LIMIT \(page.limit + 1)")
        let rows = try await db.query(query).map(Self.decode)
        return Page.from(rows, limit: page.limit, sort: "customers.created") {
            [CursorTime.text($0.createdAt), $0.id.uuidString]
        }
    }

    /// Replaces the writable fields if the stored version is `expectedVersion`.
    public func update(
        id: UUID, expectedVersion: Int, fields f: CustomerFields, scope: TenantScope, in db: some PostgresQueryable
    ) async throws -> VersionedUpdate<Customer> {
        let row = try await db.queryFirst(
            """
            UPDATE customers AS c SET kind = \(f.kind), name = \(f.name), surname = \(f.surname), gender = \(f.gender),
                phone = \(f.phone), email = \(f.email), birthday = \(f.birthday),
                address = \(try PostgresJSON.optional(f.address)), occupation = \(f.occupation),
                employer = \(f.employer), income_band = \(f.incomeBand), hobbies = \(f.hobbies)::text[],
                marital_status = \(f.maritalStatus), children = \(f.children), fleet_category = \(f.fleetCategory),
                fleet_agreement_ends = \(f.fleetAgreementEnds), preferred_brands = \(f.preferredBrands)::text[],
                preferences = \(try PostgresJSON(encoding: f.preferences)), tags = \(f.tags)::text[], notes = \(f.notes),
                version = c.version + 1
            WHERE \(fragment: scope.condition("c.dealer_id")) AND c.id = \(id) AND c.deleted_at IS NULL
              AND c.version = \(expectedVersion)
            RETURNING \(sql: Self.columns)
            """)
        if let row { return .updated(try Self.decode(row)) }
        return try await find(id: id, scope: scope, in: db) == nil ? .notFound : .stale
    }

    /// Soft-deletes (hidden from reads and lists; history and statistics keep their rows).
    public func delete(id: UUID, expectedVersion: Int, scope: TenantScope, in db: some PostgresQueryable) async throws
        -> VersionedUpdate<Customer>
    {
        let row = try await db.queryFirst(
            """
            UPDATE customers AS c SET deleted_at = now(), version = c.version + 1
            WHERE \(fragment: scope.condition("c.dealer_id")) AND c.id = \(id) AND c.deleted_at IS NULL
              AND c.version = \(expectedVersion)
            RETURNING \(sql: Self.columns)
            """)
        if let row { return .updated(try Self.decode(row)) }
        return try await find(id: id, scope: scope, in: db) == nil ? .notFound : .stale
    }

    /// Anonymises: personal fields replaced by `CustomerFields.erased()`, `erased_at` set. The
    /// row, its vehicles, consents history and statistics stay.
    public func erase(id: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> Customer? {
        let f = CustomerFields(kind: .person, name: "").erased()
        return try await db.queryFirst(
            """
            UPDATE customers AS c SET name = \(f.name), surname = NULL, gender = NULL, phone = NULL, email = NULL,
                birthday = NULL, address = NULL, occupation = NULL, employer = NULL, income_band = NULL,
                hobbies = '{}', marital_status = NULL, children = NULL, fleet_agreement_ends = NULL,
                preferred_brands = '{}', preferences = '{}', tags = '{}', notes = NULL,
                erased_at = now(), version = c.version + 1
            WHERE c.dealer_id = \(dealerID) AND c.id = \(id) AND c.deleted_at IS NULL
            RETURNING \(sql: Self.columns)
            """
        ).map(Self.decode)
    }
}
