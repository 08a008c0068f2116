public import CRMDomain
public import Foundation
public import PostgresClient

/// Sales consultants, service advisors, CRM staff and managers of a dealer.
public struct StaffRepository: Sendable {
    public init() {}

    static let columns: StaticString = "id, dealer_id, name, function, phone, email, active, created_at, updated_at, version"

    static func decode(_ r: inout PostgresNamedRow) throws -> StaffMember {
        StaffMember(
            id: try r("id"), dealerID: try r("dealer_id"),
            fields: StaffFields(
                name: try r("name"), function: try r("function"), phone: try r("phone"), email: try r("email"),
                active: try r("active")),
            createdAt: try r("created_at"), updatedAt: try r("updated_at"), version: try r("version"))
    }

    public func insert(id: UUID, dealerID: UUID, fields: StaffFields, now: Date, in db: some PostgresQueryable) async throws
        -> StaffMember
    {
        try await db.one(
            """
            INSERT INTO staff (dealer_id, id, name, function, phone, email, active, created_at, updated_at)
            VALUES (\(dealerID), \(id), \(fields.name), \(fields.function), \(fields.phone), \(fields.email),
                    \(fields.active), \(now), \(now))
            RETURNING \(sql: Self.columns)
            """, orElse: .noRowReturned, Self.decode)
    }

    public func find(id: UUID, scope: TenantScope, in db: some PostgresQueryable) async throws -> StaffMember? {
        try await db.query(
            "SELECT \(sql: Self.columns) FROM staff WHERE \(fragment: scope.condition()) AND id = \(id)"
        ).first(named: Self.decode)
    }

    /// Locks a staff member for a change.
    public func lock(id: UUID, scope: TenantScope, in tx: PostgresTransaction) async throws -> StaffMember? {
        try await tx.query(
            "SELECT \(sql: Self.columns) FROM staff WHERE \(fragment: scope.condition()) AND id = \(id) FOR UPDATE"
        ).first(named: Self.decode)
    }

    public func list(scope: TenantScope, filter: StaffFilter, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<StaffMember>
    {
        var query: PostgresQuery = "SELECT \(sql: Self.columns) FROM staff WHERE \(fragment: scope.condition())"
        if let function = filter.function { query.append(" AND function = \(constant: function)") }
        if let active = filter.active { query.append(" AND active = \(constant: active)") }
        if let cursor = page.cursor {
            let values = try cursor.values(for: "staff", count: 2)
            query.append(" AND (name, id) > (\(values[0]), \(try cursor.uuid(1)))")
        }
        query.append(" ORDER BY name, id LIMIT \(limit: page.limit + 1)")
        let rows = try await db.query(query).map(named: Self.decode)
        return Page.from(rows, limit: page.limit, sort: "staff") { [$0.fields.name, $0.id.lowercasedText] }
    }

    /// Stores a locked staff member's fields.
    public func save(_ member: StaffMember, now: Date, in tx: PostgresTransaction) async throws -> StaffMember {
        let f = member.fields
        return try await tx.one(
            """
            UPDATE staff SET name = \(f.name), function = \(f.function), phone = \(f.phone), email = \(f.email),
                   active = \(f.active), updated_at = \(now), version = version + 1
            WHERE dealer_id = \(member.dealerID) AND id = \(member.id) AND version = \(member.version)
            RETURNING \(sql: Self.columns)
            """, orElse: .lostLock, Self.decode)
    }

    /// Whether `staffID` is an active sales consultant of the dealer.
    public func isActiveConsultant(_ staffID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> Bool {
        try await db.queryFirst(
            "SELECT 1 FROM staff WHERE dealer_id = \(dealerID) AND id = \(staffID) AND function = 'sales' AND active"
        ) != nil
    }
}
