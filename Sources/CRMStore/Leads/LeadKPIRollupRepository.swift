public import CRMDomain
public import Foundation
public import PostgresClient

/// Lead KPIs from the daily roll-ups (migration 0009 describes the events and the tables). The
/// worker adds each changed lead's events (`applyChanged`); the report reads prefix sums of the
/// roll-ups and corrects them live for the leads changed since (`kpi_dirty`) and for planned
/// contacts that fell due since the roll-ups' date. Its answer is the live computation's
/// (`LeadReportRepository`), which a test checks over random fixtures.
public struct LeadKPIRollupRepository: Sendable {
    public init() {}

    /// A lead's inputs to its events, as `lead_kpi_applied` stores them, from the lead row `l` in
    /// the dealer's time zone and with overdue as of the dealer's date `today`.
    static func inputs(timeZone: PostgresQuery, today: PostgresQuery) -> PostgresQuery {
        """
        l.id AS lead_id, l.dealer_id, l.channel, l.interest_series AS series, l.consultant_id, l.status, l.qualified,
        l.competitor_models,
        (l.created_at AT TIME ZONE \(fragment: timeZone))::date AS created_day,
        (l.won_at AT TIME ZONE \(fragment: timeZone))::date AS won_day,
        (l.lost_at AT TIME ZONE \(fragment: timeZone))::date AS lost_day,
        lead_hot_from(l.intended_purchase_date) AS hot_day,
        coalesce(l.status = ANY(\(constants: LeadStatus.open)::text[]) AND l.next_contact_date < \(fragment: today), false) AS overdue
        """
    }

    static let inputColumns: PostgresQuery =
        "lead_id, dealer_id, channel, series, consultant_id, status, qualified, competitor_models, created_day, won_day, lost_day, hot_day, overdue"

    /// The events of the signed input rows of `relation` (columns `sign` and `inputColumns`).
    static func events(of relation: StaticString) -> PostgresQuery {
        """
        SELECT c.sign, c.dealer_id, c.channel, c.series, c.consultant_id, c.competitor_models, e.*
        FROM \(sql: relation) c
        CROSS JOIN LATERAL lead_kpi_events(c.status, c.qualified, cardinality(c.competitor_models) > 0, c.created_day,
                                           c.won_day, c.lost_day, c.hot_day, c.overdue) AS e
        """
    }

    // MARK: The worker

    /// Applies up to `limit` changed leads of one dealer: their old events out of the roll-ups,
    /// their current ones in, the applied inputs kept, the flag cleared; first, when the dealer's
    /// date moved since the last run, marks the open leads whose planned contact fell due (or, with
    /// a clock set back, came due again) in between. One transaction. Takes the changed leads in
    /// id order after `after` (a run's previous batch: the partial index's entries of the leads it
    /// cleared are not walked again); returns how many it applied and the last one's id.
    public func applyChanged(dealerID: UUID, now: Date, limit: Int, after: UUID? = nil, in tx: PostgresTransaction) async throws
        -> (applied: Int, last: UUID?)
    {
        try await tx.execute(
            """
            INSERT INTO lead_kpi_dealers (dealer_id, overdue_as_of)
            SELECT id, (\(now)::timestamptz AT TIME ZONE time_zone)::date FROM dealers WHERE id = \(dealerID)
            ON CONFLICT (dealer_id) DO NOTHING
            """)
        guard
            let (asOf, today, timeZone) = try await tx.query(
                """
                SELECT s.overdue_as_of, (\(now)::timestamptz AT TIME ZONE d.time_zone)::date AS today, d.time_zone
                FROM lead_kpi_dealers s JOIN dealers d ON d.id = s.dealer_id
                WHERE s.dealer_id = \(dealerID) FOR UPDATE OF s
                """
            ).first(named: { r in
                (try r("overdue_as_of", as: LocalDate.self), try r("today", as: LocalDate.self), try r("time_zone", as: String.self))
            })
        else { return (0, nil) }
        if asOf != today {
            try await tx.execute(
                """
                UPDATE leads SET kpi_dirty = true
                WHERE dealer_id = \(dealerID) AND NOT kpi_dirty AND status = ANY(\(constants: LeadStatus.open)::text[])
                  AND next_contact_date >= \(min(asOf, today)) AND next_contact_date < \(max(asOf, today))
                """)
            try await tx.execute("UPDATE lead_kpi_dealers SET overdue_as_of = \(today) WHERE dealer_id = \(dealerID)")
        }
        let counters: PostgresQuery = "new, merged, new_won, won, lost, base, qualified, competitor, hot, overdue, opened, closed"
        let applied = try await tx.query(
            """
            WITH batch AS (
                SELECT \(fragment: Self.inputs(timeZone: "\(timeZone)", today: "\(today)::date"))
                FROM leads l WHERE l.dealer_id = \(dealerID) AND l.kpi_dirty AND (\(after)::uuid IS NULL OR l.id > \(after))
                ORDER BY l.id LIMIT \(limit) FOR UPDATE OF l SKIP LOCKED
            ),
            old AS (SELECT a.* FROM lead_kpi_applied a JOIN batch b ON b.lead_id = a.lead_id),
            changes AS (
                SELECT 1 AS sign, \(fragment: Self.inputColumns) FROM batch
                UNION ALL SELECT -1, \(fragment: Self.inputColumns) FROM old
            ),
            events AS (\(fragment: Self.events(of: "changes"))),
            dims AS (
                SELECT d.dim, d.key, NULL::text AS sub_key, consultant_id, day,
                       sign * new AS new, sign * merged AS merged, sign * new_won AS new_won, sign * won AS won,
                       sign * lost AS lost, sign * base AS base, sign * qualified_base AS qualified,
                       sign * competitor_base AS competitor, sign * hot AS hot, sign * overdue_open AS overdue,
                       sign * opened AS opened, sign * closed AS closed
                FROM events
                CROSS JOIN LATERAL (VALUES ('consultant', NULL::text), ('channel', channel), ('series', series)) AS d(dim, key)
                UNION ALL
                SELECT 'competitor', m.model, series, NULL, day, 0, 0, 0, 0, 0, sign * base, 0, 0, 0, 0, 0, 0
                FROM events CROSS JOIN LATERAL unnest(competitor_models) AS m(model) WHERE base <> 0
            ),
            days AS (
                SELECT dim, key, sub_key, consultant_id, day, sum(new) AS new, sum(merged) AS merged, sum(new_won) AS new_won,
                       sum(won) AS won, sum(lost) AS lost, sum(base) AS base, sum(qualified) AS qualified,
                       sum(competitor) AS competitor, sum(hot) AS hot, sum(overdue) AS overdue, sum(opened) AS opened,
                       sum(closed) AS closed
                FROM dims GROUP BY dim, key, sub_key, consultant_id, day
            ),
            grains AS (
                SELECT dim, key, sub_key, consultant_id, 'd'::"char" AS grain, day AS bucket, \(fragment: counters) FROM days
                UNION ALL
                SELECT dim, key, sub_key, consultant_id, g.grain, g.bucket, sum(new), sum(merged), sum(new_won), sum(won),
                       sum(lost), sum(base), sum(qualified), sum(competitor), sum(hot), sum(overdue), sum(opened), sum(closed)
                FROM days CROSS JOIN LATERAL (VALUES ('m'::"char", date_trunc('month', day)::date),
                                                     ('y'::"char", date_trunc('year', day)::date)) AS g(grain, bucket)
                GROUP BY dim, key, sub_key, consultant_id, g.grain, g.bucket
            ),
            added AS (
                INSERT INTO lead_kpi_rollups (dealer_id, dim, grain, bucket, key, sub_key, consultant_id, \(fragment: counters))
                SELECT \(dealerID), dim, grain, bucket, key, sub_key, consultant_id, \(fragment: counters) FROM grains
                WHERE (\(fragment: counters)) IS DISTINCT FROM (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
                ON CONFLICT ON CONSTRAINT lead_kpi_rollups_key DO UPDATE SET
                    new = lead_kpi_rollups.new + excluded.new, merged = lead_kpi_rollups.merged + excluded.merged,
                    new_won = lead_kpi_rollups.new_won + excluded.new_won, won = lead_kpi_rollups.won + excluded.won,
                    lost = lead_kpi_rollups.lost + excluded.lost, base = lead_kpi_rollups.base + excluded.base,
                    qualified = lead_kpi_rollups.qualified + excluded.qualified,
                    competitor = lead_kpi_rollups.competitor + excluded.competitor, hot = lead_kpi_rollups.hot + excluded.hot,
                    overdue = lead_kpi_rollups.overdue + excluded.overdue, opened = lead_kpi_rollups.opened + excluded.opened,
                    closed = lead_kpi_rollups.closed + excluded.closed
                RETURNING 1
            ),
            kept AS (
                INSERT INTO lead_kpi_applied (\(fragment: Self.inputColumns))
                SELECT \(fragment: Self.inputColumns) FROM batch
                ON CONFLICT (lead_id) DO UPDATE SET
                    channel = excluded.channel, series = excluded.series, consultant_id = excluded.consultant_id,
                    status = excluded.status, qualified = excluded.qualified, competitor_models = excluded.competitor_models,
                    created_day = excluded.created_day, won_day = excluded.won_day, lost_day = excluded.lost_day,
                    hot_day = excluded.hot_day, overdue = excluded.overdue
                RETURNING 1
            ),
            cleared AS (
                UPDATE leads l SET kpi_dirty = false FROM batch b WHERE l.id = b.lead_id AND l.dealer_id = \(dealerID) RETURNING 1
            )
            SELECT (SELECT count(*) FROM cleared)::int8 AS applied, (SELECT max(lead_id::text) FROM batch)::uuid AS last
            """)
        return try applied.first(named: { r in (try r("applied", as: Int.self), try r("last", as: UUID?.self)) }) ?? (0, nil)
    }

    // MARK: The report

    /// The per-dealer bounds of a report: the dealer's date at `now`, its time zone and the date its
    /// applied overdue flags were evaluated at.
    static func bounds(scope: TenantScope, now: Date) -> PostgresQuery {
        """
        SELECT d.id AS dealer_id, d.time_zone, (\(now)::timestamptz AT TIME ZONE d.time_zone)::date AS today, s.overdue_as_of
        FROM dealers d LEFT JOIN lead_kpi_dealers s ON s.dealer_id = d.id
        WHERE \(fragment: scope.condition("d.id"))
        """
    }

    /// The roll-up rows of `dim` in a prefix, one index range of the roll-up key per range of the
    /// prefix, each row with `weights(sign)` (SQL select-list items) before `columns`.
    static func rows(_ dim: String, in prefix: RollupPrefix, weights: (Int) -> PostgresQuery, columns: PostgresQuery) -> PostgresQuery {
        var query: PostgresQuery = ""
        for (index, range) in prefix.ranges.enumerated() {
            if index > 0 { query.append(" UNION ALL ") }
            let first: PostgresQuery = range.first.map { "AND r.bucket >= \($0)" } ?? ""
            query.append(
                """
                SELECT \(fragment: weights(range.sign)), \(fragment: columns)
                FROM lead_kpi_rollups r JOIN bounds b ON b.dealer_id = r.dealer_id
                WHERE r.dim = \(dim) AND r.grain = \(range.grain.rawValue)::"char" \(fragment: first) AND r.bucket <= \(range.last)
                """)
        }
        return query
    }

    /// Refreshes the planner's statistics of the leads and the roll-up tables after a burst
    /// (the backfill after the migration, an import): until autovacuum analyzes them, the
    /// report's probe of the changed leads is planned as if most leads were still changed, and
    /// scans them all instead of the partial index.
    public func refreshStatistics(in db: some PostgresQueryable) async throws {
        try await db.execute("ANALYZE leads, lead_kpi_applied, lead_kpi_rollups")
    }

    /// The changed leads' corrections, signed input rows (current +1, applied -1), with the
    /// report's bounds `b`.
    static let corrections: PostgresQuery = """
        SELECT 1 AS sign, \(fragment: inputs(timeZone: "b.time_zone", today: "b.today"))
        FROM leads l JOIN bounds b ON b.dealer_id = l.dealer_id WHERE l.kpi_dirty
        UNION ALL
        SELECT -1, a.lead_id, a.dealer_id, a.channel, a.series, a.consultant_id, a.status, a.qualified, a.competitor_models,
               a.created_day, a.won_day, a.lost_day, a.hot_day, a.overdue
        FROM leads l JOIN bounds b ON b.dealer_id = l.dealer_id JOIN lead_kpi_applied a ON a.lead_id = l.id
        WHERE l.kpi_dirty
        """

    /// Turns off JIT compilation for the rest of the report's transaction: the plan's cost counts
    /// the live corrections at their worst (every lead changed), so PostgreSQL would compile it,
    /// which took 60-70 ms of a report whose reads take 20-60 ms (measured over 1.1M leads).
    public func prepareReport(in tx: PostgresTransaction) async throws {
        // Deferred: it goes to the server with the report, in the same round trip.
        try await tx.executeDeferred("SET LOCAL jit = off")
    }

    /// The same figures as `LeadReportRepository.report` and `.competitors` (see there), from the
    /// roll-ups, in one statement: the live corrections (the leads changed since the last roll-up)
    /// are computed once for both. As two statements they were computed twice: 28 of the 37 ms
    /// of the competitor statement with 2,000 leads pending (`EXPLAIN ANALYZE`, 1.2M leads).
    public func report(
        scope: TenantScope, grouping: LeadReportGrouping, from: LocalDate, to: LocalDate, now: Date,
        in db: some PostgresQueryable
    ) async throws -> LeadRollupReport {
        let dim: String
        let key: PostgresQuery
        switch grouping {
        case .channel: (dim, key) = ("channel", "channel")
        case .series: (dim, key) = ("series", "series")
        case .consultant: (dim, key) = ("consultant", "consultant_id::text")
        case .dealer: (dim, key) = ("consultant", "dealer_id::text")
        }
        let end = RollupPrefix(through: to)
        let before = RollupPrefix(through: from.adding(days: -1))
        let columns: PostgresQuery = """
            r.dealer_id, r.key AS channel, r.key AS series, r.consultant_id, r.new, r.merged, r.new_won, r.won, r.lost,
            r.base, r.qualified, r.competitor, r.hot, r.overdue, r.opened, r.closed
            """
        // Flows (new, merged, new_won, won, lost) are end - before; stocks (base, qualified,
        // competitor, hot, overdue) are the end's prefix (each weighted term is cast to int4: a
        // sum of int4 accumulates in int8, a sum of int8 in numeric, which took a tenth of the
        // statement over the ~20,000 rows of a year by channel with 2,000 pending changes); a
        // group is listed when any lead of it was created by the period's end and not closed
        // before its start (opened at the end minus closed before the start), as in the live
        // computation.
        let rows = try await db.query(
            """
            WITH bounds AS (\(fragment: Self.bounds(scope: scope, now: now))),
            rolled AS (
                \(fragment: Self.rows(dim, in: end, weights: { "\($0)::int8 AS at_end, 0::int8 AS before_start" }, columns: columns))
                UNION ALL
                \(fragment: Self.rows(dim, in: before, weights: { "0::int8, \($0)::int8" }, columns: columns))
            ),
            changed AS (\(fragment: Self.corrections)),
            changed_events AS (\(fragment: Self.events(of: "changed"))),
            fell_due AS (
                SELECT CASE WHEN l.next_contact_date < b.today THEN 1 ELSE -1 END AS sign, l.dealer_id, l.channel,
                       l.interest_series AS series, l.consultant_id,
                       (l.created_at AT TIME ZONE b.time_zone)::date AS created_day
                FROM leads l JOIN bounds b ON b.dealer_id = l.dealer_id
                WHERE b.overdue_as_of <> b.today AND NOT l.kpi_dirty
                  AND l.status = ANY(\(constants: LeadStatus.open)::text[])
                  AND l.next_contact_date >= least(b.overdue_as_of, b.today)
                  AND l.next_contact_date < greatest(b.overdue_as_of, b.today)
            ),
            parts AS (
                SELECT dealer_id, channel, series, consultant_id, at_end, before_start, new, merged, new_won, won, lost, base,
                       qualified, competitor, hot, overdue, opened, closed
                FROM rolled
                UNION ALL
                SELECT dealer_id, channel, series, consultant_id, (day <= \(to))::int::int8, (day < \(from))::int::int8, sign * new, sign * merged,
                       sign * new_won, sign * won, sign * lost, sign * base, sign * qualified_base, sign * competitor_base,
                       sign * hot, sign * overdue_open, sign * opened, sign * closed
                FROM changed_events
                UNION ALL
                SELECT dealer_id, channel, series, consultant_id, (created_day <= \(to))::int::int8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, sign, 0, 0
                FROM fell_due
            ),
            per_consultant AS (
                SELECT \(fragment: key) AS key, consultant_id,
                       coalesce(sum((base * at_end)::int4), 0) AS total,
                       coalesce(sum((new * at_end)::int4), 0) - coalesce(sum((new * before_start)::int4), 0) AS new,
                       coalesce(sum((merged * at_end)::int4), 0) - coalesce(sum((merged * before_start)::int4), 0) AS merged,
                       coalesce(sum((qualified * at_end)::int4), 0) AS qualified,
                       coalesce(sum((hot * at_end)::int4), 0) AS hot,
                       coalesce(sum((competitor * at_end)::int4), 0) AS competitor,
                       coalesce(sum((won * at_end)::int4), 0) - coalesce(sum((won * before_start)::int4), 0) AS won,
                       coalesce(sum((lost * at_end)::int4), 0) - coalesce(sum((lost * before_start)::int4), 0) AS lost,
                       coalesce(sum((new_won * at_end)::int4), 0) - coalesce(sum((new_won * before_start)::int4), 0) AS new_won,
                       coalesce(sum((overdue * at_end)::int4), 0) AS overdue,
                       coalesce(sum((opened * at_end)::int4), 0) - coalesce(sum((closed * before_start)::int4), 0) AS present
                FROM parts GROUP BY 1, 2
            ),
            listed AS (SELECT * FROM per_consultant WHERE present > 0),
            report AS (\(fragment: LeadReportRepository.groupsAndTotals(of: "listed"))),
            per_model AS (
                SELECT series, model, weight * base AS base FROM (
                    \(fragment: Self.rows("competitor", in: end, weights: { "\($0)::int8 AS weight" }, columns: "r.sub_key AS series, r.key AS model, r.base"))
                ) AS m
                UNION ALL
                SELECT c.series, m.model, c.sign * c.base FROM changed_events c CROSS JOIN LATERAL unnest(c.competitor_models) AS m(model)
                WHERE c.day <= \(to) AND c.base <> 0
            ),
            per_series AS (
                SELECT series, weight * base AS base FROM (
                    \(fragment: Self.rows("series", in: end, weights: { "\($0)::int8 AS weight" }, columns: "r.key AS series, r.base"))
                ) AS s
                UNION ALL
                SELECT series, sign * base FROM changed_events WHERE day <= \(to) AND base <> 0
            ),
            competitors AS (
                SELECT * FROM (
                    SELECT series, model AS competitor_model, sum(base)::int8 AS prospects, GROUPING(series) = 1 AS all_series
                    FROM per_model GROUP BY GROUPING SETS ((series, model), (model))
                ) AS m WHERE prospects > 0
                UNION ALL
                SELECT * FROM (
                    SELECT series, NULL::text AS competitor_model, coalesce(sum(base), 0)::int8 AS prospects,
                           GROUPING(series) = 1 AS all_series
                    FROM per_series GROUP BY GROUPING SETS ((series), ())
                ) AS s WHERE prospects > 0 OR all_series
            )
            SELECT 0 AS part, key, is_total, total, new, merged, consultants, qualified, hot, competitor, won, lost, new_won,
                   overdue, NULL::text AS series, NULL::text AS competitor_model, NULL::int8 AS prospects,
                   NULL::bool AS all_series
            FROM report
            UNION ALL
            SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   series, competitor_model, prospects, all_series
            FROM competitors
            ORDER BY part, is_total, key NULLS LAST
            """)
        // Rows of part 0 are the report's (groups, then the totals), rows of part 1 the
        // competitor figures.
        var counts: [LeadReportCounts] = []
        var competitorRows: [LeadReportRepository.CompetitorRow] = []
        _ = try rows.map(named: { r in
            if try r("part", as: Int32.self) == 0 {
                counts.append(try LeadReportRepository.counts(&r))
            } else {
                competitorRows.append(try LeadReportRepository.CompetitorRow(&r))
            }
        })
        return LeadRollupReport(counts: counts, competitors: LeadReportRepository.competitorFigures(competitorRows))
    }
}

/// The lead report's figures and its competitor figures, read in one statement.
public struct LeadRollupReport: Sendable, Equatable {
    /// The groups, then the totals row.
    public var counts: [LeadReportCounts]
    public var competitors: CompetitorFigures
}
