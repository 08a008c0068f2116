import Foundation
public import Logging
import Metrics
public import PostgresClient
public import ServiceLifecycle
import Synchronization

/// How a worker wakes up for new jobs.
public enum WorkerWakeup: String, Sendable, CaseIterable {
    /// LISTEN on `crm_jobs`, with polling as a fallback.
    case listen
    /// Polling only (for PgBouncer in transaction mode, where LISTEN does not work).
    case poll
}

public struct WorkerConfiguration: Sendable {
    /// Queue name -> how many of its jobs run at once.
    public var queues: [String: Int]
    /// Most jobs claimed in one statement.
    public var maxFetch: Int = 100
    public var wakeup: WorkerWakeup = .listen
    /// How often an idle queue is polled (the fallback in `.listen` mode).
    public var pollInterval: Duration = .seconds(1)
    /// The least time between two claims of a queue unless a backlog is being drained (the last
    /// claim filled every free slot and many are free again): under a trickle of new jobs this
    /// turns many one-job claims, each a commit, into fewer larger ones.
    public var fetchCooldown: Duration = .milliseconds(25)
    /// How long a claimed job is leased; the worker renews it every third of this while it runs.
    public var lease: Duration = .seconds(30)
    /// On shutdown, how long running jobs may take before they are released for another worker.
    public var shutdownGrace: Duration = .seconds(25)
    /// Completions are written in batches: at most this long after the first one.
    public var completionDelay: Duration = .milliseconds(20)
    public var completionBatch: Int = 500
    /// How often scheduled and retryable jobs whose time has come are made available, and
    /// periodic jobs enqueued.
    public var maintenanceInterval: Duration = .seconds(1)
    /// How often jobs with an expired lease (their worker died) are rescued.
    public var rescueInterval: Duration = .seconds(5)
    /// How often queue depth gauges are refreshed.
    public var metricsInterval: Duration = .seconds(10)
    /// This worker's name in `attempted_by`.
    public var id: String
    public var periodic: [PeriodicJob] = []

    public init(queues: [String: Int], id: String = WorkerConfiguration.defaultID()) {
        self.queues = queues
        self.id = id
    }

    public static func defaultID() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt16.random(in: 0...UInt16.max))"
    }
}

/// Runs jobs: claims them from its queues with `FOR UPDATE SKIP LOCKED`, runs their handlers
/// with each queue's concurrency, renews their leases while they run, writes completions in
/// batches, retries failures with backoff, and does the queue's upkeep (promoting due jobs,
/// rescuing jobs of dead workers, periodic jobs, gauges). Several workers (processes) run side
/// by side safely. On graceful shutdown it stops claiming, lets running jobs finish within the
/// grace period, and releases the rest for another worker.
public final class JobWorker: Service, Sendable {
    let pool: PostgresPool
    let queue: JobQueue
    let registry: JobRegistry
    let listener: PostgresListener?
    let configuration: WorkerConfiguration
    let logger: Logger
    let metrics = JobMetrics()

    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let upkeepRounds = Atomic<Int>(0)
    /// Signalled when shutdown begins: one for each loop that waits for it (a signal wakes the
    /// waiters of the moment, so each loop has its own).
    private let stopSignal = WakeSignal()
    private let drainSignal = WakeSignal()
    /// Signalled when a job ends (shutdown waits for the last one).
    private let idleSignal = WakeSignal()
    /// Wakes the lease loop at the end of shutdown.
    private let leaseSignal = WakeSignal()
    private let running = Mutex<[Int64: RunningJob]>([:])
    private let inFlight = Mutex<[String: Int]>([:])
    private let wakeups: [String: WakeSignal]
    private let completer: Completer
    /// Serializes this worker's multi-row writes (completions, lease renewals).
    private let writes = AsyncLock()

    struct ClaimedJob: Sendable {
        let id: Int64
        let kind: String
        let queue: String
        let args: PostgresJSON
        let attempt: Int
        let maxAttempts: Int
        let dealerID: UUID?
    }

    struct RunningJob: Sendable {
        let attempt: Int
        let queue: String
        let task: Task<Void, Never>?
    }

    public init(
        pool: PostgresPool, queue: JobQueue, registry: JobRegistry, listener: PostgresListener?,
        configuration: WorkerConfiguration, logger: Logger
    ) {
        self.pool = pool
        self.queue = queue
        self.registry = registry
        self.listener = configuration.wakeup == .listen ? listener : nil
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "worker"] = .string(configuration.id)
        self.logger = logger
        self.wakeups = configuration.queues.mapValues { _ in WakeSignal() }
        self.completer = Completer(pool: pool, configuration: configuration, logger: logger, writes: writes)
    }

    // MARK: Service

    public func run() async throws {
        let notifications = try listener?.notifications(on: JobQueue.channel)
        logger.info(
            "worker started",
            metadata: ["queues": "\(configuration.queues)", "wakeup": "\(configuration.wakeup.rawValue)"])
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withDiscardingTaskGroup { group in
                    // Until the very end: completions and lease renewals of jobs still running.
                    group.addTask { await self.completer.run(until: { self.isFinished }, released: self.freeSlots) }
                    group.addTask { await self.leaseLoop() }
                    // Until shutdown begins: claiming, upkeep, gauges, wake-ups.
                    group.addTask { await self.fetchingPhase(notifications: notifications) }
                    // From shutdown on: wait for running jobs (up to the grace period), release the rest.
                    group.addTask { await self.drainOnShutdown() }
                }
            } onGracefulShutdown: {
                self.beginShutdown()
            }
        } onCancel: {
            self.beginShutdown()
        }
        logger.info("worker stopped")
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }
    /// Shutdown is complete: nothing runs, completions are written or released.
    var isFinished: Bool { finished.load(ordering: .relaxed) }
    var runningCount: Int { running.withLock { $0.count } }
    /// Rounds of upkeep this worker has finished (tests wait for the one it runs at its start).
    var finishedUpkeepRounds: Int { upkeepRounds.load(ordering: .relaxed) }
    /// No handler is running and no completion waits to be written.
    var isIdle: Bool { runningCount == 0 && completer.pending.isEmpty }

    /// Stops claiming new jobs (running ones continue until they end or the grace period does).
    public func beginShutdown() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        wakeups.values.forEach { $0.signal() }
        stopSignal.signal()
        drainSignal.signal()
        completer.wake()
    }

    private func fetchingPhase(notifications: AsyncStream<PostgresNotification>?) async {
        await withTaskGroup(of: Void.self) { group in
            if let notifications {
                group.addTask {
                    for await notification in notifications { self.wakeups[notification.payload]?.signal() }
                }
            }
            for (name, concurrency) in configuration.queues {
                group.addTask { await self.claimLoop(queue: name, concurrency: concurrency) }
            }
            group.addTask { await self.maintenanceLoop() }
            group.addTask { await self.metricsLoop() }
            group.addTask {
                while !self.isStopping { await self.stopSignal.wait(timeout: .seconds(3600)) }
            }
            while await group.next() != nil {
                if isStopping { break }
            }
            // Ends the notification stream and interrupts the loops' sleeps.
            group.cancelAll()
        }
    }

    /// Waits for running jobs up to the grace period, then releases what is left for another
    /// worker and lets the completion writer and lease loop finish.
    private func drainOnShutdown() async {
        while !isStopping { await drainSignal.wait(timeout: .seconds(3600)) }
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        while runningCount > 0, ContinuousClock.now < deadline {
            await idleSignal.wait(timeout: .milliseconds(50))
        }
        await completer.flush(released: freeSlots)
        let abandoned = running.withLock { running -> [(Int64, RunningJob)] in
            defer { running.removeAll() }
            return running.map { ($0.key, $0.value) }
        }
        if !abandoned.isEmpty {
            // Released before the handlers are cancelled, so a cancelled handler's late outcome
            // finds the job no longer running under its attempt and changes nothing.
            await releaseInterrupted(abandoned.map { ($0.0, $0.1.attempt, $0.1.queue) })
            abandoned.forEach { $0.1.task?.cancel() }
        }
        finished.store(true, ordering: .relaxed)
        completer.wake()
        leaseSignal.signal()
    }

    /// Gives back jobs whose handlers were still running at the end of the grace period. The
    /// interrupted attempt stays counted (so the attempt number only grows and guards every
    /// write) and is noted in the job's errors; the job gets at least one more attempt.
    private func releaseInterrupted(_ jobs: [(id: Int64, attempt: Int, queue: String)]) async {
        await hand(
            back: jobs,
            Statements.updateRunning(
                jobs.map { ($0.id, $0.attempt) },
                set: """
                    state = 'available', run_at = now(), lease_expires_at = NULL,
                    max_attempts = greatest(j.max_attempts, j.attempt + 1),
                    errors = \(fragment: Self.appendError(
                        attempt: nil, message: "interrupted: worker \(configuration.id) shut down before the job ended"))
                    """))
    }

    /// Gives back jobs claimed but never started (shutdown began during the claim): their
    /// attempt is not counted.
    private func release(_ jobs: [ClaimedJob]) async {
        guard !jobs.isEmpty else { return }
        await hand(
            back: jobs.map { ($0.id, $0.attempt, $0.queue) },
            Statements.updateRunning(
                jobs.map { ($0.id, $0.attempt) }, set: "state = 'available', attempt = j.attempt - 1, lease_expires_at = NULL"))
    }

    private func hand(back jobs: [(id: Int64, attempt: Int, queue: String)], _ statement: PostgresQuery) async {
        do {
            let released = try await writes.withLock { try await pool.execute(statement) }
            for queue in Set(jobs.map(\.queue)) { try? await pool.notify(channel: JobQueue.channel, payload: queue) }
            if released > 0 {
                logger.warning("released unfinished jobs for another worker", metadata: ["count": "\(released)"])
            }
        } catch {
            logger.error(
                "could not release unfinished jobs; their leases will expire and they will be rescued",
                metadata: ["error": "\(error)"])
        }
    }

    // MARK: Claiming

    private func claimLoop(queue name: String, concurrency: Int) async {
        guard let wake = wakeups[name] else { return }
        var failures = 0
        var lastClaim = ContinuousClock.now - configuration.fetchCooldown
        var lastWasPartial = false
        let batchThreshold = max(1, min(concurrency, configuration.maxFetch) / 4)
        while !isStopping {
            let free = concurrency - inFlight.withLock { $0[name, default: 0] }
            if free <= 0 {
                await wake.wait(timeout: configuration.pollInterval)
                continue
            }
            let sinceLast = ContinuousClock.now - lastClaim
            if sinceLast < configuration.fetchCooldown {
                if lastWasPartial {
                    // The queue was empty a moment ago: let new jobs gather for one claim.
                    try? await Task.sleep(for: configuration.fetchCooldown - sinceLast)
                    continue
                }
                if free < batchThreshold {
                    // Draining a backlog with few free slots: wait for more to free up.
                    await wake.wait(timeout: configuration.fetchCooldown - sinceLast)
                    continue
                }
            }
            let wanted = min(free, configuration.maxFetch)
            let jobs: [ClaimedJob]
            do {
                jobs = try await claim(queue: name, limit: wanted)
                failures = 0
            } catch {
                failures += 1
                if failures == 1 || failures % 30 == 0 {
                    logger.warning("cannot claim jobs", metadata: ["queue": "\(name)", "error": "\(error)"])
                }
                try? await Task.sleep(for: min(.milliseconds(100 * failures), .seconds(5)))
                continue
            }
            if isStopping {
                // Claimed just as shutdown began: hand them straight back.
                await release(jobs)
                return
            }
            for job in jobs { start(job) }
            lastClaim = .now
            lastWasPartial = jobs.count < wanted
            if lastWasPartial { await wake.wait(timeout: configuration.pollInterval) }
        }
    }

    /// Claims up to `limit` available jobs of a queue. The inner `FOR UPDATE SKIP LOCKED` locks
    /// only rows still available when it locks them, and the lock holds until the update, so
    /// the update needs no `state` condition of its own (one would steer its plan onto
    /// `jobs_fetch`: see `Statements`).
    private func claim(queue name: String, limit: Int) async throws -> [ClaimedJob] {
        let rows = try await pool.query(
            """
            UPDATE jobs j SET state = 'running', attempt = j.attempt + 1, attempted_at = now(),
                   attempted_by = (j.attempted_by || \(configuration.id)::text)[greatest(1, cardinality(j.attempted_by) - 8):],
                   lease_expires_at = now() + make_interval(secs => \(configuration.lease.seconds))
            WHERE j.id = ANY(ARRAY(
                SELECT id FROM jobs
                WHERE state = 'available' AND queue = \(name) AND run_at <= now()
                ORDER BY priority, run_at, id
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED))
            RETURNING j.id, j.kind, j.queue, j.args, j.attempt, j.max_attempts, j.dealer_id,
                      extract(epoch FROM now() - greatest(j.run_at, j.created_at))::float8
            """)
        return try rows.map { row in
            let job = ClaimedJob(
                id: try row.decode(0), kind: try row.decode(1), queue: try row.decode(2), args: try row.decode(3),
                attempt: Int(try row.decode(4, as: Int16.self)), maxAttempts: Int(try row.decode(5, as: Int16.self)),
                dealerID: try row.decode(6))
            metrics.waited(kind: job.kind, seconds: max(0, try row.decode(7, as: Double.self)))
            return job
        }
    }

    // MARK: Running

    private func start(_ job: ClaimedJob) {
        inFlight.withLock { $0[job.queue, default: 0] += 1 }
        // Registered before the task starts, so lease renewal sees it from the first moment.
        running.withLock { $0[job.id] = RunningJob(attempt: job.attempt, queue: job.queue, task: nil) }
        let task = Task {
            let slotHeldUntilWritten = await self.execute(job)
            // Only this attempt's entry: a later attempt of the same job (the job was rescued or
            // retried while this handler ran on) may have replaced it.
            self.running.withLock { running in
                if running[job.id]?.attempt == job.attempt { running.removeValue(forKey: job.id) }
            }
            if !slotHeldUntilWritten { self.freeSlots([job.queue: 1]) }
            if self.isStopping { self.idleSignal.signal() }
        }
        running.withLock { running in
            if running[job.id]?.attempt == job.attempt {
                running[job.id] = RunningJob(attempt: job.attempt, queue: job.queue, task: task)
            }
        }
    }

    /// Gives back concurrency slots (a job ended, or its completion was written).
    @Sendable private func freeSlots(_ counts: [String: Int]) {
        inFlight.withLock { inFlight in
            for (queue, count) in counts { inFlight[queue, default: count] -= count }
        }
        for queue in counts.keys { wakeups[queue]?.signal() }
    }

    /// Runs one job and records its outcome. True when it completed: the completion is buffered
    /// and its slot is freed when the completion is written.
    private func execute(_ job: ClaimedJob) async -> Bool {
        var jobLogger = logger
        jobLogger[metadataKey: "job.id"] = "\(job.id)"
        jobLogger[metadataKey: "job.kind"] = .string(job.kind)
        guard let kind = registry.kinds[job.kind] else {
            await fail(job, error: "no handler for kind '\(job.kind)' in worker \(configuration.id)", logger: jobLogger)
            return false
        }
        let context = JobContext(
            id: job.id, kind: job.kind, queue: job.queue, args: job.args, attempt: job.attempt,
            maxAttempts: job.maxAttempts, dealerID: job.dealerID, logger: jobLogger)
        let started = ContinuousClock.now
        let result = await Self.run(kind.handler, context, timeout: kind.timeout)
        metrics.ran(kind: job.kind, duration: ContinuousClock.now - started)
        switch result {
        case .success(.completed):
            metrics.completed(kind: job.kind)
            // The slot stays taken until the completion is written (`freeSlots`).
            completer.complete(.init(id: job.id, attempt: job.attempt, queue: job.queue))
            return true
        case .success(.snooze(let delay)):
            await update(
                job,
                """
                UPDATE jobs SET state = 'scheduled', attempt = attempt - 1, lease_expires_at = NULL,
                       run_at = now() + make_interval(secs => \(delay.seconds))
                WHERE id = \(job.id) AND attempt = \(Int16(job.attempt)) AND state = 'running'
                """, logger: jobLogger)
        case .success(.cancel(let reason)):
            await update(
                job,
                """
                UPDATE jobs SET state = 'cancelled', finalized_at = now(), lease_expires_at = NULL,
                       errors = \(fragment: Self.appendError(attempt: job.attempt, message: "cancelled: " + reason))
                WHERE id = \(job.id) AND attempt = \(Int16(job.attempt)) AND state = 'running'
                """, logger: jobLogger)
        case .failure(let error):
            metrics.failed(kind: job.kind)
            let message = error is JobTimeout ? "timed out after \(kind.timeout)" : String(describing: error)
            await fail(job, error: message, logger: jobLogger)
        }
        return false
    }

    /// Runs a handler, giving up after `timeout` (its task is cancelled; a handler that ignores
    /// cancellation is abandoned, its late result ignored).
    static func run(
        _ handler: @escaping @Sendable (JobContext) async throws -> JobOutcome, _ context: JobContext, timeout: Duration
    ) async -> Result<JobOutcome, any Error> {
        let once = OnceResume<Result<JobOutcome, any Error>>()
        let work = Task {
            let result: Result<JobOutcome, any Error>
            do {
                result = .success(try await handler(context))
            } catch {
                result = .failure(error)
            }
            once.resume(result)
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled, once.resume(.failure(JobTimeout())) { work.cancel() }
        }
        once.onResume { timer.cancel() }
        // The handler runs in a task of its own (so a timeout can abandon it); cancelling the job's
        // task (shutdown past its grace) reaches the handler through this.
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in once.set(continuation) }
        } onCancel: {
            work.cancel()
        }
    }

    private func fail(_ job: ClaimedJob, error: String, logger: Logger) async {
        let delay = registry.kinds[job.kind]?.retryDelay(job.attempt) ?? Backoff.delay(afterAttempt: job.attempt)
        let discard = job.attempt >= job.maxAttempts
        logger.log(
            level: discard ? .error : .warning, discard ? "job failed for the last time; discarded" : "job failed; will retry",
            metadata: ["job.attempt": "\(job.attempt)", "error": "\(error)", "retry_in": "\(delay)"])
        await update(
            job,
            """
            UPDATE jobs SET
                state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'retryable' END,
                run_at = CASE WHEN attempt >= max_attempts THEN run_at ELSE now() + make_interval(secs => \(delay.seconds)) END,
                finalized_at = CASE WHEN attempt >= max_attempts THEN now() END,
                lease_expires_at = NULL,
                errors = \(fragment: Self.appendError(attempt: job.attempt, message: error))
            WHERE id = \(job.id) AND attempt = \(Int16(job.attempt)) AND state = 'running'
            """, logger: logger)
    }

    /// `errors` with one more entry, keeping the last `JobRecord.maxKeptErrors`.
    /// `attempt` nil: the job's current attempt.
    static func appendError(attempt: Int?, message: String) -> PostgresQuery {
        """
        (SELECT coalesce(jsonb_agg(e ORDER BY n), '[]'::jsonb) FROM (
            SELECT e, n FROM jsonb_array_elements(errors || jsonb_build_array(jsonb_build_object(
                'attempt', coalesce(\(attempt)::int, attempt), 'at', extract(epoch FROM now()),
                'error', left(\(message), 2000))))
                WITH ORDINALITY AS t(e, n)
            ORDER BY n DESC LIMIT \(JobRecord.maxKeptErrors)) AS kept)
        """
    }

    /// Writes a job's outcome, retrying while the database is unreachable (the lease keeps the
    /// job ours meanwhile; if the process dies, rescue takes over).
    private func update(_ job: ClaimedJob, _ query: PostgresQuery, logger: Logger) async {
        var attempt = 0
        while true {
            do {
                try await pool.execute(query)
                return
            } catch {
                attempt += 1
                if attempt == 1 { logger.warning("cannot record a job's outcome; retrying", metadata: ["error": "\(error)"]) }
                if attempt >= 50 { return }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    // MARK: Leases

    private func leaseLoop() async {
        let interval = configuration.lease / 3
        while !isFinished {
            await leaseSignal.wait(timeout: interval)
            if isFinished { return }
            let held = running.withLock { $0.map { ($0.key, $0.value.attempt) } } + completer.pending
            guard !held.isEmpty else { continue }
            do {
                try await writes.withLock {
                    try await pool.execute(
                        Statements.updateRunning(
                            held, set: "lease_expires_at = now() + make_interval(secs => \(configuration.lease.seconds))"))
                }
            } catch {
                logger.warning("cannot renew job leases", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Upkeep

    private func maintenanceLoop() async {
        var lastRescue = ContinuousClock.now - configuration.rescueInterval
        let scheduler = PeriodicScheduler(queue: queue, pool: pool, jobs: configuration.periodic, logger: logger)
        while !isStopping {
            do {
                let promoted = try await Maintenance.promoteDue(pool)
                for name in promoted { wakeups[name]?.signal() }
                if ContinuousClock.now - lastRescue >= configuration.rescueInterval {
                    lastRescue = ContinuousClock.now
                    let rescued = try await Maintenance.rescueExpired(pool)
                    if rescued > 0 { logger.warning("rescued jobs whose worker stopped renewing their lease", metadata: ["count": "\(rescued)"]) }
                }
                try await scheduler.tick()
            } catch {
                logger.warning("queue upkeep failed", metadata: ["error": "\(error)"])
            }
            upkeepRounds.add(1, ordering: .relaxed)
            try? await Task.sleep(for: configuration.maintenanceInterval)
        }
    }

    private func metricsLoop() async {
        while !isStopping {
            do {
                let counts = try await pool.query("SELECT state, kind, count(*)::int8 FROM jobs GROUP BY state, kind")
                metrics.depth(try counts.map { (try $0.decode(0, as: String.self), try $0.decode(1, as: String.self), try $0.decode(2, as: Int.self)) })
            } catch {
                logger.debug("cannot sample queue depth", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.metricsInterval)
        }
    }
}

/// A handler ran longer than its kind's timeout.
struct JobTimeout: Error {}

/// Resumes a continuation once, whoever comes first.
final class OnceResume<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, Never>?
        var value: Value?
        var done = false
        var onResume: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    func set(_ continuation: CheckedContinuation<Value, Never>) {
        let ready: Value? = state.withLock { state in
            if let value = state.value {
                state.done = true
                return value
            }
            state.continuation = continuation
            return nil
        }
        if let ready { continuation.resume(returning: ready) }
    }

    /// Resumes with `value` if nothing did before; true if this call did.
    @discardableResult
    func resume(_ value: Value) -> Bool {
        let (continuation, hook, won): (CheckedContinuation<Value, Never>?, (@Sendable () -> Void)?, Bool) = state.withLock { state in
            guard !state.done, state.value == nil else { return (nil, nil, false) }
            if let continuation = state.continuation {
                state.done = true
                state.continuation = nil
                return (continuation, state.onResume, true)
            }
            state.value = value
            return (nil, state.onResume, true)
        }
        continuation?.resume(returning: value)
        if won { hook?() }
        return won
    }

    func onResume(_ hook: @escaping @Sendable () -> Void) {
        let already = state.withLock { state -> Bool in
            state.onResume = hook
            return state.done || state.value != nil
        }
        if already { hook() }
    }
}

/// A wake-up for waiting loops: `signal` wakes every current waiter, or, when nobody waits, is
/// remembered for the next `wait` (no lost wake-ups).
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Waits in progress, and those whose timeout fired before they were registered.
        var active: Set<Int> = []
        var expired: Set<Int> = []
        var nextID = 0
    }
    private let state = Mutex(State())

    func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.waiters.isEmpty else {
                state.pending = true
                return []
            }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns at the next signal, or after `timeout`.
    func wait(timeout: Duration) async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            state.active.insert(state.nextID)
            return state.nextID
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { self?.timeOut(id) }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.pending || state.expired.remove(id) != nil {
                    state.pending = false
                    return true
                }
                state.waiters[id] = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        timer.cancel()
        state.withLock { state in
            state.active.remove(id)
            state.expired.remove(id)
        }
    }

    private func timeOut(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            if state.active.contains(id) { state.expired.insert(id) }
            return nil
        }
        waiter?.resume()
    }
}

extension Duration {
    /// Whole and fractional seconds, for `make_interval(secs => ...)`.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
