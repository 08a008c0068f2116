public import CRMDomain
public import Foundation
public import PostgresClient

/// Call tasks: the phone reminders the advisors work.
public struct CallTaskRepository: Sendable {
    public init() {}

    static let columns: StaticString = """
        t.dealer_id, t.id, t.reminder_id, t.customer_id, t.vehicle_id, t.kind, t.advisor_id, t.due_date, t.status, t.outcome, \
        t.booked_date, t.attempts, t.notes, t.visit_id, t.created_at, t.updated_at, t.version
        """

    static func decode(_ r: inout PostgresNamedRow) throws -> CallTask {
        CallTask(
            id: try r("id"), dealerID: try r("dealer_id"), reminderID: try r("reminder_id"), customerID: try r("customer_id"),
            vehicleID: try r("vehicle_id"), kind: try r("kind"), advisorID: try r("advisor_id"), dueDate: try r("due_date"),
            status: try r("status"), outcome: try r("outcome"), bookedDate: try r("booked_date"), attempts: try r("attempts"),
            notes: try r("notes"), visitID: try r("visit_id"), createdAt: try r("created_at"), updatedAt: try r("updated_at"),
            version: try r("version"))
    }

    /// Creates the call tasks of phone reminders (one statement).
    public func insert(_ tasks: [CallTask], in tx: PostgresTransaction) async throws {
        guard let dealerID = tasks.first?.dealerID else { return }
        try await tx.execute(
            """
            INSERT INTO call_tasks (dealer_id, id, reminder_id, customer_id, vehicle_id, kind, advisor_id, due_date, status, created_at,
                updated_at)
            SELECT \(dealerID), u.id, u.reminder_id, u.customer_id, u.vehicle_id, u.kind, u.advisor_id, u.due_date, 'open', u.created_at,
                   u.created_at
            FROM unnest(\(tasks.map(\.id))::uuid[], \(tasks.map(\.reminderID))::uuid[], \(tasks.map(\.customerID))::uuid[],
                        \(tasks.map(\.vehicleID))::uuid[], \(tasks.map(\.kind.rawValue))::text[], \(tasks.map(\.advisorID))::uuid[],
                        \(tasks.map(\.dueDate))::date[], \(tasks.map(\.createdAt))::timestamptz[])
                 AS u(id, reminder_id, customer_id, vehicle_id, kind, advisor_id, due_date, created_at)
            ON CONFLICT (dealer_id, reminder_id) DO NOTHING
            """)
    }

    public func find(id: UUID, scope: TenantScope, in db: some PostgresQueryable) async throws -> CallTask? {
        try await db.query(
            "SELECT \(sql: Self.columns) FROM call_tasks t WHERE \(fragment: scope.condition("t.dealer_id")) AND t.id = \(id)"
        ).first(named: Self.decode)
    }

    public func lock(id: UUID, scope: TenantScope, in tx: PostgresTransaction) async throws -> CallTask? {
        try await tx.query(
            "SELECT \(sql: Self.columns) FROM call_tasks t WHERE \(fragment: scope.condition("t.dealer_id")) AND t.id = \(id) FOR UPDATE"
        ).first(named: Self.decode)
    }

    public func save(_ task: CallTask, now: Date, in tx: PostgresTransaction) async throws -> CallTask {
        try await tx.one(
            """
            UPDATE call_tasks AS t SET advisor_id = \(task.advisorID), status = \(task.status), outcome = \(task.outcome),
                booked_date = \(task.bookedDate), attempts = \(task.attempts), notes = \(task.notes), updated_at = \(now),
                version = t.version + 1
            WHERE t.dealer_id = \(task.dealerID) AND t.id = \(task.id) AND t.version = \(task.version)
            RETURNING \(sql: Self.columns)
            """, orElse: .lostLock, Self.decode)
    }

    /// Open tasks earliest due first (an advisor's own and the pool's, or everyone's), or all
    /// tasks newest first. `today` is the dealer's date at `now` when the scope is one dealer,
    /// else computed per row in each dealer's time zone.
    public func list(
        scope: TenantScope, filter: CallTaskFilter, advisorOnly: UUID?, today: LocalDate?, now: Date, page: PageRequest,
        in db: some PostgresQueryable
    ) async throws -> Page<CallTask> {
        var query: PostgresQuery = "SELECT \(sql: Self.columns) FROM call_tasks t WHERE \(fragment: scope.pageCondition("t.dealer_id"))"
        if let advisor = advisorOnly { query.append(" AND (t.advisor_id = \(advisor) OR t.advisor_id IS NULL)") }
        if let advisor = filter.advisorID { query.append(" AND t.advisor_id = \(advisor)") }
        if filter.pool { query.append(" AND t.advisor_id IS NULL") }
        if let status = filter.status { query.append(" AND t.status = \(constant: status)") }
        if filter.due || filter.status == .open {
            query.append(" AND t.status = 'open'")
            if filter.due { query.append(" AND t.due_date <= \(fragment: dealerToday(today, now: now, dealerColumn: "t.dealer_id"))") }
            if let cursor = page.cursor {
                _ = try cursor.values(for: "call_tasks.due", count: 2)
                query.append(" AND (t.due_date, t.id) > (\(try cursor.date(0)), \(try cursor.uuid(1)))")
            }
            let rows = try await db.query(
                scope.page(query, alias: "t", order: "t.due_date, t.id", limit: page.limit + 1)).map(named: Self.decode)
            return Page.from(rows, limit: page.limit, sort: "call_tasks.due") { [$0.dueDate.description, $0.id.lowercasedText] }
        }
        if let cursor = page.cursor {
            _ = try cursor.values(for: "call_tasks.created", count: 2)
            query.append(" AND (t.created_at, t.id) < (\(try cursor.timestamp(0)), \(try cursor.uuid(1)))")
        }
        let rows = try await db.query(
            scope.page(query, alias: "t", order: "t.created_at DESC, t.id DESC", limit: page.limit + 1)).map(named: Self.decode)
        return Page.from(rows, limit: page.limit, sort: "call_tasks.created") { [Cursor.value(of: $0.createdAt), $0.id.lowercasedText] }
    }
}
