-- What GET /v1/reports/leads?group_by=channel runs for a dealer key: the KPIs
-- (LeadReportRepository.report) and the competitor shares (LeadReportRepository.competitors).
WITH bounds AS (
    SELECT d.id AS dealer_id,
           (:from::date::timestamp AT TIME ZONE d.time_zone) AS period_start,
           ((:to::date + 1)::timestamp AT TIME ZONE d.time_zone) AS period_end,
           (now() AT TIME ZONE d.time_zone)::date AS dealer_today
    FROM dealers d WHERE d.id = :dealer::uuid
),
flags AS (
    SELECT l.channel AS key, l.consultant_id, l.status, l.qualified,
           l.status = 'merged' AS merged,
           l.status <> 'merged' AND coalesce(l.won_at, l.lost_at, 'infinity') >= b.period_end AS in_base,
           l.created_at >= b.period_start AS created_in_period,
           l.intended_purchase_date <= :hot_until::date AS hot,
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
           count(*) FILTER (WHERE past_due AND status = ANY('{new,contacted,visited,test_drive,negotiating,loss_pending}'::text[])) AS overdue
    FROM flags GROUP BY 1, 2
)
SELECT key, GROUPING(key) = 1 AS is_total, coalesce(sum(total), 0)::int8 AS total,
       coalesce(sum(new), 0)::int8 AS new, coalesce(sum(merged), 0)::int8 AS merged,
       count(DISTINCT consultant_id) FILTER (WHERE total > 0)::int8 AS consultants,
       coalesce(sum(qualified), 0)::int8 AS qualified, coalesce(sum(hot), 0)::int8 AS hot,
       coalesce(sum(competitor), 0)::int8 AS competitor, coalesce(sum(won), 0)::int8 AS won,
       coalesce(sum(lost), 0)::int8 AS lost, coalesce(sum(new_won), 0)::int8 AS new_won,
       coalesce(sum(overdue), 0)::int8 AS overdue
FROM per_consultant
GROUP BY GROUPING SETS ((key), ())
ORDER BY GROUPING(key), key NULLS LAST;
WITH bounds AS (
    SELECT d.id AS dealer_id, ((:to::date + 1)::timestamp AT TIME ZONE d.time_zone) AS period_end
    FROM dealers d WHERE d.id = :dealer::uuid
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
FROM base GROUP BY GROUPING SETS ((interest_series), ());
