public import CRMDomain
public import Foundation
public import PostgresClient

/// Service visits (repair orders) and the dealers' maintenance schedules.
public struct ServiceVisitRepository: Sendable {
    public init() {}

    static let columns: StaticString = """
        s.dealer_id, s.id, s.vehicle_id, s.customer_id, s.repair_order_number, s.type, s.opened_at, s.closed_at, \
        s.odometer_km, s.line_items, s.currency, s.advisor_id, s.notes, s.created_at, s.updated_at, s.version
        """

    static func decode(_ r: inout PostgresNamedRow) throws -> ServiceVisit {
        let customerID: UUID = try r("customer_id")
        let fields = ServiceVisitFields(
            vehicleID: try r("vehicle_id"), customerID: customerID, repairOrderNumber: try r("repair_order_number"),
            type: try r("type"), openedAt: try r("opened_at"), closedAt: try r("closed_at"), odometerKm: try r("odometer_km"),
            lineItems: try r.json("line_items") ?? [], currency: try r("currency"), advisorID: try r("advisor_id"),
            notes: try r("notes"))
        return ServiceVisit(
            id: try r("id"), dealerID: try r("dealer_id"), fields: fields, customerID: customerID, createdAt: try r("created_at"),
            updatedAt: try r("updated_at"), version: try r("version"))
    }

    public func find(id: UUID, scope: TenantScope, in db: some PostgresQueryable) async throws -> ServiceVisit? {
        try await db.query(
            "SELECT \(sql: Self.columns) FROM service_visits s WHERE \(fragment: scope.condition("s.dealer_id")) AND s.id = \(id)"
        ).first(named: Self.decode)
    }

    public func lock(id: UUID, scope: TenantScope, in tx: PostgresTransaction) async throws -> ServiceVisit? {
        try await tx.query(
            """
            SELECT \(sql: Self.columns) FROM service_visits s WHERE \(fragment: scope.condition("s.dealer_id")) AND s.id = \(id)
            FOR UPDATE
            """
        ).first(named: Self.decode)
    }

    /// The visit with this repair-order number at the dealer, locked.
    public func lock(repairOrderNumber: String, dealerID: UUID, in tx: PostgresTransaction) async throws -> ServiceVisit? {
        try await tx.query(
            """
            SELECT \(sql: Self.columns) FROM service_visits s
            WHERE s.dealer_id = \(dealerID) AND s.repair_order_number = \(repairOrderNumber) FOR UPDATE
            """
        ).first(named: Self.decode)
    }

    /// Inserts a visit; nil when another transaction inserted its repair-order number first.
    public func insert(_ visit: ServiceVisit, openedOn: LocalDate, in tx: PostgresTransaction) async throws -> ServiceVisit? {
        let f = visit.fields
        return try await tx.query(
            """
            INSERT INTO service_visits AS s (dealer_id, id, vehicle_id, customer_id, repair_order_number, type, opened_at,
                closed_at, opened_on, odometer_km, line_items, total_minor, currency, advisor_id, notes, created_at, updated_at)
            VALUES (\(visit.dealerID), \(visit.id), \(f.vehicleID), \(visit.customerID), \(f.repairOrderNumber), \(f.type),
                \(f.openedAt), \(f.closedAt), \(openedOn), \(f.odometerKm), \(try PostgresJSON(encoding: f.lineItems)), \(f.totalMinor),
                \(f.currency), \(f.advisorID), \(f.notes), \(visit.createdAt), \(visit.updatedAt))
            ON CONFLICT (dealer_id, repair_order_number) DO NOTHING
            RETURNING \(sql: Self.columns)
            """
        ).first(named: Self.decode)
    }

    public func save(_ visit: ServiceVisit, openedOn: LocalDate, now: Date, in tx: PostgresTransaction) async throws -> ServiceVisit {
        let f = visit.fields
        return try await tx.one(
            """
            UPDATE service_visits AS s SET vehicle_id = \(f.vehicleID), customer_id = \(visit.customerID),
                repair_order_number = \(f.repairOrderNumber), type = \(f.type), opened_at = \(f.openedAt), closed_at = \(f.closedAt),
                opened_on = \(openedOn), odometer_km = \(f.odometerKm), line_items = \(try PostgresJSON(encoding: f.lineItems)),
                total_minor = \(f.totalMinor), currency = \(f.currency), advisor_id = \(f.advisorID), notes = \(f.notes),
                updated_at = \(now), version = s.version + 1
            WHERE s.dealer_id = \(visit.dealerID) AND s.id = \(visit.id) AND s.version = \(visit.version)
            RETURNING \(sql: Self.columns)
            """, orElse: .lostLock, Self.decode)
    }

    public func list(scope: TenantScope, filter: ServiceVisitFilter, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<ServiceVisit>
    {
        var query: PostgresQuery = "SELECT \(sql: Self.columns) FROM service_visits s WHERE \(fragment: scope.pageCondition("s.dealer_id"))"
        if let vehicle = filter.vehicleID { query.append(" AND s.vehicle_id = \(vehicle)") }
        if let customer = filter.customerID { query.append(" AND s.customer_id = \(customer)") }
        if let advisor = filter.advisorID { query.append(" AND s.advisor_id = \(advisor)") }
        if let type = filter.type { query.append(" AND s.type = \(constant: type)") }
        if let from = filter.openedFrom { query.append(" AND s.opened_on >= \(from)") }
        if let to = filter.openedTo { query.append(" AND s.opened_on <= \(to)") }
        if let number = filter.repairOrderNumber { query.append(" AND s.repair_order_number = \(number)") }
        if let cursor = page.cursor {
            _ = try cursor.values(for: "service_visits.opened", count: 2)
            query.append(" AND (s.opened_at, s.id) < (\(try cursor.timestamp(0)), \(try cursor.uuid(1)))")
        }
        let rows = try await db.query(
            scope.page(query, alias: "s", order: "s.opened_at DESC, s.id DESC", limit: page.limit + 1)).map(named: Self.decode)
        return Page.from(rows, limit: page.limit, sort: "service_visits.opened") {
            [Cursor.value(of: $0.fields.openedAt), $0.id.lowercasedText]
        }
    }

    /// A visit answers the reminders it comes after: a service reminder of its vehicle (or a
    /// customer's reminder of its customer) that went out, due within the return window before
    /// the visit or after it, is `responded`; a call task that booked it links it.
    public func answerReminders(_ visit: ServiceVisit, openedOn: LocalDate, returnWindowDays: Int, in tx: PostgresTransaction)
        async throws
    {
        try await tx.execute(
            """
            UPDATE reminders r SET status = 'responded', responded_visit_id = \(visit.id)
            WHERE r.dealer_id = \(visit.dealerID) AND r.status IN ('queued', 'sent')
              AND (r.vehicle_id = \(visit.fields.vehicleID) OR (r.vehicle_id IS NULL AND r.customer_id = \(visit.customerID)))
              AND r.send_date <= \(openedOn) AND r.due_date + \(returnWindowDays)::int >= \(openedOn)
            """)
        try await tx.execute(
            """
            UPDATE call_tasks SET visit_id = \(visit.id)
            WHERE dealer_id = \(visit.dealerID) AND vehicle_id = \(visit.fields.vehicleID) AND outcome = 'booked'
              AND visit_id IS NULL
            """)
    }

    /// Latest visits of a customer, newest first (the 360 view).
    public func recent(customerID: UUID, dealerID: UUID, limit: Int, in db: some PostgresQueryable) async throws -> [ServiceVisit] {
        try await db.query(
            """
            SELECT \(sql: Self.columns) FROM service_visits s WHERE s.dealer_id = \(dealerID) AND s.customer_id = \(customerID)
            ORDER BY s.opened_on DESC, s.id DESC LIMIT \(limit: limit)
            """
        ).map(named: Self.decode)
    }

    /// Ends a vehicle's open recall (a recall-campaign visit did the work).
    public func closeRecall(vehicleID: UUID, dealerID: UUID, now: Date, in tx: PostgresTransaction) async throws {
        try await tx.execute(
            """
            UPDATE vehicles SET open_recall = false, recall_opened_on = NULL, updated_at = \(now), version = version + 1
            WHERE dealer_id = \(dealerID) AND id = \(vehicleID) AND open_recall
            """)
    }

    // MARK: Schedules

    static let scheduleColumns: StaticString =
        "dealer_id, id, brand, series, first_km, first_months, interval_km, interval_months, updated_at"

    static func decodeSchedule(_ r: inout PostgresNamedRow) throws -> MaintenanceSchedule {
        MaintenanceSchedule(
            id: try r("id"), dealerID: try r("dealer_id"), brand: try r("brand"), series: try r("series"),
            firstKm: try r("first_km"), firstMonths: try r("first_months"), intervalKm: try r("interval_km"),
            intervalMonths: try r("interval_months"), updatedAt: try r("updated_at"))
    }

    public func schedules(scope: TenantScope, in db: some PostgresQueryable) async throws -> [MaintenanceSchedule] {
        try await db.query(
            """
            SELECT \(sql: Self.scheduleColumns) FROM maintenance_schedules WHERE \(fragment: scope.condition())
            ORDER BY dealer_id, brand NULLS FIRST, series NULLS FIRST
            """
        ).map(named: Self.decodeSchedule)
    }

    /// Stores the schedule of its scope (dealer, brand, series), replacing the one there was.
    public func put(_ schedule: MaintenanceSchedule, in tx: PostgresTransaction) async throws -> MaintenanceSchedule {
        try await tx.one(
            """
            INSERT INTO maintenance_schedules (dealer_id, id, brand, series, first_km, first_months, interval_km, interval_months,
                updated_at)
            VALUES (\(schedule.dealerID), \(schedule.id), \(schedule.brand), \(schedule.series), \(schedule.firstKm),
                \(schedule.firstMonths), \(schedule.intervalKm), \(schedule.intervalMonths), \(schedule.updatedAt))
            ON CONFLICT (dealer_id, lower(coalesce(brand, '')), lower(coalesce(series, ''))) DO UPDATE
                SET first_km = excluded.first_km, first_months = excluded.first_months, interval_km = excluded.interval_km,
                    interval_months = excluded.interval_months, updated_at = excluded.updated_at
            RETURNING \(sql: Self.scheduleColumns)
            """, orElse: .noRowReturned, Self.decodeSchedule)
    }

    public func deleteSchedule(id: UUID, scope: TenantScope, in tx: PostgresTransaction) async throws -> MaintenanceSchedule? {
        try await tx.query(
            """
            DELETE FROM maintenance_schedules WHERE \(fragment: scope.condition()) AND id = \(id)
            RETURNING \(sql: Self.scheduleColumns)
            """
        ).first(named: Self.decodeSchedule)
    }
}
