public import CRMDomain
public import Foundation
public import PostgresClient

/// Lead KPIs computed in SQL over the real rows (one pass over the leads in scope).
public struct LeadReportRepository: Sendable {
    public init() {}

    public enum Grouping: String, Sendable, CaseIterable {
        case channel
        case consultant
        case series
        case dealer
    }

    /// The counts behind one row of the report (`key` nil: the totals row, or leads without a
    /// value for the grouping, e.g. pool leads by consultant).
    public struct Row: Sendable, Equatable {
        public var key: String?
        public var isTotal: Bool
        /// Leads created before the period ended and still open at its end (the prospect base).
        public var total: Int
        /// Leads created within the period.
        public var new: Int
        /// Distinct consultants owning the base's leads.
        public var consultants: Int
        /// Of the base: qualified (the 11 fields), hot as of the period's last day, considering a
        /// competitor.
        public var qualified: Int
        public var hot: Int
        public var consideringCompetitor: Int
        /// Won / lost within the period.
        public var won: Int
        public var lost: Int
        /// Of the period's new leads, those won by now (the conversion cohort).
        public var newWon: Int
        /// Open now with a planned contact before today.
        public var overdue: Int
    }

    /// - Parameters:
    ///   - from, to: the period, inclusive dates in each dealer's own calendar.
    ///   `to` is the reference day for temperature; overdue is as of each dealer's today.
    public func report(
        scope: TenantScope, grouping: Grouping, from: LocalDate, to: LocalDate, in db: some PostgresQueryable
    ) async throws -> [Row] {
        let key: PostgresQuery
        switch grouping {
        case .channel: key = "l.channel"
        case .consultant: key = "l.consultant_id::text"
        case .series: key = "l.interest_series"
        case .dealer: key = "l.dealer_id::text"
        }
        let hotUntil = LeadRules.temperatureBounds(today: to).hotUntil
        let rows = try await db.query(
            """
            WITH scoped AS (
                SELECT \(fragment: key) AS key, l.*,
                       (\(from)::date::timestamp AT TIME ZONE d.time_zone) AS period_start,
                       ((\(to)::date + 1)::timestamp AT TIME ZONE d.time_zone) AS period_end,
                       (now() AT TIME ZONE d.time_zone)::date AS dealer_today
                FROM leads l JOIN dealers d ON d.id = l.dealer_id
                WHERE \(fragment: scope.condition("l.dealer_id")) AND l.status <> 'merged'
            ),
            marked AS (
                SELECT *,
                       created_at < period_end AND coalesce(won_at, lost_at, 'infinity') >= period_end AS in_base,
                       created_at >= period_start AND created_at < period_end AS is_new
                FROM scoped WHERE created_at < period_end
            )
            SELECT key, GROUPING(key) = 1,
                   count(*) FILTER (WHERE in_base)::int8,
                   count(*) FILTER (WHERE is_new)::int8,
                   count(DISTINCT consultant_id) FILTER (WHERE in_base)::int8,
                   count(*) FILTER (WHERE in_base AND qualified)::int8,
                   count(*) FILTER (WHERE in_base AND intended_purchase_date <= \(hotUntil))::int8,
                   count(*) FILTER (WHERE in_base AND cardinality(competitor_models) > 0)::int8,
                   count(*) FILTER (WHERE won_at >= period_start AND won_at < period_end)::int8,
                   count(*) FILTER (WHERE lost_at >= period_start AND lost_at < period_end)::int8,
                   count(*) FILTER (WHERE is_new AND status = 'won')::int8,
                   count(*) FILTER (WHERE status = ANY(\(LeadStatus.openRawValues)::text[]) AND next_contact_date < dealer_today)::int8
            FROM marked
            GROUP BY GROUPING SETS ((key), ())
            ORDER BY GROUPING(key), key NULLS LAST
            """)
        return try rows.map { row in
            var r = ColumnReader(row)
            return Row(
                key: try r.next(), isTotal: try r.next(), total: try r.next(), new: try r.next(), consultants: try r.next(),
                qualified: try r.next(), hot: try r.next(), consideringCompetitor: try r.next(), won: try r.next(),
                lost: try r.next(), newWon: try r.next(), overdue: try r.next())
        }
    }
}
