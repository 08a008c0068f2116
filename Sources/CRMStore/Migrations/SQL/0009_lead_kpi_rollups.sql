-- Lead KPIs from roll-ups (LeadKPIRollupRepository). Every KPI of the lead report is a sum of
-- per-day events of single leads, in the dealer's calendar:
--   created day: new / merged / new_won (the lead's current status), and +1 to the stocks
--                (base, qualified, competitor) and to overdue (open with a planned contact
--                before the dealer's date the roll-up was kept at);
--   won day, lost day: won / lost; the closing day: -1 to the stocks;
--   opened (created day) and closed (closing day) of every lead, merged or not: whether a group
--        has any lead in the period at all (created by its end, not closed before its start);
--   hot: +1 from the day the intended purchase date comes within three months (or the created
--        day, if later), -1 on the closing day.
-- A flow over [from, to] is prefix(to) - prefix(from - 1); a stock at the period's end is
-- prefix(to). The worker adds each lead's events into day, month and year rows, so a prefix reads
-- at most the years before, the months of the year before, and the days of the month.
--
-- A lead whose row changed since the worker last applied it is `kpi_dirty`: the report takes its
-- applied events out and its current events in, live; the worker applies it and clears the flag.

ALTER TABLE leads ADD COLUMN kpi_dirty boolean NOT NULL DEFAULT true;
CREATE INDEX leads_kpi_dirty ON leads (dealer_id, id) WHERE kpi_dirty;

-- Any change of a lead's row by the application marks it (the worker's own writes of the flag do
-- not): the report stays exact whatever changed, the worker re-applies the lead.
CREATE FUNCTION leads_mark_kpi_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.kpi_dirty := true;
    RETURN NEW;
END
$$;
CREATE TRIGGER leads_kpi_dirty BEFORE UPDATE ON leads
    FOR EACH ROW WHEN (NOT OLD.kpi_dirty AND NOT NEW.kpi_dirty) EXECUTE FUNCTION leads_mark_kpi_dirty();

-- A dealer that moves to another time zone moves every day of its leads: all of them are marked.
CREATE FUNCTION dealers_mark_leads_kpi_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE leads SET kpi_dirty = true WHERE dealer_id = NEW.id AND NOT kpi_dirty;
    RETURN NULL;
END
$$;
CREATE TRIGGER dealers_time_zone_kpi_dirty AFTER UPDATE OF time_zone ON dealers
    FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone) EXECUTE FUNCTION dealers_mark_leads_kpi_dirty();

-- What the worker last added for each lead (its inputs; the events are derived from them).
CREATE TABLE lead_kpi_applied (
    lead_id           uuid PRIMARY KEY,
    dealer_id         uuid NOT NULL REFERENCES dealers (id),
    channel           text NOT NULL,
    series            text,
    consultant_id     uuid,
    status            text NOT NULL,
    qualified         boolean NOT NULL,
    competitor_models text[] NOT NULL,
    created_day       date NOT NULL,
    won_day           date,
    lost_day          date,
    hot_day           date,
    overdue           boolean NOT NULL
);

-- Per dealer: the dealer's date the applied `overdue` flags were evaluated at.
CREATE TABLE lead_kpi_dealers (
    dealer_id     uuid PRIMARY KEY REFERENCES dealers (id),
    overdue_as_of date NOT NULL
);

-- The roll-ups. dim 'consultant' (key NULL), 'channel' and 'series' (key: the channel or series),
-- each per consultant (NULL: the shared pool); dim 'competitor': key the competitor model,
-- sub_key the series of interest, only `base` (consultant NULL). grain 'd', 'm', 'y': bucket is
-- the day, the month's first day, the year's first day.
CREATE TABLE lead_kpi_rollups (
    dealer_id     uuid NOT NULL REFERENCES dealers (id),
    dim           text NOT NULL CHECK (dim IN ('consultant', 'channel', 'series', 'competitor')),
    grain         "char" NOT NULL CHECK (grain IN ('d', 'm', 'y')),
    bucket        date NOT NULL,
    key           text,
    sub_key       text,
    consultant_id uuid,
    new           int8 NOT NULL DEFAULT 0,
    merged        int8 NOT NULL DEFAULT 0,
    new_won       int8 NOT NULL DEFAULT 0,
    won           int8 NOT NULL DEFAULT 0,
    lost          int8 NOT NULL DEFAULT 0,
    base          int8 NOT NULL DEFAULT 0,
    qualified     int8 NOT NULL DEFAULT 0,
    competitor    int8 NOT NULL DEFAULT 0,
    hot           int8 NOT NULL DEFAULT 0,
    overdue       int8 NOT NULL DEFAULT 0,
    opened        int8 NOT NULL DEFAULT 0,
    closed        int8 NOT NULL DEFAULT 0,
    CONSTRAINT lead_kpi_rollups_key UNIQUE NULLS NOT DISTINCT (dealer_id, dim, grain, bucket, key, sub_key, consultant_id)
);

-- The first day a lead with this intended purchase date is hot: the least day d with
-- d + 3 months >= the date (LeadRules.temperatureBounds; month ends clamp, as in Swift).
CREATE FUNCTION lead_hot_from(intended date) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN (s + interval '3 months')::date >= intended THEN s ELSE s + 1 END
    FROM (SELECT (intended - interval '3 months')::date AS s) AS x
$$;

-- One lead's events (see the top of this file). Closing before the created day counts as closing
-- on it (never in the stock), as the live computation has it.
CREATE FUNCTION lead_kpi_events(
    in_status text, in_qualified boolean, in_competitor boolean, in_created date, in_won date, in_lost date,
    in_hot_from date, in_overdue boolean
) RETURNS TABLE (
    day date, new int, merged int, new_won int, won int, lost int, base int, qualified_base int,
    competitor_base int, hot int, overdue_open int, opened int, closed int
) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH l AS (
        SELECT c.counted, c.closed,
               CASE WHEN c.counted AND in_hot_from IS NOT NULL AND (c.closed IS NULL OR greatest(in_created, in_hot_from) < c.closed)
                    THEN greatest(in_created, in_hot_from) END AS hot_from
        FROM (SELECT in_status <> 'merged' AS counted,
                     CASE WHEN coalesce(in_won, in_lost) IS NOT NULL THEN greatest(coalesce(in_won, in_lost), in_created) END AS closed
             ) AS c
    )
    SELECT in_created, (in_status <> 'merged')::int, (in_status = 'merged')::int, (in_status = 'won')::int, 0, 0,
           l.counted::int, (l.counted AND in_qualified)::int, (l.counted AND in_competitor)::int, 0, in_overdue::int, 1, 0
    FROM l
    UNION ALL SELECT in_won, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 FROM l WHERE in_won IS NOT NULL
    UNION ALL SELECT in_lost, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 FROM l WHERE in_lost IS NOT NULL
    UNION ALL SELECT l.closed, 0, 0, 0, 0, 0, -(l.counted::int), -((l.counted AND in_qualified)::int),
                     -((l.counted AND in_competitor)::int), 0, 0, 0, 1
              FROM l WHERE l.closed IS NOT NULL
    UNION ALL SELECT l.hot_from, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 FROM l WHERE l.hot_from IS NOT NULL
    UNION ALL SELECT l.closed, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0 FROM l WHERE l.hot_from IS NOT NULL AND l.closed IS NOT NULL
$$;
