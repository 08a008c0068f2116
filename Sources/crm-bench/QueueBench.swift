import ArgumentParser
import Foundation
import JobQueue
import Logging
import PostgresClient
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The job kinds of the queue benchmark and of the worker processes the queue tests and the
/// fault suite kill: `bench.noop` returns at once; `bench.sleep` sleeps `{"ms": n}` milliseconds;
/// `bench.effect` writes one row per job into `fault_effects` (idempotently, counting reruns);
/// `bench.tick` is the periodic job of `queue-worker --tick-seconds`, one row per period into
/// `fault_ticks`.
enum BenchKinds {
    struct Sleep: Codable { var ms: Int }
    struct Tick: Codable { var period: Int64 }

    /// The fault suite's kinds, whose effects it counts (tables created by scripts/faults).
    static func effects(pool: PostgresPool) -> [JobKind] {
        [
            JobKind(name: "bench.effect") { context in
                try await pool.execute(
                    """
                    INSERT INTO fault_effects (job_id) VALUES (\(context.id))
                    ON CONFLICT (job_id) DO UPDATE SET runs = fault_effects.runs + 1
                    """)
                return .completed
            },
            JobKind(name: "bench.tick") { context in
                let tick = try context.arguments(Tick.self)
                try await pool.execute(
                    """
                    INSERT INTO fault_ticks (period) VALUES (\(tick.period))
                    ON CONFLICT (period) DO UPDATE SET runs = fault_ticks.runs + 1
                    """)
                return .completed
            },
        ]
    }

    static func registry(onRun: @escaping @Sendable () -> Void = {}) -> JobRegistry {
        var registry = JobRegistry()
        registry.register("bench.noop") { _ in
            onRun()
            return .completed
        }
        registry.register("bench.sleep", timeout: .seconds(3600)) { context in
            let args = try context.arguments(Sleep.self)
            try await Task.sleep(for: .milliseconds(args.ms))
            onRun()
            return .completed
        }
        return registry
    }

    static func pool(url: String, connections: Int) -> PostgresPool {
        PostgresPool(
            configuration: PostgresPoolConfiguration(
                connection: PostgresConnectionConfiguration(url: url), maxConnections: connections, minConnections: 0),
            logger: logger)
    }

    static let logger: Logger = {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        return logger
    }()
}

/// `crm-bench queue`: enqueue rate, drain rate and a steady-state mix of the job queue.
struct QueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "Job queue throughput: enqueue, drain, steady state.")

    @Option(help: "libpq URL of a migrated database (its jobs are deleted).") var url: String
    @Option(help: "Jobs to enqueue and drain.") var jobs = 100_000
    @Option(help: "Jobs per enqueue statement.") var batch = 1_000
    @Option(help: "Concurrent enqueuing tasks.") var enqueuers = 2
    @Option(help: "Jobs the worker runs at once.") var concurrency = 200
    @Option(help: "Most jobs claimed per statement.") var fetch = 200
    @Option(help: "Seconds of the steady-state mix.") var seconds = 10
    @Option(help: "Concurrent producers in the steady state, each enqueuing one job per transaction.") var producers = 4
    @Option(help: "Pool size of the benchmark process.") var connections = 8
    /// Handler runs so far.
    let runs = Counter()

    enum CodingKeys: String, CodingKey {
        case url, jobs, batch, enqueuers, concurrency, fetch, seconds, producers, connections
    }

    func run() async throws {
        let pool = BenchKinds.pool(url: url, connections: connections)
        defer { pool.shutdownNow() }
        let queue = JobQueue(pool: pool, logger: BenchKinds.logger)
        try await reset(pool)

        // 1. Enqueue in batches.
        let batches = stride(from: 0, to: jobs, by: batch).map { min(batch, jobs - $0) }
        let next = Counter()
        let enqueueStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<enqueuers {
                group.addTask {
                    while true {
                        let index = next.increment() - 1
                        guard index < batches.count else { return }
                        let requests = (0..<batches[index]).map { _ in JobRequest(kind: "bench.noop") }
                        _ = try await pool.withTransaction { try await queue.enqueueMany(requests, in: $0) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let enqueueSeconds = (ContinuousClock.now - enqueueStart).seconds
        print(
            "bench=queue_enqueue client=swift jobs=\(jobs) batch=\(batch) tasks=\(enqueuers) "
                + String(format: "seconds=%.2f jobs_per_s=%.0f", enqueueSeconds, Double(jobs) / enqueueSeconds))

        // 2. Drain them: fetch, run, complete.
        let drainStart = ContinuousClock.now
        let runsBeforeDrain = runs.value
        try await withWorker(pool: pool, queue: queue) {
            try await waitForCompleted(jobs, pool, runsBefore: runsBeforeDrain)
        }
        let drainSeconds = (ContinuousClock.now - drainStart).seconds
        print(
            "bench=queue_drain client=swift jobs=\(jobs) concurrency=\(concurrency) fetch=\(fetch) "
                + String(format: "seconds=%.2f jobs_per_s=%.0f", drainSeconds, Double(jobs) / drainSeconds))

        // 3. Steady state: producers enqueue one job per transaction while the worker drains.
        try await reset(pool)
        let enqueued = Counter()
        let runsBeforeSteady = runs.value
        let window = try await withWorker(pool: pool, queue: queue) { () -> (Date, Date) in
            let from = Date()
            let end = ContinuousClock.now + .seconds(seconds)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<producers {
                    group.addTask {
                        while ContinuousClock.now < end {
                            try await pool.withTransaction { try await queue.enqueue(JobRequest(kind: "bench.noop"), in: $0) }
                            enqueued.increment()
                        }
                    }
                }
                try await group.waitForAll()
            }
            let to = Date()
            try await waitForCompleted(enqueued.value, pool, runsBefore: runsBeforeSteady)
            return (from, to)
        }
        let stats = try await pool.queryFirst(
            """
            SELECT count(*) FILTER (WHERE finalized_at <= \(window.1))::int8,
                   coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM attempted_at - created_at)), 0)::float8,
                   coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM attempted_at - created_at)), 0)::float8
            FROM jobs WHERE state = 'completed'
            """)
        let total = Double(enqueued.value)
        let span = window.1.timeIntervalSince(window.0)
        let completedInWindow = Double(try stats?.decode(0, as: Int64.self) ?? 0)
        print(
            "bench=queue_steady client=swift producers=\(producers) seconds=\(seconds) "
                + String(
                    format: "enqueued_per_s=%.0f completed_per_s=%.0f wait_p50_ms=%.2f wait_p99_ms=%.2f",
                    total / span, completedInWindow / span, (try stats?.decode(1, as: Double.self) ?? 0) * 1000,
                    (try stats?.decode(2, as: Double.self) ?? 0) * 1000))
    }

    private func reset(_ pool: PostgresPool) async throws {
        try await pool.execute("TRUNCATE jobs, job_uniques")
        try await pool.execute("VACUUM ANALYZE jobs")
    }

    /// Waits until the handlers ran `count` jobs (counted in memory, so the wait does not load
    /// the database), then until their completions are written.
    private func waitForCompleted(_ count: Int, _ pool: PostgresPool, runsBefore: Int) async throws {
        while runs.value - runsBefore < count { try await Task.sleep(for: .milliseconds(5)) }
        while true {
            let done = try await pool.queryFirst("SELECT count(*)::int8 FROM jobs WHERE state = 'completed'")?
                .decode(0, as: Int64.self) ?? 0
            if done >= count { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs `body` with a worker draining the default queue; stops it gracefully afterwards.
    private func withWorker<T: Sendable>(
        pool: PostgresPool, queue: JobQueue, _ body: () async throws -> T
    ) async throws -> T {
        var configuration = WorkerConfiguration(queues: ["default": concurrency], id: "bench")
        configuration.maxFetch = fetch
        let listener = PostgresListener(
            configuration: PostgresConnectionConfiguration(url: url), blockingPool: pool.blockingPool, logger: BenchKinds.logger)
        let listening = Task { try await listener.run() }
        defer {
            listener.shutdown()
            listening.cancel()
        }
        let worker = JobWorker(
            pool: pool, queue: queue, registry: BenchKinds.registry(onRun: { self.runs.increment() }), listener: listener,
            configuration: configuration,
            logger: BenchKinds.logger)
        let running = Task { try await worker.run() }
        do {
            let value = try await body()
            worker.beginShutdown()
            try await running.value
            return value
        } catch {
            worker.beginShutdown()
            _ = try? await running.value
            throw error
        }
    }
}

/// `crm-bench queue-worker`: a worker process running the benchmark kinds until SIGTERM (graceful)
/// or SIGKILL (the queue tests kill one in the middle of a job).
struct QueueWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue-worker", abstract: "A worker process that runs bench.noop and bench.sleep jobs.")

    @Option(help: "libpq URL of a migrated database.") var url: String
    @Option(help: "Worker id (recorded in attempted_by).") var id: String
    @Option(help: "Jobs run at once.") var concurrency = 10
    @Option(help: "Lease in seconds.") var leaseSeconds = 30
    @Option(help: "Graceful shutdown grace in seconds.") var graceSeconds = 10
    @Flag(help: "Also run the fault suite's kinds (bench.effect, bench.tick).") var effects = false
    @Option(help: "Enqueue bench.tick every this many seconds (0: never).") var tickSeconds = 0

    func run() async throws {
        let pool = BenchKinds.pool(url: url, connections: 4)
        let listener = PostgresListener(
            configuration: PostgresConnectionConfiguration(url: url), blockingPool: pool.blockingPool, logger: BenchKinds.logger)
        var configuration = WorkerConfiguration(queues: ["default": concurrency], id: id)
        configuration.lease = .seconds(leaseSeconds)
        configuration.shutdownGrace = .seconds(graceSeconds)
        var registry = BenchKinds.registry()
        if effects { for kind in BenchKinds.effects(pool: pool) { registry.register(kind) } }
        if tickSeconds > 0 {
            configuration.periodic = [
                PeriodicJob(
                    name: "bench.tick", recurrence: .every(.seconds(tickSeconds)), maxCatchUp: 10_000,
                    makeJob: { period, _ in
                        try JobRequest(kind: "bench.tick", arguments: BenchKinds.Tick(period: Int64(period.timeIntervalSince1970)))
                    })
            ]
        }
        let worker = JobWorker(
            pool: pool, queue: JobQueue(pool: pool, logger: BenchKinds.logger), registry: registry,
            listener: listener, configuration: configuration, logger: BenchKinds.logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: pool), .init(service: listener), .init(service: worker)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: BenchKinds.logger))
        try await group.run()
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// A shared counter.
final class Counter: Sendable {
    private let atomic = Atomic<Int>(0)
    /// Adds one and returns the new value.
    @discardableResult
    func increment() -> Int { atomic.add(1, ordering: .relaxed).newValue }
    var value: Int { atomic.load(ordering: .relaxed) }
}
