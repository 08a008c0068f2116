import Foundation
public import Logging
public import PostgresClient
import Synchronization

/// The job queue's client: enqueue (inside a business transaction or on its own) and the
/// operations admins need (list, read, retry, cancel).
///
/// Enqueueing inside a transaction makes the job part of it: it exists if and only if the
/// transaction commits. Workers are woken by `NOTIFY crm_jobs, '<queue>'`, sent from the
/// inserting statement (so it is delivered at commit, and not at all on rollback); at high
/// rates the notifications are coalesced to one per queue per `notifyWindow`.
public final class JobQueue: Sendable {
    /// The NOTIFY channel workers listen on; the payload is the queue's name.
    public static let channel = "crm_jobs"

    let pool: PostgresPool
    let logger: Logger
    let notifyWindow: Duration
    private let lastNotified = Mutex<[String: ContinuousClock.Instant]>([:])
    private let pendingNotify = Mutex<Set<String>>([])

    public init(pool: PostgresPool, logger: Logger, notifyWindow: Duration = .milliseconds(10)) {
        self.pool = pool
        self.logger = logger
        self.notifyWindow = notifyWindow
    }

    // MARK: Enqueue

    /// Enqueues in the caller's transaction (or on any queryable).
    @discardableResult
    public func enqueue(_ request: JobRequest, in db: some PostgresQueryable) async throws -> EnqueueResult {
        try Self.validate(request)
        // No run_at means the database's now(), never this process's clock: a job must not be
        // "scheduled" for a moment that the server has not reached yet.
        let runAt = request.runAt
        let immediate = runAt.map { $0 <= Date() } ?? true
        let notify = immediate && shouldNotifyNow(queue: request.queue)
        let uniqueSeconds = request.uniqueFor?.seconds
        let query: PostgresQuery = """
            WITH new_job AS (SELECT nextval('jobs_id_seq') AS id),
            claim AS (
                INSERT INTO job_uniques (unique_key, job_id, expires_at)
                SELECT \(request.uniqueKey), id, now() + make_interval(secs => \(uniqueSeconds)::float8) FROM new_job WHERE \(request.uniqueKey)::text IS NOT NULL
                ON CONFLICT (unique_key) DO UPDATE SET job_id = excluded.job_id, expires_at = excluded.expires_at,
                    created_at = now()
                WHERE job_uniques.expires_at < now()
                RETURNING job_id
            ),
            inserted AS (
                INSERT INTO jobs (id, kind, queue, args, priority, state, max_attempts, run_at, unique_key, dealer_id)
                SELECT id, \(request.kind), \(request.queue), \(request.args), \(request.priority),
                       CASE WHEN \(runAt)::timestamptz > now() THEN 'scheduled' ELSE 'available' END, \(request.maxAttempts),
                       coalesce(\(runAt)::timestamptz, now()), \(request.uniqueKey), \(request.dealerID)
                FROM new_job
                WHERE \(request.uniqueKey)::text IS NULL OR EXISTS (SELECT 1 FROM claim)
                RETURNING id, queue, state
            )
            SELECT id, (SELECT count(pg_notify(\(Self.channel), i.queue)) FROM inserted i
                        WHERE i.state = 'available' AND \(notify)) FROM inserted
            """
        if let row = try await db.queryFirst(query) {
            return .inserted(try row.decode(0, as: Int64.self))
        }
        let existing = try await db.queryFirst(
            "SELECT job_id FROM job_uniques WHERE unique_key = \(request.uniqueKey)")
        return .duplicate(existing: try existing?.decode(0, as: Int64.self))
    }

    /// Enqueues in a transaction of its own.
    @discardableResult
    public func enqueue(_ request: JobRequest) async throws -> EnqueueResult {
        try await pool.withTransaction { try await enqueue(request, in: $0) }
    }

    /// Enqueues many jobs with one statement (duplicates by unique key are skipped); returns the
    /// new ids in request order, nil for a duplicate. One notification per queue at most.
    public func enqueueMany(_ requests: [JobRequest], in db: some PostgresQueryable) async throws -> [Int64?] {
        guard !requests.isEmpty else { return [] }
        for request in requests { try Self.validate(request) }
        let now = Date()
        let queues = Set(requests.filter { ($0.runAt ?? now) <= now }.map(\.queue)).filter { shouldNotifyNow(queue: $0) }
        let rows = try await db.query(
            """
            WITH input AS (
                SELECT nextval('jobs_id_seq') AS id, *
                FROM unnest(\(requests.map(\.kind))::text[], \(requests.map(\.queue))::text[],
                            \(requests.map(\.args.raw))::jsonb[], \(requests.map { Int16($0.priority) })::int2[],
                            \(requests.map { Int16($0.maxAttempts) })::int2[], \(requests.map(\.runAt))::timestamptz[],
                            \(requests.map(\.uniqueKey))::text[], \(requests.map { $0.uniqueFor?.seconds })::float8[],
                            \(requests.map(\.dealerID))::uuid[])
                     WITH ORDINALITY AS r(kind, queue, args, priority, max_attempts, run_at, unique_key, unique_seconds, dealer_id, ord)
            ),
            claims AS (
                INSERT INTO job_uniques (unique_key, job_id, expires_at)
                SELECT DISTINCT ON (unique_key) unique_key, id, now() + make_interval(secs => unique_seconds) FROM input
                WHERE unique_key IS NOT NULL ORDER BY unique_key, ord
                ON CONFLICT (unique_key) DO UPDATE SET job_id = excluded.job_id, expires_at = excluded.expires_at,
                    created_at = now()
                WHERE job_uniques.expires_at < now()
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
            notified AS (SELECT count(pg_notify(\(Self.channel), q)) FROM unnest(\(Array(queues))::text[]) AS q)
            SELECT input.ord, inserted.id FROM input LEFT JOIN inserted ON inserted.id = input.id, notified
            ORDER BY input.ord
            """)
        return try rows.map { try $0.decode(1, as: Int64?.self) }
    }

    static func validate(_ request: JobRequest) throws {
        guard (1...100).contains(request.kind.count) else { throw JobQueueError.invalidRequest("kind must be 1-100 characters") }
        guard (1...50).contains(request.queue.count) else { throw JobQueueError.invalidRequest("queue must be 1-50 characters") }
        guard (1...4).contains(request.priority) else { throw JobQueueError.invalidRequest("priority must be 1-4") }
        guard (1...1000).contains(request.maxAttempts) else { throw JobQueueError.invalidRequest("max attempts must be 1-1000") }
    }

    /// Coalescing: the first enqueue of a queue in a window notifies from its own statement
    /// (delivered at its commit); later ones in the window do not, and one standalone
    /// notification follows at the end of the window, after their commits in the common case.
    /// Workers also poll, so a notification lost to a slow commit costs at most one poll period.
    private func shouldNotifyNow(queue: String) -> Bool {
        let now = ContinuousClock.now
        let notifyNow = lastNotified.withLock { last -> Bool in
            if let previous = last[queue], now - previous < notifyWindow { return false }
            last[queue] = now
            return true
        }
        if !notifyNow {
            let schedule = pendingNotify.withLock { $0.insert(queue).inserted }
            if schedule {
                let window = notifyWindow
                Task { [weak self] in
                    try? await Task.sleep(for: window)
                    await self?.flushPendingNotify(queue)
                }
            }
        }
        return notifyNow
    }

    private func flushPendingNotify(_ queue: String) async {
        _ = pendingNotify.withLock { $0.remove(queue) }
        lastNotified.withLock { $0[queue] = .now }
        do {
            try await pool.notify(channel: Self.channel, payload: queue)
        } catch {
            logger.debug("deferred job notification failed; workers will poll", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Administration

    public struct Filter: Sendable {
        public var state: JobState?
        public var kind: String?
        public var queue: String?
        public init(state: JobState? = nil, kind: String? = nil, queue: String? = nil) {
            self.state = state
            self.kind = kind
            self.queue = queue
        }
    }

    static let columns: StaticString = """
        id, kind, queue, args, priority, state, attempt, max_attempts, run_at, attempted_at, attempted_by, \
        lease_expires_at, errors, unique_key, dealer_id, created_at, finalized_at
        """

    static func decode(_ row: PostgresRow) throws -> JobRecord {
        let stateText: String = try row.decode(5)
        guard let state = JobState(rawValue: stateText) else {
            throw JobQueueError.invalidRequest("unknown job state '\(stateText)' in the database")
        }
        return JobRecord(
            id: try row.decode(0), kind: try row.decode(1), queue: try row.decode(2), args: try row.decode(3),
            priority: Int(try row.decode(4, as: Int16.self)), state: state, attempt: Int(try row.decode(6, as: Int16.self)),
            maxAttempts: Int(try row.decode(7, as: Int16.self)), runAt: try row.decode(8), attemptedAt: try row.decode(9),
            attemptedBy: try row.decode(10), leaseExpiresAt: try row.decode(11),
            errors: try row.decode(12, as: PostgresJSON.self).decode([JobAttemptError].self), uniqueKey: try row.decode(13),
            dealerID: try row.decode(14), createdAt: try row.decode(15), finalizedAt: try row.decode(16))
    }

    /// Jobs matching `filter` whose `dealer_id` satisfies `scope` (a condition on `dealer_id`),
    /// newest first, `limit` after the job id `before`.
    public func jobs(
        filter: Filter, scope: PostgresQuery, before: Int64?, limit: Int, in db: some PostgresQueryable
    ) async throws -> [JobRecord] {
        var query: PostgresQuery = "SELECT \(sql: Self.columns) FROM jobs WHERE (\(fragment: scope))"
        if let state = filter.state { query.append(" AND state = \(state.rawValue)") }
        if let kind = filter.kind { query.append(" AND kind = \(kind)") }
        if let queue = filter.queue { query.append(" AND queue = \(queue)") }
        if let before { query.append(" AND id < \(before)") }
        query.append(" ORDER BY id DESC LIMIT \(limit)")
        return try await db.query(query).map(Self.decode)
    }

    public func job(id: Int64, scope: PostgresQuery, in db: some PostgresQueryable) async throws -> JobRecord? {
        try await db.queryFirst("SELECT \(sql: Self.columns) FROM jobs WHERE (\(fragment: scope)) AND id = \(id)")
            .map(Self.decode)
    }

    /// Makes a retryable, discarded or cancelled job available now (one more attempt if it had
    /// none left); a scheduled one runs now.
    public func retry(id: Int64, scope: PostgresQuery) async throws -> JobRecord {
        try await pool.withTransaction { tx in
            guard let job = try await tx.queryFirst(
                "SELECT \(sql: Self.columns) FROM jobs WHERE (\(fragment: scope)) AND id = \(id) FOR UPDATE"
            ).map(Self.decode) else { throw JobQueueError.notFound }
            guard [.retryable, .discarded, .cancelled, .scheduled, .available].contains(job.state) else {
                throw JobQueueError.notRetryable(job.state)
            }
            let row = try await tx.queryFirst(
                """
                UPDATE jobs SET state = 'available', run_at = now(), finalized_at = NULL,
                       max_attempts = greatest(max_attempts, attempt + 1)
                WHERE id = \(id) RETURNING \(sql: Self.columns)
                """)
            try await tx.notify(channel: Self.channel, payload: job.queue)
            guard let row else { throw JobQueueError.notFound }
            return try Self.decode(row)
        }
    }

    /// Cancels a job that has not finished; a running one's result is then ignored.
    public func cancel(id: Int64, scope: PostgresQuery) async throws -> JobRecord {
        try await pool.withTransaction { tx in
            guard let job = try await tx.queryFirst(
                "SELECT \(sql: Self.columns) FROM jobs WHERE (\(fragment: scope)) AND id = \(id) FOR UPDATE"
            ).map(Self.decode) else { throw JobQueueError.notFound }
            guard !job.state.isFinal else { throw JobQueueError.notCancellable(job.state) }
            guard let row = try await tx.queryFirst(
                """
                UPDATE jobs SET state = 'cancelled', finalized_at = now(), lease_expires_at = NULL
                WHERE id = \(id) RETURNING \(sql: Self.columns)
                """)
            else { throw JobQueueError.notFound }
            return try Self.decode(row)
        }
    }
}
