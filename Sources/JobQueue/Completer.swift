import DequeModule
import Logging
import PostgresClient
import Synchronization

/// Writes completions in batches: one `Statements.updateRunning` for up to `completionBatch`
/// jobs, at most `completionDelay` after the first. Each row is guarded by its attempt and
/// `state = 'running'`, so a job that was rescued, cancelled or re-claimed meanwhile is never
/// overwritten.
///
/// A completed job keeps its slot in its queue's concurrency until its completion is written
/// (`released` is called then): claiming can never outrun the writing of results.
final class Completer: Sendable {
    struct Completion: Sendable {
        let id: Int64
        let attempt: Int
        let queue: String
    }

    private let pool: PostgresPool
    private let configuration: WorkerConfiguration
    private let logger: Logger
    private let writes: AsyncLock
    private let buffer = Mutex<[Completion]>([])
    private let signal = WakeSignal()
    /// Buffered completions that are written at once, without waiting `completionDelay` for
    /// more: half the worker's slots, so a busy worker never idles waiting on its own results.
    private let flushNow: Int

    /// - Parameter writes: held while a batch is written; the lease renewal holds it too, so the
    ///   two multi-row updates of one worker never lock rows in opposite orders (a deadlock).
    init(pool: PostgresPool, configuration: WorkerConfiguration, logger: Logger, writes: AsyncLock) {
        self.pool = pool
        self.configuration = configuration
        self.logger = logger
        self.writes = writes
        self.flushNow = min(configuration.completionBatch, max(1, configuration.queues.values.reduce(0, +) / 2))
    }

    /// Completions not written yet (their leases must still be renewed).
    var pending: [(id: Int64, attempt: Int)] { buffer.withLock { $0.map { ($0.id, $0.attempt) } } }

    func complete(_ completion: Completion) {
        let count = buffer.withLock { buffer -> Int in
            buffer.append(completion)
            return buffer.count
        }
        if count == 1 || count >= flushNow { signal.signal() }
    }

    func wake() { signal.signal() }

    /// Flushes until `finished()` holds and nothing is left; `released` gets the slots each
    /// written batch frees, by queue. Once finished, it gives up after `giveUpAfter` if the
    /// database cannot take the last completions (shutdown must end): those jobs' leases expire
    /// and another worker runs them again.
    func run(
        until finished: @escaping @Sendable () -> Bool, giveUpAfter: Duration = .seconds(10),
        released: @escaping @Sendable ([String: Int]) -> Void
    ) async {
        var finishedAt: ContinuousClock.Instant?
        while true {
            await signal.wait(timeout: .milliseconds(200))
            // Gather more for up to `completionDelay`, unless enough are already waiting.
            let deadline = ContinuousClock.now + configuration.completionDelay
            while buffer.withLock({ $0.count }) < flushNow, !finished() {
                let left = deadline - .now
                if left <= .zero { break }
                await signal.wait(timeout: left)
            }
            await flush(released: released)
            guard finished() else { continue }
            let left = buffer.withLock { $0.count }
            if left == 0 { return }
            let since = finishedAt ?? .now
            finishedAt = since
            if ContinuousClock.now - since >= giveUpAfter {
                logger.error(
                    "cannot record completed jobs at shutdown; they will run again when their leases expire",
                    metadata: ["count": "\(left)"])
                return
            }
        }
    }

    /// Writes everything buffered, a batch at a time; on failure keeps it for the next round.
    func flush(released: @Sendable ([String: Int]) -> Void) async {
        while let written = await flushBatch() {
            released(written.counts)
            if !written.more { return }
        }
    }

    /// Writes up to `completionBatch` buffered completions. Nil when nothing was written.
    private func flushBatch() async -> (counts: [String: Int], more: Bool)? {
        let limit = configuration.completionBatch
        let batch = buffer.withLock { buffer -> [Completion] in
            let taken = Array(buffer.prefix(limit))
            buffer.removeFirst(taken.count)
            return taken
        }
        guard !batch.isEmpty else { return nil }
        do {
            try await writes.withLock {
                try await pool.execute(
                    Statements.updateRunning(
                        batch.map { ($0.id, $0.attempt) }, set: "state = 'completed', finalized_at = now(), lease_expires_at = NULL"))
            }
        } catch {
            logger.warning("cannot record completed jobs; retrying", metadata: ["count": "\(batch.count)", "error": "\(error)"])
            buffer.withLock { $0.insert(contentsOf: batch, at: 0) }
            try? await Task.sleep(for: .milliseconds(200))
            signal.signal()
            return nil
        }
        return (Dictionary(batch.map { ($0.queue, 1) }, uniquingKeysWith: +), batch.count == limit)
    }
}

/// A lock for async code: one holder at a time, waiters served in order.
final class AsyncLock: Sendable {
    private struct State {
        var held = false
        var waiters = Deque<CheckedContinuation<Void, Never>>()
    }
    private let state = Mutex(State())

    func withLock<T>(_ body: () async throws -> T) async rethrows -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.held {
                    state.waiters.append(continuation)
                    return false
                }
                state.held = true
                return true
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let next = state.waiters.popFirst() { return next }
            state.held = false
            return nil
        }
        next?.resume()
    }
}
