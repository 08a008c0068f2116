-- What JobQueue.enqueueMany runs for one batch (the arrays come from pgbench -D, one element per job).
WITH input AS (
    SELECT nextval('jobs_id_seq') AS id, *
    FROM unnest(:kinds::text[], :queues::text[],
                :args::jsonb[], :priorities::int2[],
                :max_attempts::int2[], :run_ats::timestamptz[],
                :unique_keys::text[], :unique_seconds::float8[],
                :dealer_ids::uuid[])
         WITH ORDINALITY AS r(kind, queue, args, priority, max_attempts, run_at, unique_key, unique_seconds, dealer_id, ord)
),
claims AS (
    INSERT INTO job_uniques (unique_key, job_id, expires_at)
    SELECT DISTINCT ON (unique_key) unique_key, id, now() + make_interval(secs => unique_seconds) FROM input
    WHERE unique_key IS NOT NULL ORDER BY unique_key, ord
    ON CONFLICT (unique_key) DO NOTHING
    RETURNING job_id
),
inserted AS (
    INSERT INTO jobs (id, kind, queue, args, priority, state, max_attempts, run_at, unique_key, dealer_id)
    SELECT id, kind, queue, args, priority,
           CASE WHEN run_at > now() THEN 'scheduled' ELSE 'available' END, max_attempts, coalesce(run_at, now()),
           unique_key, dealer_id
    FROM input
    WHERE unique_key IS NULL OR id IN (SELECT job_id FROM claims)
    RETURNING id
),
notified AS (SELECT count(pg_notify(:channel, q)) FROM unnest(:notify_queues::text[]) AS q)
SELECT input.ord, inserted.id FROM input LEFT JOIN inserted ON inserted.id = input.id, notified
ORDER BY input.ord;
