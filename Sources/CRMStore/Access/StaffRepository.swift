public import CRMDomain
public import Foundation
public import PostgresClient

/// Sales consultants, service advisors, CRM staff and managers of a dealer.
public struct StaffRepository: Sendable {
    public init() {}

    static let columns: StaticString = "id, dealer_id, name, function, phone, email, active, created_at, updated_at, version"

    static func decode(_ row: PostgresRow) throws -> StaffMember {
        StaffMember(
            id: try row.decode(0), dealerID: try row.decode(1),
            fields: StaffFields(
                name: try row.decode(2), function: try row.decode(3), phone: try row.decode(4), email: try row.decode(5),
                active: try row.decode(6)),
            createdAt: try row.decode(7), updatedAt: try row.decode(8), version: try row.decode(9))
    }

    public func insert(id: UUID, dealerID: UUID, fields: StaffFields, in db: some PostgresQueryable) async throws
        -> StaffMember
    {
        let row = try await db.queryFirst(
            """
            INSERT INTO staff (dealer_id, id, name, function, phone, email, active)
            VALUES (\(dealerID), \(id), \(fields.name), \(fields.function), \(fields.phone), \(fields.email), \(fields.active))
            RETURNING \(sql: Self.columns)
            """)
        guard let row else { throw RepositoryError.noRowReturned }
        return try Self.decode(row)
    }

    public func find(id: UUID, scope: TenantScope, in db: some PostgresQueryable) async throws -> StaffMember? {
        try await db.queryFirst(
            "SELECT \(sql: Self.columns) FROM staff WHERE \(fragment: scope.condition()) AND id = \(id)"
        ).map(Self.decode)
    }

    public struct Filter: Sendable {
        public var function: StaffFunction?
        public var active: Bool?
        public init(function: StaffFunction? = nil, active: Bool? = nil) {
            self.function = function
            self.active = active
        }
    }

    public func list(scope: TenantScope, filter: Filter, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<StaffMember>
    {
        var query: PostgresQuery = "SELECT \(sql: Self.columns) FROM staff WHERE \(fragment: scope.condition())"
        if let function = filter.function { query.append(" AND function = \(function)") }
        if let active = filter.active { query.append(" AND active = \(active)") }
        if let cursor = page.cursor {
            let values = try cursor.values(for: "staff", count: 2)
            guard let id = UUID(uuidString: values[1]) else { throw CursorError() }
            query.append(" AND (name, id) > (\(values[0]), \(id))")
        }
        query.append(" ORDER BY name, id LIMIT \(page.limit + 1)")
        let rows = try await db.query(query).map(Self.decode)
        return Page.from(rows, limit: page.limit, sort: "staff") { [$0.fields.name, $0.id.uuidString] }
    }

    public func update(
        id: UUID, expectedVersion: Int, fields: StaffFields, scope: TenantScope, in db: some PostgresQueryable
    ) async throws -> VersionedUpdate<StaffMember> {
        let row = try await db.queryFirst(
            """
            UPDATE staff SET name = \(fields.name), function = \(fields.function), phone = \(fields.phone),
                   email = \(fields.email), active = \(fields.active), version = version + 1
            WHERE \(fragment: scope.condition()) AND id = \(id) AND version = \(expectedVersion)
            RETURNING \(sql: Self.columns)
            """)
        if let row { return .updated(try Self.decode(row)) }
        return try await find(id: id, scope: scope, in: db) == nil ? .notFound : .stale
    }
}
