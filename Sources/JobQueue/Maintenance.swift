import Foundation
import Logging
import Metrics
public import PostgresClient
import Synchronization

/// The queue's upkeep statements. Every worker runs them; row locks with SKIP LOCKED make
/// concurrent runs share the work instead of repeating it.
public enum Maintenance {
    /// Scheduled and retryable jobs whose time has come become available; returns the queues
    /// that got work (after notifying them).
    static func promoteDue(_ pool: PostgresPool) async throws -> Set<String> {
        let rows = try await pool.query(
            """
            WITH promoted AS (
                UPDATE jobs SET state = 'available'
                WHERE id = ANY(ARRAY(
                    SELECT id FROM jobs WHERE state IN ('scheduled', 'retryable') AND run_at <= now()
                    ORDER BY run_at LIMIT 5000 FOR UPDATE SKIP LOCKED))
                RETURNING queue
            )
            SELECT DISTINCT queue, pg_notify(\(JobQueue.channel), queue)::text FROM promoted
            """)
        return Set(try rows.map { try $0.decode(0, as: String.self) })
    }

    /// Jobs whose worker stopped renewing the lease (killed, lost) run again, or are discarded
    /// if that was their last attempt. Only `running` rows are touched, so a job that completed
    /// meanwhile is never overwritten: the inner `FOR UPDATE` re-checks its condition on the row
    /// it locks, and the lock holds until the update. (No `state` condition beside the ids:
    /// see `Statements`.)
    static func rescueExpired(_ pool: PostgresPool) async throws -> Int {
        try await pool.execute(
            """
            UPDATE jobs j SET
                state = CASE WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'retryable' END,
                run_at = now(),
                finalized_at = CASE WHEN j.attempt >= j.max_attempts THEN now() END,
                lease_expires_at = NULL,
                errors = (SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb) FROM (
                    SELECT e, n FROM jsonb_array_elements(j.errors || jsonb_build_array(jsonb_build_object(
                        'attempt', j.attempt, 'at', extract(epoch FROM now()),
                        'error', 'lease expired: worker ' || coalesce(j.attempted_by[cardinality(j.attempted_by)], '?')
                                 || ' stopped renewing it (killed or lost)')))
                        WITH ORDINALITY AS t(e, n)
                    ORDER BY n DESC LIMIT \(JobRecord.maxKeptErrors)) AS kept)
            WHERE j.id = ANY(ARRAY(
                SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < now()
                LIMIT 1000 FOR UPDATE SKIP LOCKED))
            """)
    }

    /// Deletes finished jobs past their retention, and unique-key claims past their expiry, in
    /// batches; returns how many jobs were deleted.
    public static func prune(
        _ pool: PostgresPool, completedRetention: Duration, discardedRetention: Duration, batch: Int = 10_000
    ) async throws -> Int {
        // The rows are locked (SKIP LOCKED) and the conditions checked again on the row deleted,
        // so a job an admin retries at this moment is not deleted under him.
        let finished: PostgresQuery = """
            ((state IN ('completed', 'cancelled') AND finalized_at < now() - make_interval(secs => \(completedRetention.seconds)))
             OR (state = 'discarded' AND finalized_at < now() - make_interval(secs => \(discardedRetention.seconds))))
            """
        var total = 0
        while true {
            let deleted = try await pool.execute(
                """
                DELETE FROM jobs WHERE \(fragment: finished) AND id = ANY(ARRAY(
                    SELECT id FROM jobs WHERE \(fragment: finished) LIMIT \(batch) FOR UPDATE SKIP LOCKED))
                """)
            total += deleted
            if deleted < batch { break }
        }
        while try await pool.execute(
            """
            DELETE FROM job_uniques WHERE expires_at < now() AND unique_key = ANY(ARRAY(
                SELECT unique_key FROM job_uniques WHERE expires_at < now() LIMIT \(batch) FOR UPDATE SKIP LOCKED))
            """) == batch {}
        return total
    }

    /// The built-in housekeeping kind `queue.prune` and its hourly schedule.
    public static func pruneKind(pool: PostgresPool, completedRetention: Duration, discardedRetention: Duration) -> JobKind {
        JobKind(name: "queue.prune", timeout: .seconds(600)) { context in
            let deleted = try await prune(
                pool, completedRetention: completedRetention, discardedRetention: discardedRetention)
            context.logger.info("pruned finished jobs", metadata: ["deleted": "\(deleted)"])
            return .completed
        }
    }

    public static let pruneSchedule = PeriodicJob(
        name: "queue.prune", recurrence: .every(.seconds(3600)), maxCatchUp: 1,
        makeJob: { _, _ in JobRequest(kind: "queue.prune", queue: "default", priority: 4, maxAttempts: 3) })
}

/// Queue metrics: depth by state and kind (sampled), time from enqueue to start, run time,
/// outcomes.
final class JobMetrics: Sendable {
    private let seen = Mutex<Set<[String]>>([])

    func waited(kind: String, seconds: Double) {
        Metrics.Timer(label: "job_wait_seconds", dimensions: [("kind", kind)])
            .recordNanoseconds(Int64(seconds * 1_000_000_000))
    }

    func ran(kind: String, duration: Duration) {
        Metrics.Timer(label: "job_run_seconds", dimensions: [("kind", kind)]).record(duration: duration)
    }

    func completed(kind: String) { Counter(label: "jobs_completed_total", dimensions: [("kind", kind)]).increment() }
    func failed(kind: String) { Counter(label: "job_failures_total", dimensions: [("kind", kind)]).increment() }

    /// Sets `jobs{state,kind}`; combinations that disappeared go to 0.
    func depth(_ counts: [(String, String, Int)]) {
        let current = Set(counts.map { [$0.0, $0.1] })
        let gone = seen.withLock { seen -> Set<[String]> in
            let gone = seen.subtracting(current)
            seen = current
            return gone
        }
        for (state, kind, count) in counts {
            Gauge(label: "jobs", dimensions: [("state", state), ("kind", kind)]).record(count)
        }
        for key in gone {
            Gauge(label: "jobs", dimensions: [("state", key[0]), ("kind", key[1])]).record(0)
        }
    }
}

extension Metrics.Timer {
    func record(duration: Duration) {
        recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}
