public import CRMDomain
public import Foundation
public import PostgresClient

/// Lead KPIs computed live in SQL over the lead rows (one pass over the leads in scope): the
/// reference `LeadKPIRollupRepository` answers the same as (a test compares them), and the
/// benchmark's baseline.
public struct LeadReportRepository: Sendable {
    public init() {}

    /// - Parameters:
    ///   - from, to: the period, inclusive dates in each dealer's own calendar.
    ///   `to` is the reference day for temperature; overdue is as of each dealer's today at `now`.
    public func report(
        scope: TenantScope, grouping: LeadReportGrouping, from: LocalDate, to: LocalDate, now: Date,
        in db: some PostgresQueryable
    ) async throws -> [LeadReportCounts] {
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
                       (\(now)::timestamptz AT TIME ZONE d.time_zone)::date AS dealer_today
                FROM dealers d WHERE \(fragment: scope.condition("d.id"))
            ),
            flags AS (
                SELECT \(fragment: key) AS key, l.consultant_id, l.status, l.qualified,
                       l.status = 'merged' AS merged,
                       l.status <> 'merged' AND coalesce(l.won_at, l.lost_at, 'infinity') >= b.period_end AS in_base,
                       l.created_at >= b.period_start AS created_in_period,
                       l.intended_purchase_date <= \(hotUntil) AS hot,
                       cardinality(l.competitor_models) > 0 AS competitor,
                       l.won_at >= b.period_start AND l.won_at < b.period_end AS won,
                       l.lost_at >= b.period_start AND l.lost_at < b.period_end AS lost,
                       l.next_contact_date < b.dealer_today AS past_due
                FROM leads l JOIN bounds b ON b.dealer_id = l.dealer_id
                WHERE l.created_at < b.period_end
                  AND coalesce(l.won_at, l.lost_at, 'infinity') >= b.period_start
            ),
            per_consultant AS (
                SELECT key, consultant_id,
                       count(*) FILTER (WHERE in_base) AS total,
                       count(*) FILTER (WHERE created_in_period AND NOT merged) AS new,
                       count(*) FILTER (WHERE created_in_period AND merged) AS merged,
                       count(*) FILTER (WHERE in_base AND qualified) AS qualified,
                       count(*) FILTER (WHERE in_base AND hot) AS hot,
                       count(*) FILTER (WHERE in_base AND competitor) AS competitor,
                       count(*) FILTER (WHERE won) AS won,
                       count(*) FILTER (WHERE lost) AS lost,
                       count(*) FILTER (WHERE created_in_period AND status = 'won') AS new_won,
                       count(*) FILTER (WHERE past_due AND status = ANY(\(constants: LeadStatus.open)::text[])) AS overdue
                FROM flags GROUP BY 1, 2
            )
            \(fragment: Self.groupsAndTotals(of: "per_consultant"))
            """)
        return try rows.map(named: Self.counts)
    }

    /// The report's rows from per-(group key, consultant) figures in `relation`: summed per group,
    /// with a totals row; consultants counted distinct among those with leads in the base. (With
    /// no figures at all the totals row still comes, its sums NULL: hence the coalesce.)
    static func groupsAndTotals(of relation: StaticString) -> PostgresQuery {
        """
        SELECT key, GROUPING(key) = 1 AS is_total, coalesce(sum(total), 0)::int8 AS total,
               coalesce(sum(new), 0)::int8 AS new, coalesce(sum(merged), 0)::int8 AS merged,
               count(DISTINCT consultant_id) FILTER (WHERE total > 0)::int8 AS consultants,
               coalesce(sum(qualified), 0)::int8 AS qualified, coalesce(sum(hot), 0)::int8 AS hot,
               coalesce(sum(competitor), 0)::int8 AS competitor, coalesce(sum(won), 0)::int8 AS won,
               coalesce(sum(lost), 0)::int8 AS lost, coalesce(sum(new_won), 0)::int8 AS new_won,
               coalesce(sum(overdue), 0)::int8 AS overdue
        FROM \(sql: relation)
        GROUP BY GROUPING SETS ((key), ())
        ORDER BY GROUPING(key), key NULLS LAST
        """
    }

    /// A row of the report's figures.
    static func counts(_ r: inout PostgresNamedRow) throws -> LeadReportCounts {
        LeadReportCounts(
            key: try r("key"), isTotal: try r("is_total"), total: try r("total"), new: try r("new"),
            duplicatesMerged: try r("merged"), consultants: try r("consultants"), qualified: try r("qualified"),
            hot: try r("hot"), consideringCompetitor: try r("competitor"), won: try r("won"), lost: try r("lost"),
            newWon: try r("new_won"), overdue: try r("overdue"))
    }

    /// The prospect base at the end of the period (leads created by then and still open then,
    /// merged duplicates left out) counted per competitor model they also consider: per series
    /// of interest and over all series, most considered first; and the base per series (the
    /// denominators of the shares).
    public func competitors(scope: TenantScope, from: LocalDate, to: LocalDate, in db: some PostgresQueryable) async throws
        -> CompetitorFigures
    {
        let rows = try await db.query(
            """
            WITH bounds AS (
                SELECT d.id AS dealer_id, ((\(to)::date + 1)::timestamp AT TIME ZONE d.time_zone) AS period_end
                FROM dealers d WHERE \(fragment: scope.condition("d.id"))
            ),
            base AS (
                SELECT l.interest_series, l.competitor_models FROM leads l JOIN bounds b ON b.dealer_id = l.dealer_id
                WHERE l.status <> 'merged' AND l.created_at < b.period_end
                  AND coalesce(l.won_at, l.lost_at, 'infinity') >= b.period_end
            )
            SELECT s.interest_series AS series, m.model AS competitor_model, count(*)::int8 AS prospects,
                   GROUPING(s.interest_series) = 1 AS all_series
            FROM base s CROSS JOIN LATERAL unnest(s.competitor_models) AS m(model)
            GROUP BY GROUPING SETS ((s.interest_series, m.model), (m.model))
            UNION ALL
            SELECT interest_series, NULL, count(*)::int8, GROUPING(interest_series) = 1
            FROM base GROUP BY GROUPING SETS ((interest_series), ())
            """)
        return Self.competitorFigures(try rows.map(named: CompetitorRow.init))
    }

    /// One row of the competitor figures (series, competitor_model, prospects, all_series).
    struct CompetitorRow {
        var series: String?
        var model: String?
        var prospects: Int
        var allSeries: Bool

        init(_ r: inout PostgresNamedRow) throws {
            series = try r("series")
            model = try r("competitor_model")
            prospects = try r("prospects")
            allSeries = try r("all_series")
        }
    }

    /// Competitor counts, series bases and the total base: a model's row counts it, a row
    /// without a model is a base.
    static func competitorFigures(_ rows: [CompetitorRow]) -> CompetitorFigures {
        var counts: [CompetitorCount] = []
        var seriesBase: [String: Int] = [:]
        var totalBase = 0
        for row in rows {
            if let model = row.model {
                counts.append(CompetitorCount(series: row.allSeries ? nil : row.series, competitorModel: model, prospects: row.prospects))
            } else if row.allSeries {
                totalBase = row.prospects
            } else if let series = row.series {
                seriesBase[series] = row.prospects
            }
        }
        // Over all series first, then by series; most considered first.
        counts.sort {
            ($0.series == nil ? 0 : 1, $0.series ?? "", -$0.prospects, $0.competitorModel)
                < ($1.series == nil ? 0 : 1, $1.series ?? "", -$1.prospects, $1.competitorModel)
        }
        return CompetitorFigures(counts: counts, seriesBase: seriesBase, totalBase: totalBase)
    }
}

/// The lead report's competitor figures: the counts, and their denominators.
public struct CompetitorFigures: Sendable, Equatable {
    /// Over all series first, then by series; most considered first.
    public var counts: [CompetitorCount]
    /// The prospect base per series.
    public var seriesBase: [String: Int]
    /// The prospect base over all series.
    public var totalBase: Int
}
