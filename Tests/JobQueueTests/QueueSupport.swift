import CRMTestSupport
import Foundation
@testable import JobQueue
import Logging
import PostgresClient
import Synchronization
import Testing

/// A worker running in this process, with its own pool and listener, as a separate worker
/// process would have.
final class RunningWorker: Sendable {
    let worker: JobWorker
    let pool: PostgresPool
    let listener: PostgresListener?
    private let task: Task<Void, any Error>
    private let listening: Task<Void, any Error>?

    init(
        database: TestDatabase, registry: JobRegistry, id: String, queues: [String: Int] = ["default": 10],
        listen: Bool = true, periodic: [PeriodicJob] = [], configure: (inout WorkerConfiguration) -> Void = { _ in }
    ) {
        pool = database.makePool(maxConnections: 6)
        var configuration = WorkerConfiguration(queues: queues, id: id)
        configuration.pollInterval = .milliseconds(200)
        configuration.maintenanceInterval = .milliseconds(100)
        configuration.rescueInterval = .milliseconds(200)
        configuration.periodic = periodic
        configuration.wakeup = listen ? .listen : .poll
        configure(&configuration)
        let listener = listen
            ? PostgresListener(
                configuration: PostgresConnectionConfiguration(url: database.url), blockingPool: TestDatabase.blockingPool,
                logger: TestDatabase.logger)
            : nil
        self.listener = listener
        listening = listener.map { listener in Task { try await listener.run() } }
        worker = JobWorker(
            pool: pool, queue: JobQueue(pool: pool, logger: TestDatabase.logger), registry: registry, listener: listener,
            configuration: configuration, logger: TestDatabase.logger)
        let worker = self.worker
        task = Task { try await worker.run() }
    }

    /// Graceful stop: no new claims, running jobs finish (or are released after the grace).
    func stop() async throws {
        worker.beginShutdown()
        try await task.value
        listener?.shutdown()
        listening?.cancel()
        pool.shutdownNow()
    }
}

/// Counts handler runs per job id.
final class RunLog: Sendable {
    private let runs = Mutex<[Int64: Int]>([:])

    func record(_ id: Int64) { runs.withLock { $0[id, default: 0] += 1 } }
    var counts: [Int64: Int] { runs.withLock { $0 } }
    var total: Int { runs.withLock { $0.values.reduce(0, +) } }
}

func jobState(_ id: Int64, _ pool: PostgresPool) async throws -> JobState? {
    try await pool.queryFirst("SELECT state FROM jobs WHERE id = \(id)")
        .map { JobState(rawValue: try $0.decode(0, as: String.self)) } ?? nil
}

func count(_ pool: PostgresPool, state: JobState? = nil) async throws -> Int {
    if let state {
        return try await pool.queryFirst("SELECT count(*)::int8 FROM jobs WHERE state = \(state.rawValue)")?.decode(0) ?? 0
    }
    return try await pool.queryFirst("SELECT count(*)::int8 FROM jobs")?.decode(0) ?? 0
}

/// A gate a handler waits at until the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>], arrived: Int)>((false, [], 0))

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state -> Bool in
                state.arrived += 1
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if open { continuation.resume() }
        }
    }

    var arrived: Int { state.withLock { $0.arrived } }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
