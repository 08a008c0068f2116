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
        c.address->>'province' AS address_province, c.address->>'city' AS address_city, \
        c.address->>'district' AS address_district, c.address->>'community' AS address_community, \
        c.address->>'street' AS address_street, c.address->>'postal_code' AS address_postal_code, \
        c.occupation, c.employer, c.income_band, c.hobbies, c.marital_status, c.children, c.fleet_category, \
        c.fleet_agreement_ends, c.preferred_brands, \
        c.preferences->>'colour' AS preferred_colour, c.preferences->>'trim' AS preferred_trim, \
        (c.preferences->>'decision_days')::int4 AS decision_days, \
        c.tags, c.notes, c.erased_at, c.created_at, c.updated_at, c.version
        """

    static func decode(_ r: inout PostgresNamedRow) throws -> Customer {
        let address = Address(
            province: try r("address_province"), city: try r("address_city"), district: try r("address_district"),
            community: try r("address_community"), street: try r("address_street"), postalCode: try r("address_postal_code"))
        let fields = CustomerFields(
            kind: try r("kind"), name: try r("name"), surname: try r("surname"), gender: try r("gender"), phone: try r("phone"),
            email: try r("email"), birthday: try r("birthday"), address: address.isEmpty ? nil : address,
            occupation: try r("occupation"), employer: try r("employer"), incomeBand: try r("income_band"),
            hobbies: try r("hobbies"), maritalStatus: try r("marital_status"), children: try r("children"),
            fleetCategory: try r("fleet_category"), fleetAgreementEnds: try r("fleet_agreement_ends"),
            preferredBrands: try r("preferred_brands"),
            preferences: PurchasePreferences(
                colour: try r("preferred_colour"), trim: try r("preferred_trim"),
                decisionDays: try r("decision_days", as: Int32?.self).map(Int.init)),
            tags: try r("tags"), notes: try r("notes"))
        return Customer(
            id: try r("id"), dealerID: try r("dealer_id"), fields: fields, erasedAt: try r("erased_at"),
            createdAt: try r("created_at"), updatedAt: try r("updated_at"), version: try r("version"))
    }

    /// Inserts a customer created at `now`. A phone another customer of the dealer has is
    /// `Duplicate<Customer>` naming that customer (found without raising an error).
    public func insert(id: UUID, dealerID: UUID, fields f: CustomerFields, now: Date, in tx: PostgresTransaction) async throws
        -> Customer
    {
        let inserted = try await tx.query(
            """
            INSERT INTO customers AS c (dealer_id, id, kind, name, surname, gender, phone, email, birthday, address,
                occupation, employer, income_band, hobbies, marital_status, children, fleet_category,
                fleet_agreement_ends, preferred_brands, preferences, tags, notes, created_at, updated_at)
            VALUES (\(dealerID), \(id), \(f.kind), \(f.name), \(f.surname), \(f.gender), \(f.phone), \(f.email),
                \(f.birthday), \(try PostgresJSON.optional(f.address)), \(f.occupation), \(f.employer), \(f.incomeBand),
                \(f.hobbies)::text[], \(f.maritalStatus), \(f.children), \(f.fleetCategory), \(f.fleetAgreementEnds),
                \(f.preferredBrands)::text[], \(try PostgresJSON(encoding: f.preferences)), \(f.tags)::text[], \(f.notes),
                \(now), \(now))
            ON CONFLICT DO NOTHING
            RETURNING \(sql: Self.columns)
            """
        ).first(named: Self.decode)
        if let inserted { return inserted }
        throw Duplicate(existing: try await f.phone.asyncMap { try await find(phone: $0, dealerID: dealerID, in: tx) } ?? nil)
    }

    public func find(id: UUID, scope: TenantScope, in db: some PostgresQueryable) async throws -> Customer? {
        try await db.query(
            """
            SELECT \(sql: Self.columns) FROM customers c
            WHERE \(fragment: scope.condition("c.dealer_id")) AND c.id = \(id) AND c.deleted_at IS NULL
            """
        ).first(named: Self.decode)
    }

    /// Locks the customer for a change inside a transaction.
    public func lock(id: UUID, scope: TenantScope, in tx: PostgresTransaction) async throws -> Customer? {
        try await tx.query(
            """
            SELECT \(sql: Self.columns) FROM customers c
            WHERE \(fragment: scope.condition("c.dealer_id")) AND c.id = \(id) AND c.deleted_at IS NULL
            FOR UPDATE
            """
        ).first(named: Self.decode)
    }

    /// The customer holding a phone number at a dealer (duplicate detection).
    public func find(phone: String, dealerID: UUID, in db: some PostgresQueryable) async throws -> Customer? {
        try await db.query(
            """
            SELECT \(sql: Self.columns) FROM customers c
            WHERE c.dealer_id = \(dealerID) AND c.phone = \(phone) AND c.deleted_at IS NULL
            """
        ).first(named: Self.decode)
    }

    /// The dealer of a customer in scope, deleted or not (an audit trail outlives the customer).
    public func dealerOf(id: UUID, scope: TenantScope, includingDeleted: Bool, in db: some PostgresQueryable) async throws
        -> UUID?
    {
        try await db.queryFirst(
            """
            SELECT dealer_id FROM customers
            WHERE \(fragment: scope.condition()) AND id = \(id) AND (\(includingDeleted) OR deleted_at IS NULL)
            """
        )?.decode(0, as: UUID.self)
    }

    /// Newest first; by name when searching a name prefix.
    public func list(scope: TenantScope, filter: CustomerFilter, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<Customer>
    {
        var query: PostgresQuery = """
            SELECT \(sql: Self.columns) FROM customers c
            WHERE \(fragment: scope.pageCondition("c.dealer_id")) AND c.deleted_at IS NULL
            """
        if let phone = filter.phone { query.append(" AND c.phone = \(phone)") }
        if let kind = filter.kind { query.append(" AND c.kind = \(constant: kind)") }
        if let tag = filter.tag { query.append(" AND c.tags @> ARRAY[\(tag)]::text[]") }
        if filter.plate != nil || filter.vin != nil {
            query.append(
                """
                 AND (c.dealer_id, c.id) IN (
                    SELECT o.dealer_id, o.customer_id FROM vehicle_ownerships o
                    JOIN vehicles v ON v.dealer_id = o.dealer_id AND v.id = o.vehicle_id AND v.deleted_at IS NULL
                    WHERE o.owned_to IS NULL AND \(fragment: scope.pageCondition("o.dealer_id"))
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
                query.append(" AND (lower(c.name) COLLATE \"C\", c.id) > (\(values[0]), \(try cursor.uuid(1)))")
            }
            let rows = try await db.query(
                scope.page(query, alias: "c", order: "lower(c.name) COLLATE \"C\", c.id", limit: page.limit + 1)).map(named: Self.decode)
            return Page.from(rows, limit: page.limit, sort: "customers.name") {
                [$0.fields.name.lowercased(), $0.id.lowercasedText]
            }
        }
        if let cursor = page.cursor {
            _ = try cursor.values(for: "customers.created", count: 2)
            query.append(" AND (c.created_at, c.id) < (\(try cursor.timestamp(0)), \(try cursor.uuid(1)))")
        }
        let rows = try await db.query(
            scope.page(query, alias: "c", order: "c.created_at DESC, c.id DESC", limit: page.limit + 1)).map(named: Self.decode)
        return Page.from(rows, limit: page.limit, sort: "customers.created") {
            [Cursor.value(of: $0.createdAt), $0.id.lowercasedText]
        }
    }

    /// Stores the customer's fields (a customer locked with `lock`, at the version it was read). A
    /// phone another customer of the dealer has is `Duplicate<Customer>`.
    public func save(_ customer: Customer, now: Date, in tx: PostgresTransaction) async throws -> Customer {
        let f = customer.fields
        if let phone = f.phone, let holder = try await find(phone: phone, dealerID: customer.dealerID, in: tx),
            holder.id != customer.id
        {
            throw Duplicate(existing: holder)
        }
        return try await guardingUniqueness {
            try await tx.one(
                """
                UPDATE customers AS c SET kind = \(f.kind), name = \(f.name), surname = \(f.surname), gender = \(f.gender),
                    phone = \(f.phone), email = \(f.email), birthday = \(f.birthday),
                    address = \(try PostgresJSON.optional(f.address)), occupation = \(f.occupation),
                    employer = \(f.employer), income_band = \(f.incomeBand), hobbies = \(f.hobbies)::text[],
                    marital_status = \(f.maritalStatus), children = \(f.children), fleet_category = \(f.fleetCategory),
                    fleet_agreement_ends = \(f.fleetAgreementEnds), preferred_brands = \(f.preferredBrands)::text[],
                    preferences = \(try PostgresJSON(encoding: f.preferences)), tags = \(f.tags)::text[], notes = \(f.notes),
                    updated_at = \(now), version = c.version + 1
                WHERE c.dealer_id = \(customer.dealerID) AND c.id = \(customer.id) AND c.version = \(customer.version)
                RETURNING \(sql: Self.columns)
                """, orElse: .lostLock, Self.decode)
        }
    }

    /// Soft-deletes a locked customer (hidden from reads and lists; history and statistics keep
    /// their rows).
    public func delete(_ customer: Customer, now: Date, in tx: PostgresTransaction) async throws -> Customer {
        try await tx.one(
            """
            UPDATE customers AS c SET deleted_at = \(now), updated_at = \(now), version = c.version + 1
            WHERE c.dealer_id = \(customer.dealerID) AND c.id = \(customer.id) AND c.version = \(customer.version)
            RETURNING \(sql: Self.columns)
            """, orElse: .lostLock, Self.decode)
    }

    /// Anonymises: personal fields replaced by `CustomerFields.erased()`, `erased_at` set. The
    /// row, its vehicles, consents history and statistics stay.
    public func erase(_ customer: Customer, now: Date, in tx: PostgresTransaction) async throws -> Customer {
        let f = customer.fields.erased()
        return try await tx.one(
            """
            UPDATE customers AS c SET name = \(f.name), surname = NULL, gender = NULL, phone = NULL, email = NULL,
                birthday = NULL, address = NULL, occupation = NULL, employer = NULL, income_band = NULL,
                hobbies = '{}', marital_status = NULL, children = NULL, fleet_agreement_ends = NULL,
                preferred_brands = '{}', preferences = '{}', tags = '{}', notes = NULL,
                erased_at = \(now), updated_at = \(now), version = c.version + 1
            WHERE c.dealer_id = \(customer.dealerID) AND c.id = \(customer.id)
            RETURNING \(sql: Self.columns)
            """, orElse: .lostLock, Self.decode)
    }
}

extension Optional {
    /// The async counterpart of `map`.
    public func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
