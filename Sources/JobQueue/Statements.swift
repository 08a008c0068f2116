import PostgresClient

/// Statement shapes shared by the worker's writes.
///
/// The `jobs` table swings between empty and huge, so the planner's row estimates for it are
/// often wrong (a generic plan made while the queue was empty believes it still is). Every
/// multi-row statement therefore reaches its rows through the primary key with `id = ANY(...)`:
/// whatever the estimates, a bad plan costs at most one pass over the batch or the table, never a
/// nested loop of the table against the batch.
enum Statements {
    /// `UPDATE jobs SET <assignments>` for the jobs a worker holds, each guarded by its attempt
    /// and `state = 'running'`: a job that was rescued, cancelled or re-claimed since is not
    /// touched. `assignments` may use `j.` for the row.
    static func updateRunning(_ jobs: [(id: Int64, attempt: Int)], set assignments: PostgresQuery) -> PostgresQuery {
        let ids = jobs.map(\.id)
        return """
            UPDATE jobs j SET \(fragment: assignments)
            FROM unnest(\(ids)::int8[], \(jobs.map { Int16($0.attempt) })::int2[]) AS held(job_id, job_attempt)
            WHERE j.id = ANY(\(ids)::int8[]) AND j.id = held.job_id AND j.attempt = held.job_attempt AND j.state = 'running'
            """
    }
}
