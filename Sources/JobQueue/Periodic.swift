public import Foundation
public import Logging
public import PostgresClient

/// Where a periodic job runs once per period: the whole system, or each dealer in its own
/// time zone ("every day at 02:00 dealer local time").
public struct PeriodicScope: Sendable, Hashable {
    /// Stored in `job_schedules.scope` and in the unique key: "" for the system scope.
    public let key: String
    public let timeZone: TimeZone
    public let dealerID: UUID?

    public static func system(timeZone: TimeZone = TimeZone(identifier: "UTC") ?? .current) -> PeriodicScope {
        PeriodicScope(key: "", timeZone: timeZone, dealerID: nil)
    }

    public static func dealer(_ id: UUID, timeZone: TimeZone) -> PeriodicScope {
        PeriodicScope(key: id.lowercasedText, timeZone: timeZone, dealerID: id)
    }
}

/// A job enqueued once per period of its recurrence, per scope.
public struct PeriodicJob: Sendable {
    public let name: String
    public let recurrence: Recurrence
    /// The scopes it runs in (read again every few minutes: new dealers join, time zones change).
    public let scopes: @Sendable () async throws -> [PeriodicScope]
    /// The job for one period (its start) and scope. Its unique key is set by the scheduler.
    public let makeJob: @Sendable (_ period: Date, _ scope: PeriodicScope) throws -> JobRequest
    /// After an outage, at most this many missed periods are enqueued (the most recent ones); the
    /// older ones are logged as skipped.
    public let maxCatchUp: Int

    public init(
        name: String, recurrence: Recurrence, maxCatchUp: Int = 24,
        scopes: @escaping @Sendable () async throws -> [PeriodicScope] = { [.system()] },
        makeJob: @escaping @Sendable (_ period: Date, _ scope: PeriodicScope) throws -> JobRequest
    ) {
        self.name = name
        self.recurrence = recurrence
        self.maxCatchUp = max(1, maxCatchUp)
        self.scopes = scopes
        self.makeJob = makeJob
    }

    /// The unique key of the job for one period: whoever enqueues it, it exists once.
    public func uniqueKey(period: Date, scope: PeriodicScope) -> String {
        "periodic:\(name):\(scope.key):\(Int64(period.timeIntervalSince1970))"
    }
}

/// Enqueues periodic jobs, once per period and scope however many workers run it.
///
/// `job_schedules` keeps, per schedule and scope, the last period enqueued. A worker whose
/// in-memory clock says a period is due locks that row (`FOR UPDATE`), enqueues every period
/// between the stored one and now (at most `maxCatchUp`), and moves the row forward in the same
/// transaction: a second worker waiting on the lock then finds nothing due, and a worker that
/// restarts resumes from the row, so no period is doubled or (within `maxCatchUp`) skipped. The
/// job's unique key (`periodic:<name>:<scope>:<period>`) is a second guard. A schedule seen for
/// the first time starts at the current instant: its first job is for the next period.
///
/// Workers run one (`WorkerConfiguration.periodic`); it is public so tools and tests can tick it.
public final class PeriodicScheduler: Sendable {
    private let queue: JobQueue
    private let pool: PostgresPool
    private let jobs: [PeriodicJob]
    private let logger: Logger
    private let scopeRefresh: Duration
    private let state = SchedulerState()

    public init(queue: JobQueue, pool: PostgresPool, jobs: [PeriodicJob], logger: Logger, scopeRefresh: Duration = .seconds(60)) {
        self.queue = queue
        self.pool = pool
        self.jobs = jobs
        self.logger = logger
        self.scopeRefresh = scopeRefresh
    }

    struct Key: Hashable {
        let name: String
        let scope: String
    }

    /// The in-memory view: each schedule's scopes and next due instant.
    private actor SchedulerState {
        var scopes: [String: [PeriodicScope]] = [:]
        var scopesReadAt: ContinuousClock.Instant?
        var nextDue: [Key: Date] = [:]

        func setScopes(_ value: [String: [PeriodicScope]]) {
            scopes = value
            scopesReadAt = .now
        }
        func setNext(_ key: Key, _ date: Date?) { nextDue[key] = date }
    }

    /// Enqueues what is due now; cheap when nothing is (no database access between periods).
    public func tick(now: Date = Date()) async throws {
        guard !jobs.isEmpty else { return }
        if await state.scopesReadAt.map({ ContinuousClock.now - $0 >= scopeRefresh }) ?? true {
            try await refreshScopes(now: now)
        }
        let scopes = await state.scopes
        let nextDue = await state.nextDue
        // One scope's failure (a bad job, the database) must not hold up the others: each is
        // tried on its own and retried on the next tick.
        var failures = 0
        var firstError: (any Error)?
        for job in jobs {
            for scope in scopes[job.name] ?? [] {
                let key = Key(name: job.name, scope: scope.key)
                guard let due = nextDue[key], due <= now else { continue }
                do {
                    let next = try await enqueueDue(job, scope: scope, now: now)
                    await state.setNext(key, next)
                } catch {
                    failures += 1
                    firstError = firstError ?? error
                }
            }
        }
        if let firstError {
            logger.warning(
                "periodic jobs could not be enqueued; retrying",
                metadata: ["scopes": "\(failures)", "error": "\(firstError)"])
        }
    }

    /// Reads every schedule's scopes and the stored last periods; registers new schedules.
    private func refreshScopes(now: Date) async throws {
        var scopes: [String: [PeriodicScope]] = [:]
        for job in jobs {
            do {
                scopes[job.name] = try await job.scopes()
            } catch {
                logger.warning("cannot list a periodic job's scopes", metadata: ["schedule": "\(job.name)", "error": "\(error)"])
                scopes[job.name] = await state.scopes[job.name] ?? []
            }
        }
        let names = jobs.map(\.name)
        let keys = scopes.flatMap { name, list in list.map(\.key).map { (name, $0) } }
        // New schedules start now; existing ones keep their last period.
        try await pool.execute(
            """
            INSERT INTO job_schedules (name, scope, last_period)
            SELECT name, scope, \(now) FROM unnest(\(keys.map(\.0))::text[], \(keys.map(\.1))::text[]) AS k(name, scope)
            ON CONFLICT (name, scope) DO NOTHING
            """)
        let rows = try await pool.query(
            "SELECT name, scope, last_period FROM job_schedules WHERE name = ANY(\(names)::text[])")
        var last: [Key: Date] = [:]
        for row in rows {
            last[Key(name: try row.decode(0), scope: try row.decode(1))] = try row.decode(2)
        }
        await state.setScopes(scopes)
        for job in jobs {
            for scope in scopes[job.name] ?? [] {
                let key = Key(name: job.name, scope: scope.key)
                await state.setNext(key, last[key].flatMap { job.recurrence.next(after: $0, in: scope.timeZone) })
            }
        }
    }

    /// Under the schedule row's lock: enqueues the periods due since the stored one, moves the
    /// row forward, and returns the next due instant.
    private func enqueueDue(_ job: PeriodicJob, scope: PeriodicScope, now: Date) async throws -> Date? {
        try await pool.withTransaction { tx in
            guard let row = try await tx.queryFirst(
                "SELECT last_period FROM job_schedules WHERE name = \(job.name) AND scope = \(scope.key) FOR UPDATE")
            else { return nil }
            let last: Date = try row.decode(0)
            var due: [Date] = []
            var skipped = 0
            var cursor = last
            while let next = job.recurrence.next(after: cursor, in: scope.timeZone), next <= now, next > cursor {
                due.append(next)
                if due.count > job.maxCatchUp {
                    due.removeFirst()
                    skipped += 1
                }
                cursor = next
            }
            guard let latest = due.last else { return job.recurrence.next(after: last, in: scope.timeZone) }
            if skipped > 0 {
                logger.warning(
                    "periodic job missed more periods than it catches up; the oldest were skipped",
                    metadata: ["schedule": "\(job.name)", "scope": "\(scope.key)", "skipped": "\(skipped)"])
            }
            let requests = try due.map { period in
                var request = try job.makeJob(period, scope)
                request.uniqueKey = job.uniqueKey(period: period, scope: scope)
                // The claim only needs to outlive the period's row move; a week is ample.
                request.uniqueFor = .seconds(7 * 86_400)
                if request.dealerID == nil { request.dealerID = scope.dealerID }
                return request
            }
            let ids = try await queue.enqueueMany(requests, in: tx)
            try await tx.execute(
                """
                UPDATE job_schedules SET last_period = \(latest), updated_at = now()
                WHERE name = \(job.name) AND scope = \(scope.key)
                """)
            logger.debug(
                "enqueued periodic jobs",
                metadata: ["schedule": "\(job.name)", "scope": "\(scope.key)", "periods": "\(due.count)",
                           "inserted": "\(ids.compactMap { $0 }.count)"])
            return job.recurrence.next(after: latest, in: scope.timeZone)
        }
    }
}
