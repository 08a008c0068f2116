public import CRMDomain
public import Foundation
public import PostgresClient

/// OEM groups, dealers and API keys.
public struct AccessRepository: Sendable {
    public init() {}

    // MARK: Groups

    public func insertGroup(id: UUID, name: String, in db: some PostgresQueryable) async throws -> OEMGroup {
        let row = try await db.queryFirst("INSERT INTO oem_groups (id, name) VALUES (\(id), \(name)) RETURNING created_at")
        return OEMGroup(id: id, name: name, createdAt: try row?.decode(0, as: Date.self) ?? Date())
    }

    public func group(id: UUID, in db: some PostgresQueryable) async throws -> OEMGroup? {
        guard let row = try await db.queryFirst("SELECT id, name, created_at FROM oem_groups WHERE id = \(id)") else {
            return nil
        }
        return OEMGroup(id: try row.decode(0), name: try row.decode(1), createdAt: try row.decode(2))
    }

    // MARK: Dealers

    static let dealerColumns: StaticString =
        "id, group_id, name, brands, region, time_zone, settings, created_at, updated_at, version"

    static func decodeDealer(_ row: PostgresRow) throws -> Dealer {
        Dealer(
            id: try row.decode(0), groupID: try row.decode(1),
            fields: DealerFields(
                name: try row.decode(2), brands: try row.decode(3), region: try row.decode(4), timeZone: try row.decode(5),
                settings: try row.decode(6, as: PostgresJSON.self).decode(DealerSettings.self)),
            createdAt: try row.decode(7), updatedAt: try row.decode(8), version: try row.decode(9))
    }

    public func insertDealer(id: UUID, groupID: UUID, fields: DealerFields, in db: some PostgresQueryable) async throws
        -> Dealer
    {
        let row = try await db.queryFirst(
            """
            INSERT INTO dealers (id, group_id, name, brands, region, time_zone, settings)
            VALUES (\(id), \(groupID), \(fields.name), \(fields.brands), \(fields.region), \(fields.timeZone),
                    \(try PostgresJSON(encoding: fields.settings)))
            RETURNING \(sql: Self.dealerColumns)
            """)
        guard let row else { throw RepositoryError.noRowReturned }
        return try Self.decodeDealer(row)
    }

    /// A dealer visible to the caller (its own, or one of its group's).
    public func dealer(id: UUID, visibleTo scope: TenantScope, in db: some PostgresQueryable) async throws -> Dealer? {
        try await db.queryFirst(
            "SELECT \(sql: Self.dealerColumns) FROM dealers WHERE \(fragment: scope.condition("id")) AND id = \(id)"
        ).map(Self.decodeDealer)
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
            guard let id = UUID(uuidString: values[1]) else { throw CursorError() }
            query.append(" AND (name, id) > (\(values[0]), \(id))")
        }
        query.append(" ORDER BY name, id LIMIT \(page.limit + 1)")
        let rows = try await db.query(query).map(Self.decodeDealer)
        return Page.from(rows, limit: page.limit, sort: "dealers") { [$0.fields.name, $0.id.uuidString] }
    }

    /// Optimistic update: only if the stored version is `expectedVersion`.
    public func updateDealer(
        id: UUID, expectedVersion: Int, fields: DealerFields, visibleTo scope: TenantScope, in db: some PostgresQueryable
    ) async throws -> VersionedUpdate<Dealer> {
        let row = try await db.queryFirst(
            """
            UPDATE dealers SET name = \(fields.name), brands = \(fields.brands), region = \(fields.region),
                   time_zone = \(fields.timeZone), settings = \(try PostgresJSON(encoding: fields.settings)),
                   version = version + 1
            WHERE \(fragment: scope.condition("id")) AND id = \(id) AND version = \(expectedVersion)
            RETURNING \(sql: Self.dealerColumns)
            """)
        if let row { return .updated(try Self.decodeDealer(row)) }
        return try await dealer(id: id, visibleTo: scope, in: db) == nil ? .notFound : .stale
    }

    // MARK: API keys

    static let keyColumns: StaticString = """
        id, group_id, dealer_id, role, name, prefix, staff_id, created_at, created_by_key_id, expires_at, \
        revoked_at, last_used_at
        """

    static func decodeKey(_ row: PostgresRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.decode(0), groupID: try row.decode(1), dealerID: try row.decode(2), role: try row.decode(3),
            name: try row.decode(4), prefix: try row.decode(5), staffID: try row.decode(6), createdAt: try row.decode(7),
            createdByKeyID: try row.decode(8), expiresAt: try row.decode(9), revokedAt: try row.decode(10),
            lastUsedAt: try row.decode(11))
    }

    public func insertKey(
        _ key: APIKeyRecord, secretHash: [UInt8], in db: some PostgresQueryable
    ) async throws -> APIKeyRecord {
        let row = try await db.queryFirst(
            """
            INSERT INTO api_keys (id, group_id, dealer_id, role, name, prefix, secret_hash, staff_id, created_by_key_id,
                                  expires_at)
            VALUES (\(key.id), \(key.groupID), \(key.dealerID), \(key.role), \(key.name), \(key.prefix),
                    \(PostgresBytes(secretHash)), \(key.staffID), \(key.createdByKeyID), \(key.expiresAt))
            RETURNING \(sql: Self.keyColumns)
            """)
        guard let row else { throw RepositoryError.noRowReturned }
        return try Self.decodeKey(row)
    }

    /// The key with this secret hash, whatever its state (the caller checks expiry/revocation).
    public func key(secretHash: [UInt8], in db: some PostgresQueryable) async throws -> APIKeyRecord? {
        try await db.queryFirst(
            "SELECT \(sql: Self.keyColumns) FROM api_keys WHERE secret_hash = \(PostgresBytes(secretHash))"
        ).map(Self.decodeKey)
    }

    /// Keys the caller administers: a dealer admin its dealer's keys; a group admin every key of
    /// its group.
    public func keys(visibleTo scope: KeyScope, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<APIKeyRecord>
    {
        var query: PostgresQuery = "SELECT \(sql: Self.keyColumns) FROM api_keys WHERE \(fragment: scope.condition)"
        if let cursor = page.cursor {
            let values = try cursor.values(for: "keys", count: 2)
            guard let id = UUID(uuidString: values[1]) else { throw CursorError() }
            query.append(" AND (created_at, id) > (\(values[0])::timestamptz, \(id))")
        }
        query.append(" ORDER BY created_at, id LIMIT \(page.limit + 1)")
        let rows = try await db.query(query).map(Self.decodeKey)
        return Page.from(rows, limit: page.limit, sort: "keys") { [CursorTime.text($0.createdAt), $0.id.uuidString] }
    }

    public func key(id: UUID, visibleTo scope: KeyScope, in db: some PostgresQueryable) async throws -> APIKeyRecord? {
        try await db.queryFirst(
            "SELECT \(sql: Self.keyColumns) FROM api_keys WHERE \(fragment: scope.condition) AND id = \(id)"
        ).map(Self.decodeKey)
    }

    /// Revokes a key (idempotent: a revoked key keeps its first revocation time).
    public func revokeKey(id: UUID, visibleTo scope: KeyScope, in db: some PostgresQueryable) async throws
        -> APIKeyRecord?
    {
        try await db.queryFirst(
            """
            UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
            WHERE \(fragment: scope.condition) AND id = \(id)
            RETURNING \(sql: Self.keyColumns)
            """
        ).map(Self.decodeKey)
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
        case .dealer(let id): return "dealer_id = \(id)"
        case .group(let id): return "group_id = \(id)"
        }
    }
}

/// The outcome of an optimistic (`version`-checked) update.
public enum VersionedUpdate<Value: Sendable>: Sendable {
    case updated(Value)
    /// The version did not match: someone changed it first (HTTP 412).
    case stale
    case notFound
}

public enum RepositoryError: Error, Sendable {
    /// An INSERT ... RETURNING returned nothing (cannot happen without a bug or a trigger).
    case noRowReturned
}
