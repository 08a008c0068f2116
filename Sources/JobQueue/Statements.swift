import PostgresClient

/// Statement shapes shared by the worker's writes.
///
/// The `jobs` table swings between empty and huge, so the planner's row estimates for it are
/// often wrong (a generic plan made while the queue was empty believes it still is). Every
/// multi-row statement therefore reaches its rows through the primary key with `id = ANY(...)`
/// and puts no condition on `state` next to it: a `state` condition beside the ids lets the
/// planner pick a partial or state-led index (`jobs_fetch`, `jobs_leases`, `jobs_state_kind`)
/// and scan all of it, dead entries included, for every batch. Measured on a 20,000-job burst
/// into a fresh table: 210-380 ms per claim and 60-70 ms per completion batch that way, the
/// burst draining at 1,091-1,459 jobs/s (BENCHMARKS.md "Job queue bursts").
enum Statements {
    /// `UPDATE jobs SET <assignments>` for the jobs a worker holds, each guarded by its attempt
    /// and `state = 'running'`: a job that was rescued, cancelled or re-claimed since is not
    /// touched. `assignments` may use `j.` for the row. The rows are read and locked by id
    /// alone; the guard is checked on what was read, so it cannot steer the plan.
    static func updateRunning(_ jobs: [(id: Int64, attempt: Int)], set assignments: PostgresQuery) -> PostgresQuery {
        let ids = jobs.map(\.id)
        return """
            WITH held AS MATERIALIZED (
                SELECT h.id, h.state = 'running' AND h.attempt = mine.job_attempt AS still_mine FROM jobs h
                JOIN unnest(\(ids)::int8[], \(jobs.map { Int16($0.attempt) })::int2[]) AS mine(job_id, job_attempt)
                  ON h.id = mine.job_id
                WHERE h.id = ANY(\(ids)::int8[])
                FOR UPDATE OF h)
            UPDATE jobs j SET \(fragment: assignments)
            FROM held
            WHERE j.id = held.id AND held.still_mine
            """
    }
}
