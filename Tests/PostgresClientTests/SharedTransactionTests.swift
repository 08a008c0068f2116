import CRMTestSupport
import Foundation
import PostgresClient
import Synchronization
import Testing

@Suite("Shared transactions, a bounded wait queue, LISTEN resynchronisation")
struct SharedTransactionTests {
    struct Refused: Error {}

    @Test("inside a shared transaction every use of the pool joins it; an inner transaction is a savepoint")
    func sharedTransaction() async throws {
        try await withTestPool(migrated: false, maxConnections: 1) { pool, _ in
            try await pool.execute("CREATE TABLE notes (n int PRIMARY KEY)")
            // A pool of one connection: any second acquisition would wait for ever (or be refused).
            try await pool.withSharedTransaction { tx in
                try await tx.execute("INSERT INTO notes VALUES (1)")
                // The pool's own query and a use case's transaction see and extend the same work.
                #expect(try await pool.queryFirst("SELECT count(*)::int8 FROM notes")?.decode(0, as: Int64.self) == 1)
                try await pool.withTransaction { inner in try await inner.execute("INSERT INTO notes VALUES (2)") }
                // A failing inner transaction rolls back its own work only.
                await #expect(throws: Refused.self) {
                    try await pool.withTransaction { inner in
                        try await inner.execute("INSERT INTO notes VALUES (3)")
                        throw Refused()
                    }
                }
                // Even a failed statement inside it leaves the outer transaction usable.
                await #expect(throws: PostgresError.self) {
                    try await pool.withTransaction { inner in try await inner.execute("INSERT INTO notes VALUES (1)") }
                }
                try await pool.withConnection { connection in try await connection.execute("INSERT INTO notes VALUES (4)") }
            }
            let kept = try await pool.query("SELECT n FROM notes ORDER BY n").map { try $0.decode(0, as: Int.self) }
            #expect(kept == [1, 2, 4])

            // Whatever fails rolls all of it back.
            await #expect(throws: Refused.self) {
                try await pool.withSharedTransaction { tx in
                    try await tx.execute("INSERT INTO notes VALUES (5)")
                    try await pool.withTransaction { inner in try await inner.execute("INSERT INTO notes VALUES (6)") }
                    throw Refused()
                }
            }
            #expect(try await pool.queryFirst("SELECT count(*)::int8 FROM notes")?.decode(0, as: Int64.self) == 3)
        }
    }

    @Test("past the wait queue's bound a caller is turned away at once; the others get their turn")
    func boundedWaiters() async throws {
        try await withTestDatabase(migrated: false) { database in
            let pool = PostgresPool(
                configuration: PostgresPoolConfiguration(
                    connection: PostgresConnectionConfiguration(url: database.url), maxConnections: 1, minConnections: 0,
                    acquireTimeout: .seconds(10), maxWaiters: 2),
                logger: TestDatabase.logger)
            defer { pool.shutdownNow() }
            let held = try await pool.acquire()
            let waiting = Task { () -> [String] in
                await withTaskGroup(of: String.self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            do {
                                try await pool.withConnection { _ in }
                                return "served"
                            } catch {
                                return "\(error)"
                            }
                        }
                    }
                    var outcomes: [String] = []
                    for await outcome in group { outcomes.append(outcome) }
                    return outcomes
                }
            }
            // Let the two queue up (each when its task first runs), then a third arrives.
            _ = try await eventually(within: .seconds(5), every: .milliseconds(10)) { pool.statistics.waiting >= 2 }
            #expect(pool.statistics.waiting == 2)
            let started = ContinuousClock.now
            await #expect(throws: PoolError.overloaded(waiting: 2)) { try await pool.withConnection { _ in } }
            // Turned away, not queued until the 10 s acquire timeout (slack for a loaded machine).
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(PoolError.overloaded(waiting: 2).isDatabaseUnavailable)
            pool.release(held)
            #expect(await waiting.value == ["served", "served"])
        }
    }

    @Test("after its connection drops, the listener listens again and tells every subscriber to re-read its state")
    func resynchronise() async throws {
        try await withTestPool(migrated: false) { pool, database in
            let listener = PostgresListener(
                configuration: PostgresConnectionConfiguration(url: database.url), blockingPool: TestDatabase.blockingPool,
                logger: TestDatabase.logger)
            let runner = Task { try await listener.run() }
            defer {
                listener.shutdown()
                runner.cancel()
            }
            var iterator = try listener.notifications(on: "crm_resync").makeAsyncIterator()
            #expect(try await listener.waitUntilListening(on: "crm_resync"))
            let first = try await firstNotification(
                &iterator, listener: listener, sending: { try await pool.notify(channel: "crm_resync", payload: "before") },
                repeating: false)
            #expect(first?.payload == "before")
            #expect(first?.resynchronise == false)
            // The listening backend is terminated; what is sent before it is back is lost to it.
            _ = try await pool.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND datname = current_database()")
            let notice = await iterator.next()
            #expect(notice?.resynchronise == true)
            #expect(notice?.channel == "crm_resync")
            // And it listens again: the notice comes once it does, so one notification is enough.
            #expect(listener.listeningChannels == ["crm_resync"])
            let after = try await firstNotification(
                &iterator, listener: listener, sending: { try await pool.notify(channel: "crm_resync", payload: "after") },
                repeating: false)
            #expect(after?.payload == "after")
            #expect(listener.reconnects == 1)
        }
    }
}
