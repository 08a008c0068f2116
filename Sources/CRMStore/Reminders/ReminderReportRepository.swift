public import CRMDomain
public import Foundation
public import PostgresClient

/// The return-rate report, counted in SQL over the reminders and the visits.
public struct ReminderReportRepository: Sendable {
    public init() {}

    /// First touches due within the period (inclusive dates), grouped, with a totals row. A
    /// reminder counts as returned when the vehicle (for a birthday: any vehicle of the customer)
    /// had a visit at the dealer from its send date to its due date plus the dealer's return
    /// window (`windows`: each dealer of the scope and its window in days).
    public func report(
        windows: [(dealerID: UUID, days: Int)], grouping: ReminderReportGrouping, from: LocalDate, to: LocalDate,
        in db: some PostgresQueryable
    ) async throws -> [ReminderReportCounts] {
        let key: PostgresQuery
        switch grouping {
        case .kind: key = "r.kind"
        case .advisor: key = "r.advisor_id::text"
        case .month: key = "to_char(r.due_date, 'YYYY-MM')"
        case .dealer: key = "r.dealer_id::text"
        }
        var query: PostgresQuery = """
            WITH windows AS (
                SELECT * FROM unnest(\(windows.map(\.dealerID))::uuid[], \(windows.map(\.days))::int[]) AS w(dealer_id, days)
            ),
            base AS (
                SELECT \(fragment: key) AS key, r.status, r.reason,
                       EXISTS (SELECT 1 FROM service_visits s WHERE s.dealer_id = r.dealer_id
                                 AND (s.vehicle_id = r.vehicle_id OR (r.vehicle_id IS NULL AND s.customer_id = r.customer_id))
                                 AND s.opened_on BETWEEN r.send_date AND r.due_date + w.days) AS returned,
                       EXISTS (SELECT 1 FROM call_tasks t WHERE t.dealer_id = r.dealer_id AND t.reminder_id = r.id
                                 AND t.outcome = 'booked') AS booked
                FROM reminders r JOIN windows w ON w.dealer_id = r.dealer_id
                WHERE r.touch = 1 AND r.due_date BETWEEN \(from) AND \(to)
            )
            SELECT key, GROUPING(key) = 1 AS is_total,
                   count(*) FILTER (WHERE status IN ('queued', 'sent', 'responded'))::int8 AS reminded,
                   count(*) FILTER (WHERE status IN ('queued', 'sent', 'responded') AND returned)::int8 AS returned,
                   count(*) FILTER (WHERE booked)::int8 AS booked,
                   count(*) FILTER (WHERE status = 'held_back')::int8 AS held_back,
                   count(*) FILTER (WHERE status = 'held_back' AND returned)::int8 AS held_back_returned
            """
        let codes = SuppressionReason.Code.allCases
        for code in codes {
            query.append(", count(*) FILTER (WHERE status = 'suppressed' AND reason = \(code.rawValue))::int8")
        }
        query.append(" FROM base GROUP BY GROUPING SETS ((key), ()) ORDER BY GROUPING(key), key NULLS LAST")
        return try await db.query(query).map { row in
            var suppressed: [SuppressionReason.Code: Int] = [:]
            for (offset, code) in codes.enumerated() {
                let count = try row.decode(7 + offset, as: Int.self)
                if count > 0 { suppressed[code] = count }
            }
            return ReminderReportCounts(
                key: try row.decode(0, as: String?.self), isTotal: try row.decode(1, as: Bool.self),
                reminded: try row.decode(2, as: Int.self), returned: try row.decode(3, as: Int.self),
                booked: try row.decode(4, as: Int.self), heldBack: try row.decode(5, as: Int.self),
                heldBackReturned: try row.decode(6, as: Int.self), suppressed: suppressed)
        }
    }
}
