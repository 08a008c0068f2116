public import CRMDomain
public import Foundation
public import PostgresClient

/// What the forecast of one vehicle is computed from, read in bulk.
public struct ForecastInput: Sendable {
    public var vehicleID: UUID
    public var dealerID: UUID
    public var brand: String
    public var series: String?
    public var deliveryDate: LocalDate?
    public var readings: [ServiceForecast.Reading]
    /// The last maintenance (or first service) visit: its date and odometer figure.
    public var lastMaintenance: (date: LocalDate, km: Int?)?
    /// The last visit of any kind, and its advisor.
    public var lastVisitOn: LocalDate?
    public var lastAdvisorID: UUID?
}

/// A computed forecast as stored for the scan.
public struct StoredForecast: Sendable {
    public var vehicleID: UUID
    public var forecast: ServiceForecast
    public var lastVisitOn: LocalDate?
    public var lastAdvisorID: UUID?
    /// When the vehicle becomes dormant (`ReminderRules.dormantDue`), if it has a last-seen date.
    public var dormantOn: LocalDate?

    public init(vehicleID: UUID, forecast: ServiceForecast, lastVisitOn: LocalDate?, lastAdvisorID: UUID?, dormantOn: LocalDate?) {
        self.vehicleID = vehicleID
        self.forecast = forecast
        self.lastVisitOn = lastVisitOn
        self.lastAdvisorID = lastAdvisorID
        self.dormantOn = dormantOn
    }
}

/// The vehicles' stored service forecasts and the queue of those to recompute.
public struct ForecastRepository: Sendable {
    public init() {}

    /// Takes up to `limit` vehicles of the dealer off the recompute queue (rows another worker
    /// holds are skipped); they return to it if the transaction does not commit.
    public func takeQueued(dealerID: UUID, limit: Int, in tx: PostgresTransaction) async throws -> [UUID] {
        try await tx.query(
            """
            DELETE FROM service_forecast_queue q WHERE q.dealer_id = \(dealerID) AND q.vehicle_id IN (
                SELECT vehicle_id FROM service_forecast_queue WHERE dealer_id = \(dealerID)
                LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING q.vehicle_id
            """
        ).map { try $0.decode(0, as: UUID.self) }
    }

    /// Queues every vehicle of the dealer (a schedule or the settings changed).
    public func queueAll(dealerID: UUID, in db: some PostgresQueryable) async throws {
        try await db.execute(
            """
            INSERT INTO service_forecast_queue (dealer_id, vehicle_id)
            SELECT dealer_id, id FROM vehicles WHERE dealer_id = \(dealerID) AND deleted_at IS NULL
            ON CONFLICT DO NOTHING
            """)
    }

    /// The inputs of the given vehicles (deleted ones are left out).
    public func inputs(vehicleIDs: [UUID], dealerID: UUID, in db: some PostgresQueryable) async throws -> [ForecastInput] {
        try await db.query(
            """
            SELECT v.id, v.dealer_id, v.brand, v.series, v.delivery_date, r.read_ons, r.kms,
                   m.opened_on AS maintenance_on, m.odometer_km AS maintenance_km, l.opened_on AS last_visit_on,
                   l.advisor_id AS last_advisor_id
            FROM vehicles v
            LEFT JOIN LATERAL (
                SELECT array_agg(o.read_on ORDER BY o.read_on, o.km) AS read_ons, array_agg(o.km ORDER BY o.read_on, o.km) AS kms
                FROM odometer_readings o WHERE o.dealer_id = v.dealer_id AND o.vehicle_id = v.id
            ) r ON true
            LEFT JOIN LATERAL (
                SELECT s.opened_on, s.odometer_km FROM service_visits s
                WHERE s.dealer_id = v.dealer_id AND s.vehicle_id = v.id AND s.type IN ('maintenance', 'first_service')
                ORDER BY s.opened_on DESC, s.opened_at DESC LIMIT 1
            ) m ON true
            LEFT JOIN LATERAL (
                SELECT s.opened_on, s.advisor_id FROM service_visits s WHERE s.dealer_id = v.dealer_id AND s.vehicle_id = v.id
                ORDER BY s.opened_on DESC, s.opened_at DESC LIMIT 1
            ) l ON true
            WHERE v.dealer_id = \(dealerID) AND v.id = ANY(\(vehicleIDs)::uuid[]) AND v.deleted_at IS NULL
            """
        ).map(named: { r in
            let dates: [LocalDate] = try r("read_ons", as: [LocalDate]?.self) ?? []
            let kms: [Int] = try r("kms", as: [Int]?.self) ?? []
            let maintenanceOn: LocalDate? = try r("maintenance_on")
            return ForecastInput(
                vehicleID: try r("id"), dealerID: try r("dealer_id"), brand: try r("brand"), series: try r("series"),
                deliveryDate: try r("delivery_date"),
                readings: zip(dates, kms).map { ServiceForecast.Reading(readOn: $0.0, km: $0.1) },
                lastMaintenance: try maintenanceOn.map { ($0, try r("maintenance_km", as: Int?.self)) },
                lastVisitOn: try r("last_visit_on"), lastAdvisorID: try r("last_advisor_id"))
        })
    }

    /// Stores computed forecasts (one statement for the batch).
    public func save(_ forecasts: [StoredForecast], dealerID: UUID, now: Date, in tx: PostgresTransaction) async throws {
        guard !forecasts.isEmpty else { return }
        let f = forecasts.map(\.forecast)
        try await tx.execute(
            """
            INSERT INTO service_forecasts (dealer_id, vehicle_id, step, due_date, due_km, km_per_day, rate_source, basis, base_date,
                base_km, last_reading_on, last_reading_km, last_visit_on, last_advisor_id, dormant_on, computed_at)
            SELECT \(dealerID), u.vehicle_id, u.step, u.due_date, u.due_km, u.km_per_day, u.rate_source, u.basis, u.base_date,
                   u.base_km, u.last_reading_on, u.last_reading_km, u.last_visit_on, u.last_advisor_id, u.dormant_on, \(now)
            FROM unnest(\(forecasts.map(\.vehicleID))::uuid[], \(f.map(\.step.rawValue))::text[], \(f.map(\.dueDate))::date[],
                        \(f.map(\.dueKm))::int[], \(f.map(\.kmPerDay))::float8[], \(f.map(\.rateSource.rawValue))::text[],
                        \(f.map { $0.basis?.rawValue })::text[], \(f.map(\.baseDate))::date[], \(f.map(\.baseKm))::int[],
                        \(f.map { $0.used.last?.readOn })::date[], \(f.map { $0.used.last?.km })::int[],
                        \(forecasts.map(\.lastVisitOn))::date[], \(forecasts.map(\.lastAdvisorID))::uuid[],
                        \(forecasts.map(\.dormantOn))::date[])
                 AS u(vehicle_id, step, due_date, due_km, km_per_day, rate_source, basis, base_date, base_km, last_reading_on,
                      last_reading_km, last_visit_on, last_advisor_id, dormant_on)
            ON CONFLICT (dealer_id, vehicle_id) DO UPDATE SET
                step = excluded.step, due_date = excluded.due_date, due_km = excluded.due_km, km_per_day = excluded.km_per_day,
                rate_source = excluded.rate_source, basis = excluded.basis, base_date = excluded.base_date,
                base_km = excluded.base_km, last_reading_on = excluded.last_reading_on, last_reading_km = excluded.last_reading_km,
                last_visit_on = excluded.last_visit_on, last_advisor_id = excluded.last_advisor_id,
                dormant_on = excluded.dormant_on, computed_at = excluded.computed_at
            """)
    }

    /// Forgets the forecasts of vehicles that are gone.
    /// Refreshes the planner's statistics of the stored forecasts after many were written (the
    /// first build, a schedule change): the scan reads them by due-date ranges.
    public func refreshStatistics(in db: some PostgresQueryable) async throws {
        try await db.execute("ANALYZE service_forecasts")
    }

    public func delete(vehicleIDs: [UUID], dealerID: UUID, in tx: PostgresTransaction) async throws {
        guard !vehicleIDs.isEmpty else { return }
        try await tx.execute(
            "DELETE FROM service_forecasts WHERE dealer_id = \(dealerID) AND vehicle_id = ANY(\(vehicleIDs)::uuid[])")
    }
}
