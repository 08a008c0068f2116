public import CRMDomain
public import Foundation
public import PostgresClient

/// OEM groups, dealers and API keys.
public struct AccessRepository: Sendable {
    public init() {}

    // MARK: Groups

    public func insertGroup(id: UUID, name: String, now: Date, in db: some PostgresQueryable) async throws -> OEMGroup {
        try await db.execute("INSERT INTO oem_groups (id, name, created_at) VALUES (\(id), \(name), \(now))")
        return OEMGroup(id: id, name: name, createdAt: now)
    }

    public func group(id: UUID, in db: some PostgresQueryable) async throws -> OEMGroup? {
        try await db.query("SELECT id, name, created_at FROM oem_groups WHERE id = \(id)").first(named: { r in
            OEMGroup(id: try r("id"), name: try r("name"), createdAt: try r("created_at"))
        })
    }

    // MARK: Dealers

    static let dealerColumns: StaticString =
        "id, group_id, name, brands, region, time_zone, settings, created_at, updated_at, version"

    static func decodeDealer(_ r: inout PostgresNamedRow) throws -> Dealer {
        Dealer(
            id: try r("id"), groupID: try r("group_id"),
            fields: DealerFields(
                name: try r("name"), brands: try r("brands"), region: try r("region"), timeZone: try r("time_zone"),
                settings: try r.json("settings") ?? DealerSettings()),
            createdAt: try r("created_at"), updatedAt: try r("updated_at"), version: try r("version"))
    }

    public func insertDealer(id: UUID, groupID: UUID, fields: DealerFields, now: Date, in db: some PostgresQueryable)
        async throws -> Dealer
    {
        try await db.one(
            """
            INSERT INTO dealers (id, group_id, name, brands, region, time_zone, settings, created_at, updated_at)
            VALUES (\(id), \(groupID), \(fields.name), \(fields.brands), \(fields.region), \(fields.timeZone),
                    \(try PostgresJSON(encoding: fields.settings)), \(now), \(now))
            RETURNING \(sql: Self.dealerColumns)
            """, orElse: .noRowReturned, Self.decodeDealer)
    }

    /// A dealer visible to the caller (its own, or one of its group's).
    public func dealer(id: UUID, visibleTo scope: TenantScope, in db: some PostgresQueryable) async throws -> Dealer? {
        try await db.query(
            "SELECT \(sql: Self.dealerColumns) FROM dealers WHERE \(fragment: scope.condition("id")) AND id = \(id)"
        ).first(named: Self.decodeDealer)
    }

    /// A dealer by id, whoever asks (the caller has checked its right to it, or it is the system).
    public func dealer(id: UUID, in db: some PostgresQueryable) async throws -> Dealer? {
        try await db.query("SELECT \(sql: Self.dealerColumns) FROM dealers WHERE id = \(id)").first(named: Self.decodeDealer)
    }

    /// Locks a dealer visible to the caller for a change.
    public func lockDealer(id: UUID, visibleTo scope: TenantScope, in tx: PostgresTransaction) async throws -> Dealer? {
        try await tx.query(
            "SELECT \(sql: Self.dealerColumns) FROM dealers WHERE \(fragment: scope.condition("id")) AND id = \(id) FOR UPDATE"
        ).first(named: Self.decodeDealer)
    }

    /// Every dealer's id and time zone (per-dealer periodic jobs run in the dealer's calendar).
    public func dealerTimeZones(in db: some PostgresQueryable) async throws -> [(id: UUID, timeZone: String)] {
        try await db.query("SELECT id, time_zone FROM dealers ORDER BY id").map {
            (try $0.decode(0, as: UUID.self), try $0.decode(1, as: String.self))
        }
    }

    public func dealers(visibleTo scope: TenantScope, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<Dealer>
    {
        var query: PostgresQuery = "SELECT \(sql: Self.dealerColumns) FROM dealers WHERE \(fragment: scope.condition("id"))"
        if let cursor = page.cursor {
            let values = try cursor.values(for: "dealers", count: 2)
            query.append(" AND (name, id) > (\(values[0]), \(try cursor.uuid(1)))")
        }
        query.append(" ORDER BY name, id LIMIT \(limit: page.limit + 1)")
        let rows = try await db.query(query).map(named: Self.decodeDealer)
        return Page.from(rows, limit: page.limit, sort: "dealers") { [$0.fields.name, $0.id.lowercasedText] }
    }

    /// Stores a locked dealer's fields.
    public func saveDealer(_ dealer: Dealer, now: Date, in tx: PostgresTransaction) async throws -> Dealer {
        let f = dealer.fields
        return try await tx.one(
            """
            UPDATE dealers SET name = \(f.name), brands = \(f.brands), region = \(f.region), time_zone = \(f.timeZone),
                   settings = \(try PostgresJSON(encoding: f.settings)), updated_at = \(now), version = version + 1
            WHERE id = \(dealer.id) AND version = \(dealer.version)
            RETURNING \(sql: Self.dealerColumns)
            """, orElse: .lostLock, Self.decodeDealer)
    }

    // MARK: API keys

    static let keyColumns: StaticString = """
        k.id, k.group_id, k.dealer_id, k.role, k.name, k.prefix, k.staff_id, k.created_at, k.created_by_key_id, \
        k.expires_at, k.revoked_at, k.last_used_at, \
        (SELECT s.active FROM staff s WHERE s.dealer_id = k.dealer_id AND s.id = k.staff_id) AS staff_active
        """

    static func decodeKey(_ r: inout PostgresNamedRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try r("id"), groupID: try r("group_id"), dealerID: try r("dealer_id"), role: try r("role"), name: try r("name"),
            prefix: try r("prefix"), staffID: try r("staff_id"), staffActive: try r("staff_active"),
            createdAt: try r("created_at"), createdByKeyID: try r("created_by_key_id"), expiresAt: try r("expires_at"),
            revokedAt: try r("revoked_at"), lastUsedAt: try r("last_used_at"))
    }

    public func insertKey(
        _ key: APIKeyRecord, secretHash: [UInt8], in db: some PostgresQueryable
    ) async throws -> APIKeyRecord {
        try await db.one(
            """
            INSERT INTO api_keys AS k (id, group_id, dealer_id, role, name, prefix, secret_hash, staff_id,
                                       created_by_key_id, expires_at, created_at)
            VALUES (\(key.id), \(key.groupID), \(key.dealerID), \(key.role), \(key.name), \(key.prefix),
                    \(PostgresBytes(secretHash)), \(key.staffID), \(key.createdByKeyID), \(key.expiresAt), \(key.createdAt))
            RETURNING \(sql: Self.keyColumns)
            """, orElse: .noRowReturned, Self.decodeKey)
    }

    /// The key with this secret hash, whatever its state (the caller checks expiry/revocation).
    public func key(secretHash: [UInt8], in db: some PostgresQueryable) async throws -> APIKeyRecord? {
        try await db.query(
            "SELECT \(sql: Self.keyColumns) FROM api_keys k WHERE k.secret_hash = \(PostgresBytes(secretHash))"
        ).first(named: Self.decodeKey)
    }

    /// Keys the caller administers: a dealer admin its dealer's keys; a group admin every key of
    /// its group.
    public func keys(visibleTo scope: KeyScope, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<APIKeyRecord>
    {
        var query: PostgresQuery = "SELECT \(sql: Self.keyColumns) FROM api_keys k WHERE \(fragment: scope.condition)"
        if let cursor = page.cursor {
            _ = try cursor.values(for: "keys", count: 2)
            query.append(" AND (k.created_at, k.id) > (\(try cursor.timestamp(0)), \(try cursor.uuid(1)))")
        }
        query.append(" ORDER BY k.created_at, k.id LIMIT \(limit: page.limit + 1)")
        let rows = try await db.query(query).map(named: Self.decodeKey)
        return Page.from(rows, limit: page.limit, sort: "keys") { [Cursor.value(of: $0.createdAt), $0.id.lowercasedText] }
    }

    public func key(id: UUID, visibleTo scope: KeyScope, in db: some PostgresQueryable) async throws -> APIKeyRecord? {
        try await db.query(
            "SELECT \(sql: Self.keyColumns) FROM api_keys k WHERE \(fragment: scope.condition) AND k.id = \(id)"
        ).first(named: Self.decodeKey)
    }

    /// Revokes a key (idempotent: a revoked key keeps its first revocation time).
    public func revokeKey(id: UUID, visibleTo scope: KeyScope, now: Date, in db: some PostgresQueryable) async throws
        -> APIKeyRecord?
    {
        try await db.query(
            """
            UPDATE api_keys AS k SET revoked_at = coalesce(k.revoked_at, \(now))
            WHERE \(fragment: scope.condition) AND k.id = \(id)
            RETURNING \(sql: Self.keyColumns)
            """
        ).first(named: Self.decodeKey)
    }

    /// Records when keys were last used (batched by the caller; never moves the time back).
    public func touchKeys(_ uses: [(UUID, Date)], in db: some PostgresQueryable) async throws {
        guard !uses.isEmpty else { return }
        try await db.execute(
            """
            UPDATE api_keys k SET last_used_at = greatest(k.last_used_at, u.at)
            FROM unnest(\(uses.map(\.0))::uuid[], \(uses.map(\.1))::timestamptz[]) AS u(id, at)
            WHERE k.id = u.id
            """)
    }
}

/// Which keys an admin may see and manage.
public enum KeyScope: Sendable {
    case dealer(UUID)
    case group(UUID)

    var condition: PostgresQuery {
        switch self {
        case .dealer(let id): return "k.dealer_id = \(id)"
        case .group(let id): return "k.group_id = \(id)"
        }
    }
}


