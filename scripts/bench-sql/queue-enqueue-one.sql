-- What JobQueue.enqueue runs for one job in its own transaction (a business write's share):
-- no unique key, notification coalesced (sent by the first of a 10 ms window).
BEGIN;
WITH new_job AS (SELECT nextval('jobs_id_seq') AS id),
claim AS (
    INSERT INTO job_uniques (unique_key, job_id, expires_at)
    SELECT NULL::text, id, now() + make_interval(secs => NULL::float8) FROM new_job WHERE NULL::text IS NOT NULL
    ON CONFLICT (unique_key) DO NOTHING
    RETURNING job_id
),
inserted AS (
    INSERT INTO jobs (id, kind, queue, args, priority, state, max_attempts, run_at, unique_key, dealer_id)
    SELECT id, :kind, :queue, :args::jsonb, 2,
           CASE WHEN NULL::timestamptz > now() THEN 'scheduled' ELSE 'available' END, 20,
           coalesce(NULL::timestamptz, now()), NULL, NULL::uuid
    FROM new_job
    WHERE NULL::text IS NULL OR EXISTS (SELECT 1 FROM claim)
    RETURNING id, queue, state
)
SELECT id, (SELECT count(pg_notify(:channel, i.queue)) FROM inserted i
            WHERE i.state = 'available' AND false) FROM inserted;
COMMIT;
