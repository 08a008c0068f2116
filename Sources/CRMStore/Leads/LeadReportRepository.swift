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
        // Two levels: leads are counted per (group, consultant) in one hash aggregation (no sort
        // of the leads, which a DISTINCT over them would need), then summed per group with a
        // totals row; consultants are counted distinct over the few first-level rows. Each
        // dealer's period bounds are computed once, in its own calendar, and each lead's
        // conditions once (`flags`), not once per count. Leads closed before the
        // period began and created before it cannot count and are skipped. (With no leads at all
        // the totals row still comes, its sums NULL: hence the coalesce.)
        let rows = try await db.query(
            """
            WITH bounds AS (
                SELECT d.id AS dealer_id,
                       (\(from)::date::timestamp AT TIME ZONE d.time_zone) AS period_start,
                       ((\(to)::date + 1)::timestamp AT TIME ZONE d.time_zone) AS period_end,
                       (now() AT TIME ZONE d.time_zone)::date AS dealer_today
                FROM dealers d WHERE \(fragment: scope.condition("d.id"))
            ),
            flags AS (
                SELECT \(fragment: key) AS key, l.consultant_id, l.status, l.qualified,
                       coalesce(l.won_at, l.lost_at, 'infinity') >= b.period_end AS in_base,
                       l.created_at >= b.period_start AS is_new,
                       l.intended_purchase_date <= \(hotUntil) AS hot,
                       cardinality(l.competitor_models) > 0 AS competitor,
                       l.won_at >= b.period_start AND l.won_at < b.period_end AS won,
                       l.lost_at >= b.period_start AND l.lost_at < b.period_end AS lost,
                       l.next_contact_date < b.dealer_today AS past_due
                FROM leads l JOIN bounds b ON b.dealer_id = l.dealer_id
                WHERE l.status <> 'merged' AND l.created_at < b.period_end
                  AND coalesce(l.won_at, l.lost_at, 'infinity') >= b.period_start
            ),
            per_consultant AS (
                SELECT key, consultant_id,
                       count(*) FILTER (WHERE in_base) AS total,
                       count(*) FILTER (WHERE is_new) AS new,
                       count(*) FILTER (WHERE in_base AND qualified) AS qualified,
                       count(*) FILTER (WHERE in_base AND hot) AS hot,
                       count(*) FILTER (WHERE in_base AND competitor) AS competitor,
                       count(*) FILTER (WHERE won) AS won,
                       count(*) FILTER (WHERE lost) AS lost,
                       count(*) FILTER (WHERE is_new AND status = 'won') AS new_won,
                       count(*) FILTER (WHERE past_due AND status = ANY(\(LeadStatus.openRawValues)::text[])) AS overdue
                FROM flags GROUP BY 1, 2
            )
            SELECT key, GROUPING(key) = 1, coalesce(sum(total), 0)::int8, coalesce(sum(new), 0)::int8,
                   count(DISTINCT consultant_id) FILTER (WHERE total > 0)::int8, coalesce(sum(qualified), 0)::int8,
                   coalesce(sum(hot), 0)::int8, coalesce(sum(competitor), 0)::int8, coalesce(sum(won), 0)::int8,
                   coalesce(sum(lost), 0)::int8, coalesce(sum(new_won), 0)::int8, coalesce(sum(overdue), 0)::int8
            FROM per_consultant
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
