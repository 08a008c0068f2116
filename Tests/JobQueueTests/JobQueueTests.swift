import CRMTestSupport
import Foundation
@testable import JobQueue
import PostgresClient
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Job queue: enqueue, unique jobs, workers, failures")
struct JobQueueTests {
    @Test("a job enqueued in a transaction that rolls back leaves no job and no unique claim")
    func transactionalEnqueue() async throws {
        try await withTestPool { pool, _ in
            let queue = JobQueue(pool: pool, logger: TestDatabase.logger)
            struct BusinessRuleFailed: Error {}
            await #expect(throws: BusinessRuleFailed.self) {
                try await pool.withTransaction { tx in
                    try await tx.execute("CREATE TEMP TABLE business (x int)")
                    try await queue.enqueue(JobRequest(kind: "welcome", uniqueKey: "welcome:1"), in: tx)
                    throw BusinessRuleFailed()
                }
            }
            #expect(try await count(pool) == 0)
            #expect(try await pool.queryFirst("SELECT count(*)::int8 FROM job_uniques")?.decode(0, as: Int64.self) == 0)

            // Committed: the job exists, with the defaults and the key.
            let result = try await pool.withTransaction { tx in
                try await queue.enqueue(JobRequest(kind: "welcome", uniqueKey: "welcome:1"), in: tx)
            }
            guard case .inserted(let id) = result else { throw TestFailure("expected an insert, got \(result)") }
            let job = try #require(try await queue.job(id: id, scope: "true", in: pool))
            #expect(job.state == .available)
            #expect(job.kind == "welcome")
            #expect(job.uniqueKey == "welcome:1")
            #expect(job.attempt == 0)

            // Without run_at a job runs at the database's now(), even late in a long transaction
            // (whose now() is its start: this process's clock is ahead of it by then).
            let late = try await pool.withTransaction { tx in
                try await tx.execute("SELECT pg_sleep(0.2)")
                let one = try await queue.enqueue(JobRequest(kind: "late"), in: tx)
                let many = try await queue.enqueueMany([JobRequest(kind: "late"), JobRequest(kind: "late")], in: tx)
                return [one.id] + many
            }
            for id in late { #expect(try await jobState(try #require(id), pool) == .available) }

            // A later run_at is scheduled, not available.
            let later = try await queue.enqueue(JobRequest(kind: "later", runAt: Date().addingTimeInterval(3600)))
            #expect(try await jobState(try #require(later.id), pool) == .scheduled)
        }
    }

    @Test("20 concurrent enqueuers of one unique key make exactly one job")
    func uniqueUnderConcurrency() async throws {
        try await withTestPool(maxConnections: 20) { pool, _ in
            let queue = JobQueue(pool: pool, logger: TestDatabase.logger)
            let key = "anniversary:customer-42:year-2"
            let results = try await withThrowingTaskGroup(of: EnqueueResult.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await pool.withTransaction { tx in
                            // Hold the transaction open a moment so the enqueuers really overlap.
                            let result = try await queue.enqueue(JobRequest(kind: "anniversary.gift", uniqueKey: key), in: tx)
                            try await tx.execute("SELECT pg_sleep(0.05)")
                            return result
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let inserted = results.compactMap { if case .inserted(let id) = $0 { id } else { nil } }
            #expect(inserted.count == 1)
            #expect(results.filter { if case .duplicate(let existing) = $0 { existing == inserted.first } else { false } }.count == 19)
            #expect(try await count(pool) == 1)

            // A claim that expired is taken over by the next enqueuer of its key.
            let expiring = try await queue.enqueue(JobRequest(kind: "reminder", uniqueKey: "reminder:v1", uniqueFor: .seconds(3600)))
            #expect(try await queue.enqueue(JobRequest(kind: "reminder", uniqueKey: "reminder:v1")) == .duplicate(existing: expiring.id))
            try await pool.execute("UPDATE job_uniques SET expires_at = now() - interval '1 second' WHERE unique_key = 'reminder:v1'")
            let again = try await queue.enqueue(JobRequest(kind: "reminder", uniqueKey: "reminder:v1"))
            guard case .inserted(let newID) = again else { throw TestFailure("expected a new job, got \(again)") }
            #expect(newID != expiring.id)
            try await pool.execute("DELETE FROM jobs WHERE kind = 'reminder'")

            // Bulk enqueue skips the claimed key and keeps the order of the rest.
            let ids = try await queue.enqueueMany(
                [JobRequest(kind: "a"), JobRequest(kind: "anniversary.gift", uniqueKey: key), JobRequest(kind: "b")], in: pool)
            #expect(ids.count == 3)
            #expect(ids[0] != nil && ids[1] == nil && ids[2] != nil)
            #expect(try await count(pool) == 3)
        }
    }

    @Test("two workers over 10,000 jobs run every job exactly once")
    func twoWorkersExactlyOnce() async throws {
        try await withTestDatabase { database in
            let pool = database.makePool(maxConnections: 4)
            defer { pool.shutdownNow() }
            let queue = JobQueue(pool: pool, logger: TestDatabase.logger)
            let total = 10_000
            for start in stride(from: 0, to: total, by: 2_000) {
                _ = try await queue.enqueueMany(
                    (start..<(start + 2_000)).map { try JobRequest(kind: "count", arguments: ["n": $0]) }, in: pool)
            }
            let runs = RunLog()
            var registry = JobRegistry()
            registry.register("count") { context in
                runs.record(context.id)
                return .completed
            }
            let workers = [
                RunningWorker(database: database, registry: registry, id: "w1", queues: ["default": 50]),
                RunningWorker(database: database, registry: registry, id: "w2", queues: ["default": 50]),
            ]
            let drained = try await eventually(within: .seconds(120), every: .milliseconds(200)) {
                try await count(pool, state: .completed) == total
            }
            for worker in workers { try await worker.stop() }
            #expect(drained)
            #expect(runs.counts.count == total)
            #expect(runs.counts.values.allSatisfy { $0 == 1 })
            #expect(try await count(pool, state: .completed) == total)
            // Both workers took part, and every job was attempted once.
            let byWorker = try await pool.query(
                "SELECT attempted_by[1], count(*)::int8 FROM jobs GROUP BY 1 ORDER BY 1")
            #expect(byWorker.count == 2)
            #expect(try await pool.queryFirst("SELECT max(attempt)::int8 FROM jobs")?.decode(0, as: Int64.self) == 1)
        }
    }

    @Test("a handler that fails twice then succeeds ends completed with two errors recorded")
    func retriesThenSucceeds() async throws {
        try await withTestDatabase { database in
            let pool = database.makePool()
            defer { pool.shutdownNow() }
            let queue = JobQueue(pool: pool, logger: TestDatabase.logger)
            struct Flaky: Error, CustomStringConvertible { let attempt: Int; var description: String { "SMS gateway down (\(attempt))" } }
            var registry = JobRegistry()
            registry.register("flaky", retryDelay: { _ in .milliseconds(100) }) { context in
                if context.attempt <= 2 { throw Flaky(attempt: context.attempt) }
                return .completed
            }
            registry.register("hopeless", retryDelay: { _ in .milliseconds(50) }) { _ in throw Flaky(attempt: 0) }
            let flaky = try #require(try await queue.enqueue(JobRequest(kind: "flaky")).id)
            let hopeless = try #require(try await queue.enqueue(JobRequest(kind: "hopeless", maxAttempts: 3)).id)
            let worker = RunningWorker(database: database, registry: registry, id: "w")
            let done = try await eventually {
                let first = try await jobState(flaky, pool)
                let second = try await jobState(hopeless, pool)
                return first == .completed && second == .discarded
            }
            try await worker.stop()
            #expect(done)
            let job = try #require(try await queue.job(id: flaky, scope: "true", in: pool))
            #expect(job.state == .completed)
            #expect(job.attempt == 3)
            #expect(job.errors.map(\.attempt) == [1, 2])
            // Recorded now, not decades away (the database stores Unix seconds).
            #expect(job.errors.allSatisfy { abs($0.at.timeIntervalSinceNow) < 120 })
            #expect(job.errors.map(\.error) == ["SMS gateway down (1)", "SMS gateway down (2)"])
            #expect(job.finalizedAt != nil)

            let discarded = try #require(try await queue.job(id: hopeless, scope: "true", in: pool))
            #expect(discarded.attempt == 3)
            #expect(discarded.errors.count == 3)
        }
    }

    @Test("Backoff grows with the attempt, with jitter, capped at a day")
    func backoff() {
        let first = Backoff.delay(afterAttempt: 1)
        #expect(first >= .milliseconds(900) && first <= .milliseconds(1100))
        let fourth = Backoff.delay(afterAttempt: 4)
        #expect(fourth >= .seconds(230) && fourth <= .seconds(282))
        #expect(Backoff.delay(afterAttempt: 100) <= .seconds(86_400 * 11 / 10))
    }

    @Test("a handler can snooze (no attempt used) or cancel itself; a hung handler times out and is retried")
    func snoozeCancelTimeout() async throws {
        try await withTestDatabase { database in
            let pool = database.makePool()
            defer { pool.shutdownNow() }
            let queue = JobQueue(pool: pool, logger: TestDatabase.logger)
            let snoozes = RunLog()
            var registry = JobRegistry()
            registry.register("snoozer") { context in
                snoozes.record(context.id)
                return snoozes.counts[context.id] == 1 ? .snooze(.milliseconds(300)) : .completed
            }
            registry.register("canceller") { _ in .cancel(reason: "customer withdrew consent") }
            registry.register("hangs", timeout: .milliseconds(300), retryDelay: { _ in .milliseconds(50) }) { context in
                if context.attempt == 1 {
                    // Ignores cancellation for a while: the worker must not wait for it.
                    try? await Task.sleep(for: .seconds(60))
                }
                return .completed
            }
            let snoozer = try #require(try await queue.enqueue(JobRequest(kind: "snoozer")).id)
            let canceller = try #require(try await queue.enqueue(JobRequest(kind: "canceller")).id)
            let hangs = try #require(try await queue.enqueue(JobRequest(kind: "hangs")).id)
            let worker = RunningWorker(database: database, registry: registry, id: "w")
            let done = try await eventually {
                let states = [try await jobState(snoozer, pool), try await jobState(canceller, pool), try await jobState(hangs, pool)]
                return states == [.completed, .cancelled, .completed]
            }
            try await worker.stop()
            #expect(done)
            let snoozed = try #require(try await queue.job(id: snoozer, scope: "true", in: pool))
            #expect(snoozed.attempt == 1)
            #expect(snoozed.errors.isEmpty)
            let cancelled = try #require(try await queue.job(id: canceller, scope: "true", in: pool))
            #expect(cancelled.errors.first?.error == "cancelled: customer withdrew consent")
            let timedOut = try #require(try await queue.job(id: hangs, scope: "true", in: pool))
            #expect(timedOut.attempt == 2)
            #expect(timedOut.errors.first?.error.hasPrefix("timed out after") == true)
        }
    }

    @Test("an idle worker starts a new job within milliseconds of its commit (LISTEN), and polls without it")
    func wakeUp() async throws {
        try await withTestDatabase { database in
            let pool = database.makePool()
            defer { pool.shutdownNow() }
            let queue = JobQueue(pool: pool, logger: TestDatabase.logger)
            let started = Mutex<[Int64: ContinuousClock.Instant]>([:])
            var registry = JobRegistry()
            registry.register("ping") { context in
                started.withLock { $0[context.id] = .now }
                return .completed
            }
            // Polling every 30 s: only a notification can start the job quickly.
            let worker = RunningWorker(database: database, registry: registry, id: "listening") {
                $0.pollInterval = .seconds(30)
                $0.maintenanceInterval = .seconds(30)
            }
            // Let the worker go idle and its LISTEN take effect (the first claim does not wait for it).
            let warmUp = try #require(try await queue.enqueue(JobRequest(kind: "ping")).id)
            _ = try await eventually(within: .seconds(40)) { started.withLock { $0[warmUp] != nil } }
            #expect(try await worker.listener?.waitUntilListening(on: JobQueue.channel) == true)
            try await Task.sleep(for: .milliseconds(300))
            var latencies: [Duration] = []
            for _ in 0..<5 {
                let committed = ContinuousClock.now
                let id = try #require(try await queue.enqueue(JobRequest(kind: "ping")).id)
                _ = try await eventually(within: .seconds(5), every: .milliseconds(2)) { started.withLock { $0[id] != nil } }
                if let at = started.withLock({ $0[id] }) { latencies.append(at - committed) }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await worker.stop()
            #expect(latencies.count == 5)
            // Far under the 30 s poll: woken by the notification. (Milliseconds on an idle machine;
            // the bound leaves room for a CI machine running the whole suite on two cores.)
            #expect(latencies.allSatisfy { $0 < .seconds(3) }, "latencies: \(latencies)")
            #expect(latencies.sorted()[2] < .seconds(1), "latencies: \(latencies)")

            // Pure polling mode (PgBouncer): no LISTEN, the job still runs within a poll period.
            let polling = RunningWorker(database: database, registry: registry, id: "polling", listen: false) {
                $0.pollInterval = .milliseconds(200)
            }
            let id = try #require(try await queue.enqueue(JobRequest(kind: "ping")).id)
            #expect(try await eventually(within: .seconds(5)) { started.withLock { $0[id] != nil } })
            try await polling.stop()
        }
    }

    @Test("a worker killed with SIGKILL in the middle of a job: another worker runs it after the lease expires")
    func crashRescue() async throws {
        try await withTestDatabase { database in
            let pool = database.makePool()
            defer { pool.shutdownNow() }
            let queue = JobQueue(pool: pool, logger: TestDatabase.logger)
            let id = try #require(
                try await queue.enqueue(try JobRequest(kind: "bench.sleep", arguments: ["ms": 120_000])).id)
            let victim = try ChildProcess([
                BuiltProducts.crmBench, "queue-worker", "--url", database.url, "--id", "victim", "--lease-seconds", "2",
            ])
            let claimed = try await eventually(within: .seconds(60), every: .milliseconds(100)) {
                try await pool.queryFirst(
                    "SELECT 1 FROM jobs WHERE id = \(id) AND state = 'running' AND attempted_by = ARRAY['victim']"
                ) != nil
            }
            #expect(claimed)
            // The lease is renewed while the handler runs: after more than one lease it is still ours.
            try await Task.sleep(for: .seconds(3))
            #expect(try await jobState(id, pool) == .running)
            victim.signal(SIGKILL)
            #expect(await victim.wait() == 128 + SIGKILL)
            let killedAt = ContinuousClock.now

            var registry = JobRegistry()
            registry.register("bench.sleep") { _ in .completed }
            let rescuer = RunningWorker(database: database, registry: registry, id: "rescuer")
            let rescued = try await eventually(within: .seconds(30)) { try await jobState(id, pool) == .completed }
            let elapsed = ContinuousClock.now - killedAt
            try await rescuer.stop()
            #expect(rescued)
            let job = try #require(try await queue.job(id: id, scope: "true", in: pool))
            #expect(job.attemptedBy == ["victim", "rescuer"])
            #expect(job.attempt == 2)
            #expect(job.errors.count == 1)
            #expect(job.errors.first?.error.contains("lease expired: worker victim") == true)
            // Not before the victim's last renewal ran out (the lease is 2 s, renewed every 2/3 s).
            #expect(elapsed < .seconds(30))
        }
    }

    @Test("a rescue and a late completion never overwrite each other")
    func rescueVersusCompletion() async throws {
        try await withTestDatabase { database in
            let pool = database.makePool()
            defer { pool.shutdownNow() }
            let queue = JobQueue(pool: pool, logger: TestDatabase.logger)
            let gate = Gate()
            let runs = RunLog()
            var registry = JobRegistry()
            registry.register("slow") { context in
                runs.record(context.id)
                if context.attempt == 1 { await gate.wait() }
                return .completed
            }
            let id = try #require(try await queue.enqueue(JobRequest(kind: "slow")).id)
            // The test drives upkeep by hand (the worker's own runs once, at its start).
            let worker = RunningWorker(database: database, registry: registry, id: "partitioned") {
                $0.rescueInterval = .seconds(3600)
                $0.maintenanceInterval = .seconds(3600)
                $0.lease = .seconds(3600)  // no renewal between the test's expiry and its rescue
            }
            #expect(try await eventually { gate.arrived == 1 })
            // The worker's own upkeep runs once at its start, and on a loaded machine that round can
            // come after the job started: it would rescue the job below before this test does, or
            // promote it once rescued and run it again. Wait for that round to end.
            #expect(try await eventually { worker.worker.finishedUpkeepRounds >= 1 })
            // The worker lost contact long enough for its lease to run out; rescue takes the job.
            try await pool.execute("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = \(id)")
            #expect(try await Maintenance.rescueExpired(pool) == 1)
            #expect(try await jobState(id, pool) == .retryable)
            // The rescued job waits, so only this test promotes it.
            try await pool.execute("UPDATE jobs SET run_at = now() + interval '1 hour' WHERE id = \(id)")
            // The first attempt now finishes: its completion must not touch the rescued job...
            gate.open()
            #expect(try await eventually { runs.counts[id] == 1 && worker.worker.isIdle })
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await jobState(id, pool) == .retryable)
            // ...which a second attempt runs and completes.
            try await pool.execute("UPDATE jobs SET run_at = now() WHERE id = \(id)")
            _ = try await Maintenance.promoteDue(pool)
            let finished = try await eventually { try await jobState(id, pool) == .completed }
            try await worker.stop()
            #expect(finished)
            let job = try #require(try await queue.job(id: id, scope: "true", in: pool))
            #expect(job.attempt == 2)
            #expect(runs.counts[id] == 2)

            // And a completed job is never rescued, however old its lease.
            try await pool.execute("UPDATE jobs SET lease_expires_at = now() - interval '1 hour' WHERE id = \(id)")
            #expect(try await Maintenance.rescueExpired(pool) == 0)
            #expect(try await jobState(id, pool) == .completed)
        }
    }

    @Test("a job cancelled and retried while its first handler still runs: the second attempt keeps its lease")
    func secondAttemptKeepsLease() async throws {
        try await withTestDatabase { database in
            let pool = database.makePool()
            defer { pool.shutdownNow() }
            let queue = JobQueue(pool: pool, logger: TestDatabase.logger)
            let first = Gate()
            let second = Gate()
            var registry = JobRegistry()
            registry.register("long") { context in
                if context.attempt == 1 { await first.wait() } else { await second.wait() }
                return .completed
            }
            let id = try #require(try await queue.enqueue(JobRequest(kind: "long")).id)
            let worker = RunningWorker(database: database, registry: registry, id: "one", queues: ["default": 2]) {
                $0.lease = .seconds(6)
            }
            #expect(try await eventually { first.arrived == 1 })
            // An admin cancels the stuck job (its handler runs on) and retries it: attempt 2 starts
            // in the same worker.
            _ = try await queue.cancel(id: id, scope: "true")
            _ = try await queue.retry(id: id, scope: "true")
            #expect(try await eventually { second.arrived == 1 })
            // Attempt 1 ends; attempt 2 must stay tracked, so its lease is renewed past the 6 s lease
            // (renewed every 2 s: a stalled renewal on a loaded machine still has 4 s of slack).
            first.open()
            try await Task.sleep(for: .seconds(7))
            #expect(worker.worker.runningCount == 1)
            let row = try await pool.queryFirst("SELECT state, attempt FROM jobs WHERE id = \(id)")
            #expect(try row?.decode(0, as: String.self) == "running")
            #expect(try row?.decode(1, as: Int16.self) == 2)
            second.open()
            #expect(try await eventually { try await jobState(id, pool) == .completed })
            try await worker.stop()
        }
    }

    @Test("graceful shutdown loses nothing: running jobs finish, unclaimed ones wait, overdue ones are released")
    func gracefulShutdown() async throws {
        try await withTestDatabase { database in
            let pool = database.makePool()
            defer { pool.shutdownNow() }
            let queue = JobQueue(pool: pool, logger: TestDatabase.logger)
            let runs = RunLog()
            let gate = Gate()
            var registry = JobRegistry()
            registry.register("work") { context in
                runs.record(context.id)
                await gate.wait()
                try await Task.sleep(for: .milliseconds(100))
                return .completed
            }
            let ids = try await queue.enqueueMany((0..<30).map { _ in JobRequest(kind: "work") }, in: pool).compactMap { $0 }
            let first = RunningWorker(database: database, registry: registry, id: "first", queues: ["default": 5])
            #expect(try await eventually { gate.arrived == 5 })
            // SIGTERM: stop claiming, let the five running jobs finish.
            first.worker.beginShutdown()
            gate.open()
            try await first.stop()
            #expect(runs.total == 5)
            #expect(try await count(pool, state: .completed) == 5)
            #expect(try await count(pool, state: .available) == 25)
            #expect(try await count(pool, state: .running) == 0)

            // A handler still running at the end of the grace period is released, not lost, and
            // its late outcome does not overwrite the next attempt.
            let cancelled = RunLog()
            var stuckRegistry = JobRegistry()
            stuckRegistry.register("work") { context in
                runs.record(context.id)
                do {
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    // Shutdown past its grace cancels the handler.
                    cancelled.record(context.id)
                }
                return .completed
            }
            let second = RunningWorker(database: database, registry: stuckRegistry, id: "second", queues: ["default": 2]) {
                $0.shutdownGrace = .milliseconds(200)
            }
            #expect(try await eventually { runs.total == 7 })
            try await second.stop()
            #expect(try await eventually(within: .seconds(5)) { cancelled.total == 2 })
            #expect(try await count(pool, state: .running) == 0)
            #expect(try await count(pool, state: .completed) == 5)
            let interrupted = try await pool.query(
                "SELECT attempt, max_attempts, errors->0->>'error' FROM jobs WHERE attempted_by @> ARRAY['second']")
            #expect(interrupted.count == 2)
            for row in interrupted {
                #expect(try row.decode(0, as: Int16.self) == 1)
                #expect(try row.decode(2, as: String.self).contains("interrupted: worker second shut down"))
            }

            // The next worker runs everything that is left: every job completes.
            let third = RunningWorker(database: database, registry: registry, id: "third", queues: ["default": 10])
            let all = try await eventually(within: .seconds(30)) { try await count(pool, state: .completed) == ids.count }
            try await third.stop()
            #expect(all)
            // Give the second worker's abandoned handlers time to finish late: nothing changes.
            try await Task.sleep(for: .seconds(2))
            #expect(try await count(pool, state: .completed) == ids.count)
        }
    }

    @Test("retry and cancel from the admin side; pruning deletes only finished jobs past retention")
    func administration() async throws {
        try await withTestPool { pool, _ in
            let queue = JobQueue(pool: pool, logger: TestDatabase.logger)
            let dealer = UUID()
            let scheduled = try #require(
                try await queue.enqueue(JobRequest(kind: "k", runAt: Date().addingTimeInterval(3600), dealerID: dealer)).id)
            let other = try #require(try await queue.enqueue(JobRequest(kind: "k", dealerID: UUID())).id)
            let scope: PostgresQuery = "dealer_id = \(dealer)"
            // Another dealer's job is not visible through this scope.
            #expect(try await queue.job(id: other, scope: scope, in: pool) == nil)
            await #expect(throws: JobQueueError.notFound) { _ = try await queue.cancel(id: other, scope: scope) }

            let cancelled = try await queue.cancel(id: scheduled, scope: scope)
            #expect(cancelled.state == .cancelled)
            await #expect(throws: JobQueueError.notCancellable(.cancelled)) { _ = try await queue.cancel(id: scheduled, scope: scope) }
            let retried = try await queue.retry(id: scheduled, scope: scope)
            #expect(retried.state == .available)
            #expect(retried.finalizedAt == nil)
            let listed = try await queue.jobs(filter: .init(state: .available), scope: scope, before: nil, limit: 10, in: pool)
            #expect(listed.map(\.id) == [scheduled])

            // A cancelled job long past retention that an admin retries is not pruned from under him.
            let old = try #require(try await queue.enqueue(JobRequest(kind: "k", dealerID: dealer)).id)
            _ = try await queue.cancel(id: old, scope: scope)
            try await pool.execute("UPDATE jobs SET finalized_at = now() - interval '30 days' WHERE id = \(old)")
            _ = try await queue.retry(id: old, scope: scope)
            #expect(try await Maintenance.prune(pool, completedRetention: .seconds(86_400), discardedRetention: .seconds(86_400)) == 0)
            #expect(try await jobState(old, pool) == .available)
            try await pool.execute("DELETE FROM jobs WHERE id = \(old)")

            // Prune: a completed job past retention goes; a recent one and an unfinished one stay.
            try await pool.execute(
                """
                UPDATE jobs SET state = 'completed', finalized_at = now() - interval '2 days' WHERE id = \(other)
                """)
            let recent = try #require(try await queue.enqueue(JobRequest(kind: "k")).id)
            try await pool.execute("UPDATE jobs SET state = 'completed', finalized_at = now() WHERE id = \(recent)")
            let deleted = try await Maintenance.prune(
                pool, completedRetention: .seconds(86_400), discardedRetention: .seconds(7 * 86_400))
            #expect(deleted == 1)
            #expect(try await jobState(other, pool) == nil)
            #expect(try await jobState(recent, pool) == .completed)
            #expect(try await jobState(scheduled, pool) == .available)
        }
    }
}
