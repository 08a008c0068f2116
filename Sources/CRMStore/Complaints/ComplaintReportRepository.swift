public import CRMDomain
public import Foundation
public import PostgresClient

/// Complaint KPIs and the survey integrity report, computed in SQL over the rows.
public struct ComplaintReportRepository: Sendable {
    public init() {}

    /// The complaints taken in within the period (inclusive dates, each dealer's calendar),
    /// grouped, with a totals row. Callbacks and surveys are those of these complaints; a
    /// callback counts as due once its window opened by `now`, and on time when it was done
    /// before its window closed.
    public func report(
        scope: TenantScope, grouping: ComplaintReportGrouping, from: LocalDate, to: LocalDate, now: Date, in db: some PostgresQueryable
    ) async throws -> [ComplaintReportCounts] {
        let key: PostgresQuery
        switch grouping {
        case .category: key = "c.category"
        case .severity: key = "c.severity"
        case .channel: key = "c.channel"
        case .owner: key = "c.owner_id::text"
        case .dealer: key = "c.dealer_id::text"
        }
        return try await db.query(
            """
            WITH bounds AS (
                SELECT d.id AS dealer_id,
                       (\(from)::date::timestamp AT TIME ZONE d.time_zone) AS period_start,
                       ((\(to)::date + 1)::timestamp AT TIME ZONE d.time_zone) AS period_end
                FROM dealers d WHERE \(fragment: scope.condition("d.id"))
            ),
            -- The callbacks and surveys of those complaints, aggregated per complaint once (hash
            -- joins, not a lookup per complaint): both come after the complaint's intake, so
            -- nothing older than the period can belong to it.
            cb AS (
                SELECT k.complaint_id, count(*) AS due, count(*) FILTER (WHERE k.completed_at < k.window_ends_at) AS on_time
                FROM callbacks k JOIN bounds b ON b.dealer_id = k.dealer_id
                WHERE k.complaint_id IS NOT NULL AND k.created_at >= b.period_start AND k.window_starts_at <= \(now)
                GROUP BY k.complaint_id
            ),
            sv AS (
                SELECT s.complaint_id, sum(s.csi) AS csi_sum, count(s.csi) AS csi_n, count(s.nps) AS nps_n,
                       count(*) FILTER (WHERE s.nps >= 9) AS promoters, count(*) FILTER (WHERE s.nps <= 6) AS detractors
                FROM surveys s JOIN bounds b ON b.dealer_id = s.dealer_id
                WHERE s.complaint_id IS NOT NULL AND s.recorded_at >= b.period_start
                GROUP BY s.complaint_id
            ),
            per AS (
                SELECT \(fragment: key) AS key,
                       c.status = ANY(\(constants: ComplaintStatus.open)::text[]) AS open,
                       c.acknowledged_at IS NOT NULL AS acknowledged,
                       c.acknowledged_at <= c.acknowledge_due_at AS acknowledged_on_time,
                       extract(epoch FROM c.acknowledged_at - c.created_at) AS seconds_to_acknowledge,
                       c.resolved_at IS NOT NULL AS resolved,
                       c.resolved_at IS NOT NULL AND c.resolve_remaining_seconds >= 0 AS resolved_on_time,
                       CASE WHEN c.resolved_at IS NOT NULL THEN c.active_seconds END AS seconds_to_resolve,
                       c.escalation_level > 0 AS escalated, c.reopen_count > 0 AS reopened,
                       cb.due, cb.on_time, sv.csi_sum, sv.csi_n, sv.nps_n, sv.promoters, sv.detractors
                FROM complaints c JOIN bounds b ON b.dealer_id = c.dealer_id
                LEFT JOIN cb ON cb.complaint_id = c.id
                LEFT JOIN sv ON sv.complaint_id = c.id
                WHERE c.created_at >= b.period_start AND c.created_at < b.period_end
            )
            SELECT key, GROUPING(key) = 1 AS is_total, count(*)::int8 AS received,
                   count(*) FILTER (WHERE open)::int8 AS open,
                   count(*) FILTER (WHERE acknowledged)::int8 AS acknowledged,
                   count(*) FILTER (WHERE acknowledged_on_time)::int8 AS acknowledged_on_time,
                   count(*) FILTER (WHERE resolved)::int8 AS resolved,
                   count(*) FILTER (WHERE resolved_on_time)::int8 AS resolved_on_time,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_to_acknowledge) AS median_acknowledge,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds_to_resolve) AS median_resolve,
                   count(*) FILTER (WHERE escalated)::int8 AS escalated,
                   count(*) FILTER (WHERE reopened)::int8 AS reopened,
                   coalesce(sum(due), 0)::int8 AS callbacks_due, coalesce(sum(on_time), 0)::int8 AS callbacks_on_time,
                   sum(csi_sum) / nullif(sum(csi_n), 0) AS csi_average,
                   coalesce(sum(nps_n), 0)::int8 AS nps_answers, coalesce(sum(promoters), 0)::int8 AS promoters,
                   coalesce(sum(detractors), 0)::int8 AS detractors
            FROM per
            GROUP BY GROUPING SETS ((key), ())
            ORDER BY GROUPING(key), key NULLS LAST
            """
        ).map(named: { r in
            ComplaintReportCounts(
                key: try r("key"), isTotal: try r("is_total"), received: try r("received"), open: try r("open"),
                acknowledged: try r("acknowledged"), acknowledgedOnTime: try r("acknowledged_on_time"),
                resolved: try r("resolved"), resolvedOnTime: try r("resolved_on_time"),
                medianSecondsToAcknowledge: try r("median_acknowledge"), medianSecondsToResolve: try r("median_resolve"),
                escalated: try r("escalated"), reopened: try r("reopened"), callbacksDue: try r("callbacks_due"),
                callbacksOnTime: try r("callbacks_on_time"), csiAverage: try r("csi_average"), npsAnswers: try r("nps_answers"),
                promoters: try r("promoters"), detractors: try r("detractors"))
        })
    }

    /// The flagged surveys recorded within the period (newest first, at most `limit`), and the
    /// rates per dealer and per staff member who called.
    public func integrity(scope: TenantScope, from: LocalDate, to: LocalDate, limit: Int, in db: some PostgresQueryable) async throws
        -> (flagged: [FlaggedSurvey], totalFlagged: Int, rates: [SurveyIntegrityRate])
    {
        let bounds: PostgresQuery = """
            WITH bounds AS (
                SELECT d.id AS dealer_id,
                       (\(from)::date::timestamp AT TIME ZONE d.time_zone) AS period_start,
                       ((\(to)::date + 1)::timestamp AT TIME ZONE d.time_zone) AS period_end
                FROM dealers d WHERE \(fragment: scope.condition("d.id"))
            )
            """
        let flagged = try await db.query(
            bounds
                + """
                SELECT s.id, s.dealer_id, s.callback_id, s.customer_id, s.caller_id, s.purpose, s.recorded_at, s.flags
                FROM surveys s JOIN bounds b ON b.dealer_id = s.dealer_id
                WHERE s.flagged AND s.recorded_at >= b.period_start AND s.recorded_at < b.period_end
                ORDER BY s.recorded_at DESC, s.id LIMIT \(limit)
                """
        ).map(named: { r in
            FlaggedSurvey(
                surveyID: try r("id"), dealerID: try r("dealer_id"), callbackID: try r("callback_id"),
                customerID: try r("customer_id"), callerID: try r("caller_id"), purpose: try r("purpose"),
                recordedAt: try r("recorded_at"), flags: try r.json("flags") ?? [])
        })
        var total = 0
        var rates: [SurveyIntegrityRate] = []
        for rate in try await db.query(
            bounds
                + """
                SELECT s.dealer_id, s.caller_id, GROUPING(s.caller_id) = 1 AS dealer_row, count(*)::int8 AS surveys,
                       count(*) FILTER (WHERE s.flagged)::int8 AS flagged, count(*) FILTER (WHERE s.top_score)::int8 AS top_scores
                FROM surveys s JOIN bounds b ON b.dealer_id = s.dealer_id
                WHERE s.recorded_at >= b.period_start AND s.recorded_at < b.period_end
                GROUP BY GROUPING SETS ((s.dealer_id), (s.dealer_id, s.caller_id))
                ORDER BY s.dealer_id, GROUPING(s.caller_id) DESC, s.caller_id NULLS LAST
                """
        ).map(named: { r in
            (dealerRow: try r("dealer_row", as: Bool.self),
             rate: SurveyIntegrityRate(
                dealerID: try r("dealer_id"), callerID: try r("caller_id"), surveys: try r("surveys"), flagged: try r("flagged"),
                topScores: try r("top_scores")))
        }) {
            if rate.dealerRow { total += rate.rate.flagged }
            // A dealer's row has no caller; a staff row of surveys recorded without one is skipped.
            if rate.dealerRow || rate.rate.callerID != nil { rates.append(rate.rate) }
        }
        return (flagged, total, rates)
    }
}
