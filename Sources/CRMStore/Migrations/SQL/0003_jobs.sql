-- 0003: the background job queue (see docs/ARCHITECTURE.md, "Job queue").
--
-- States: available (may run now), scheduled (runs at run_at), running (claimed by a worker,
-- leased until lease_expires_at), retryable (failed, runs again at run_at), completed,
-- cancelled, discarded (failed its last attempt). The last three are final.

CREATE SEQUENCE jobs_id_seq;

CREATE TABLE jobs (
    id                bigint PRIMARY KEY DEFAULT nextval('jobs_id_seq'),
    kind              text NOT NULL CHECK (char_length(kind) BETWEEN 1 AND 100),
    queue             text NOT NULL DEFAULT 'default' CHECK (char_length(queue) BETWEEN 1 AND 50),
    args              jsonb NOT NULL DEFAULT '{}',
    priority          smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 4),
    state             text NOT NULL DEFAULT 'available'
                      CHECK (state IN ('available', 'scheduled', 'running', 'retryable', 'completed', 'cancelled', 'discarded')),
    attempt           smallint NOT NULL DEFAULT 0,
    max_attempts      smallint NOT NULL DEFAULT 20 CHECK (max_attempts >= 1),
    run_at            timestamptz NOT NULL DEFAULT now(),
    attempted_at      timestamptz,
    attempted_by      text[] NOT NULL DEFAULT '{}',
    lease_expires_at  timestamptz,
    errors            jsonb NOT NULL DEFAULT '[]',
    unique_key        text,
    dealer_id         uuid,
    created_at        timestamptz NOT NULL DEFAULT now(),
    finalized_at      timestamptz
);

-- Fetching: the next available jobs of a queue in priority, then run_at order.
CREATE INDEX jobs_fetch ON jobs (queue, priority, run_at, id) WHERE state = 'available';
-- Promotion of scheduled and retryable jobs whose time has come.
CREATE INDEX jobs_due ON jobs (run_at) WHERE state IN ('scheduled', 'retryable');
-- Rescue of jobs whose worker stopped renewing its lease.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';
-- Pruning of finished jobs.
CREATE INDEX jobs_finalized ON jobs (finalized_at) WHERE state IN ('completed', 'cancelled', 'discarded');
-- Admin listing by state and kind.
CREATE INDEX jobs_state_kind ON jobs (state, kind, id);

-- Many short-lived rows: vacuum early so the table and its indexes stay small.
ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05,
                      autovacuum_vacuum_cost_delay = 0);

ALTER SEQUENCE jobs_id_seq OWNED BY jobs.id;

-- Unique jobs ("anniversary gift for customer X, year 2"): the key is claimed in the same
-- statement that inserts the job, against this primary key, so of any number of concurrent or
-- later enqueuers exactly one inserts. Claims outlive the job (finished jobs are pruned) until
-- their optional expiry, so a later scan cannot enqueue the same work again; an expired claim is
-- taken over by the next enqueuer of its key.
CREATE TABLE job_uniques (
    unique_key  text PRIMARY KEY,
    job_id      bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz
);
CREATE INDEX job_uniques_expiry ON job_uniques (expires_at) WHERE expires_at IS NOT NULL;

-- Periodic work: the last period each schedule (and dealer, for per-dealer schedules) was
-- enqueued for, so a restart neither skips nor doubles a period.
CREATE TABLE job_schedules (
    name          text NOT NULL,
    scope         text NOT NULL DEFAULT '',
    last_period   timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, scope)
);
