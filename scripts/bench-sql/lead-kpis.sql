-- What GET /v1/reports/leads?group_by=channel runs for a dealer key (LeadReportRepository.report).
WITH bounds AS (
    SELECT d.id AS dealer_id,
           (:from::date::timestamp AT TIME ZONE d.time_zone) AS period_start,
           ((:to::date + 1)::timestamp AT TIME ZONE d.time_zone) AS period_end,
           (now() AT TIME ZONE d.time_zone)::date AS dealer_today
    FROM dealers d WHERE d.id = :dealer::uuid
),
flags AS (
    SELECT l.channel AS key, l.consultant_id, l.status, l.qualified,
           coalesce(l.won_at, l.lost_at, 'infinity') >= b.period_end AS in_base,
           l.created_at >= b.period_start AS is_new,
           l.intended_purchase_date <= :hot_until::date AS hot,
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
           count(*) FILTER (WHERE past_due AND status = ANY('{new,contacted,visited,test_drive,negotiating,loss_pending}'::text[])) AS overdue
    FROM flags GROUP BY 1, 2
)
SELECT key, GROUPING(key) = 1, coalesce(sum(total), 0)::int8, coalesce(sum(new), 0)::int8,
       count(DISTINCT consultant_id) FILTER (WHERE total > 0)::int8, coalesce(sum(qualified), 0)::int8,
       coalesce(sum(hot), 0)::int8, coalesce(sum(competitor), 0)::int8, coalesce(sum(won), 0)::int8,
       coalesce(sum(lost), 0)::int8, coalesce(sum(new_won), 0)::int8, coalesce(sum(overdue), 0)::int8
FROM per_consultant
GROUP BY GROUPING SETS ((key), ())
ORDER BY GROUPING(key), key NULLS LAST;
