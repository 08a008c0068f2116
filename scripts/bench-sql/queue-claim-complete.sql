-- What a worker runs per batch of :batch jobs: the claim (JobWorker.claim, its RETURNING rows
-- folded into two arrays so pgbench can pass them on) and the completion (Completer.flush,
-- Statements.updateRunning).
WITH next AS (
    SELECT id FROM jobs
    WHERE state = 'available' AND queue = 'default' AND run_at <= now()
    ORDER BY priority, run_at, id
    LIMIT :batch
    FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE jobs j SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
           attempted_by = (j.attempted_by || 'pgbench'::text)[greatest(1, cardinality(j.attempted_by) - 8):],
           lease_expires_at = now() + make_interval(secs => 30)
    FROM next WHERE j.id = next.id
    RETURNING j.id, j.kind, j.queue, j.args, j.attempt, j.max_attempts, j.dealer_id,
              extract(epoch FROM now() - greatest(j.run_at, j.created_at))::float8
)
SELECT coalesce(array_agg(id), '{}')::text AS ids, coalesce(array_agg(attempt), '{}')::text AS attempts FROM claimed
\gset
WITH held AS MATERIALIZED (
    SELECT h.id, h.state = 'running' AND h.attempt = mine.job_attempt AS still_mine FROM jobs h
    JOIN unnest(:ids::int8[], :attempts::int2[]) AS mine(job_id, job_attempt) ON h.id = mine.job_id
    WHERE h.id = ANY(:ids::int8[])
    FOR UPDATE OF h)
UPDATE jobs j SET state = 'completed', finalized_at = now(), lease_expires_at = NULL
FROM held
WHERE j.id = held.id AND held.still_mine;
