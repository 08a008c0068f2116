import CRMTestSupport
import Foundation
import PostgresClient
import Testing

@Suite("Transactions, errors, pool")
struct ConnectionBehaviourTests {
    @Test("withTransaction commits on return and rolls back on throw", arguments: PostgresIOMode.allCases)
    func transactions(mode: PostgresIOMode) async throws {
        struct Boom: Error {}
        try await withTestPool(migrated: false, ioMode: mode) { pool, _ in
            try await pool.execute("CREATE TABLE t (v int)")
            try await pool.withTransaction { tx in
                try await tx.execute("INSERT INTO t VALUES (1)")
            }
            await #expect(throws: Boom.self) {
                try await pool.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            // A failed statement whose error the body swallowed still aborts the transaction.
            await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES (3)")
                    _ = try? await tx.execute("INSERT INTO t VALUES ('not a number')")
                }
            }
            let values = try await pool.query("SELECT v FROM t ORDER BY v").map { try $0.decode(0, as: Int.self) }
            #expect(values == [1])
            // The connection is reusable after all that.
            #expect(try await pool.queryFirst("SELECT 1")?.decode(0, as: Int.self) == 1)
            #expect(pool.statistics.inUse == 0)
        }
    }

    @Test("SQLSTATEs map to named kinds without string matching")
    func sqlstateMapping() async throws {
        try await withTestPool(migrated: false) { pool, _ in
            try await pool.execute(
                """
                CREATE TABLE parent (id int PRIMARY KEY);
                """)
            try await pool.execute(
                "CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id), qty int CHECK (qty > 0) NOT NULL)")
            try await pool.execute("INSERT INTO parent VALUES (1)")
            try await pool.execute("INSERT INTO child VALUES (1, 1, 1)")

            func kind(_ query: PostgresQuery) async -> (PostgresError.Kind?, PostgresError?) {
                do {
                    try await pool.execute(query)
                    return (nil, nil)
                } catch let error as PostgresError {
                    return (error.kind, error)
                } catch {
                    return (nil, nil)
                }
            }
            let unique = await kind("INSERT INTO child VALUES (1, 1, 1)")
            #expect(unique.0 == .uniqueViolation)
            #expect(unique.1?.constraintName == "child_pkey")
            #expect(unique.1?.tableName == "child")
            #expect(await kind("INSERT INTO child VALUES (2, 99, 1)").0 == .foreignKeyViolation)
            #expect(await kind("INSERT INTO child VALUES (3, 1, 0)").0 == .checkViolation)
            #expect(await kind("INSERT INTO child VALUES (4, 1, NULL)").0 == .notNullViolation)
            #expect(await kind("SELECT 1/0").1?.code == SQLState("22012"))
            #expect(await kind("SELECT nope FROM child").1?.code == .undefinedColumn)
        }
    }

    @Test("a per-statement timeout cancels the statement on the server", arguments: PostgresIOMode.allCases)
    func statementTimeout(mode: PostgresIOMode) async throws {
        try await withTestPool(migrated: false, ioMode: mode) { pool, _ in
            let started = ContinuousClock.now
            do {
                _ = try await pool.query("SELECT pg_sleep(10)", timeout: .milliseconds(200))
                Issue.record("the statement should have been cancelled")
            } catch let error as PostgresError {
                #expect(error.kind == .queryCanceled)
            }
            #expect(ContinuousClock.now - started < .seconds(3))
            // The connection survives a cancelled statement.
            #expect(try await pool.queryFirst("SELECT 42")?.decode(0, as: Int.self) == 42)
        }
    }

    @Test("serialization failures and deadlocks are transient; transactions can retry them")
    func serializationRetry() async throws {
        try await withTestPool(migrated: false, maxConnections: 4) { pool, _ in
            try await pool.execute("CREATE TABLE counter (id int PRIMARY KEY, n int)")
            try await pool.execute("INSERT INTO counter VALUES (1, 0)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await pool.withTransaction(isolation: .serializable, maxAttempts: 50) { tx in
                            let n = try await tx.queryFirst("SELECT n FROM counter WHERE id = 1")?.decode(0, as: Int.self) ?? 0
                            try await Task.sleep(for: .milliseconds(5))
                            try await tx.execute("UPDATE counter SET n = \(n + 1) WHERE id = 1")
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await pool.queryFirst("SELECT n FROM counter")?.decode(0, as: Int.self) == 8)
        }
    }

    @Test("pool exhaustion: acquire times out with an error instead of hanging")
    func poolExhaustion() async throws {
        try await withTestDatabase(migrated: false) { database in
            let pool = database.makePool(maxConnections: 2, acquireTimeout: .milliseconds(300))
            defer { pool.shutdownNow() }
            let first = try await pool.acquire()
            let second = try await pool.acquire()
            #expect(pool.statistics.inUse == 2)
            let started = ContinuousClock.now
            await #expect(throws: PoolError.acquireTimeout(.milliseconds(300))) {
                _ = try await pool.acquire()
            }
            let waited = ContinuousClock.now - started
            // Not a hang: the error comes at the timeout (with slack for a loaded test machine).
            #expect(waited >= .milliseconds(250) && waited < .seconds(10))
            // A waiter is served as soon as a connection comes back.
            async let third = pool.acquire()
            // The waiter queues when its task first runs: wait for that (a fixed 50 ms sleep was
            // too short on a loaded machine), then check it is the one waiter.
            let queueDeadline = ContinuousClock.now + .seconds(5)
            while pool.statistics.waiting == 0, ContinuousClock.now < queueDeadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(pool.statistics.waiting == 1)
            pool.release(first)
            let connection = try await third
            #expect(connection === first)
            pool.release(connection)
            pool.release(second)
            #expect(pool.statistics.inUse == 0)
            #expect(pool.statistics.idle == 2)
        }
    }

    @Test("waiters queued at different times each time out at their own deadline, never before it; one served in time keeps its connection")
    func waiterDeadlines() async throws {
        try await withTestDatabase(migrated: false) { database in
            let timeout = Duration.milliseconds(400)
            let pool = database.makePool(maxConnections: 1, acquireTimeout: timeout)
            defer { pool.shutdownNow() }
            let held = try await pool.acquire()
            // Times how long a waiter waited before its timeout error.
            @Sendable func timedOut() async -> Duration? {
                let started = ContinuousClock.now
                do {
                    pool.release(try await pool.acquire())
                    return nil
                } catch {
                    #expect(error as? PoolError == .acquireTimeout(timeout))
                    return ContinuousClock.now - started
                }
            }
            async let first = timedOut()
            try await Task.sleep(for: .milliseconds(200))
            async let second = timedOut()
            let (waitedFirst, waitedSecond) = await (first, second)
            // Neither failed early (the second's deadline is 200 ms after the first's, so the timer
            // that failed the first must not take it along), nor hung.
            for waited in [waitedFirst, waitedSecond] {
                let waited = try #require(waited)
                #expect(waited >= timeout && waited < .seconds(10), "waited \(waited)")
            }
            #expect(pool.statistics.waiting == 0)
            pool.release(held)

            // A waiter handed the connection before its deadline keeps it past that deadline. Its
            // own pool has a longer timeout, so that the hand-over comes well before the deadline
            // even when parallel tests keep this task waiting for a thread.
            let longTimeout = Duration.seconds(2)
            let patient = database.makePool(maxConnections: 1, acquireTimeout: longTimeout)
            defer { patient.shutdownNow() }
            let patientHeld = try await patient.acquire()
            async let third = patient.acquire()
            try await Task.sleep(for: .milliseconds(100))
            patient.release(patientHeld)
            let connection = try await third
            try await Task.sleep(for: longTimeout + .milliseconds(200))
            #expect(try await connection.queryFirst("SELECT 1")?.decode(0, as: Int.self) == 1)
            patient.release(connection)
            #expect(patient.statistics.idle == 1)
        }
    }

    @Test("the pool never opens more than its size under concurrent load", arguments: PostgresIOMode.allCases)
    func boundedUnderLoad(mode: PostgresIOMode) async throws {
        try await withTestPool(migrated: false, maxConnections: 3, ioMode: mode) { pool, database in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<200 {
                    group.addTask { try await pool.queryFirst("SELECT \(index)::int8")?.decode(0, as: Int.self) ?? -1 }
                }
                var sum = 0
                for try await value in group { sum += value }
                #expect(sum == (0..<200).reduce(0, +))
            }
            let backends = try await pool.queryFirst(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = \(database.name)")?.decode(0, as: Int.self)
            #expect((backends ?? 99) <= 3)
        }
    }

    @Test("prepared statements are cached per connection and reused")
    func preparedStatementCache() async throws {
        try await withTestPool(migrated: false, maxConnections: 1) { pool, _ in
            for i in 0..<5 { _ = try await pool.query("SELECT \(i)::int8 + 1") }
            let prepared = try await pool.queryFirst(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::int8 + 1%'")?
                .decode(0, as: Int.self)
            #expect(prepared == 1)
        }
    }

    @Test("TLS through libpq's sslmode")
    func tls() async throws {
        try await withTestDatabase(migrated: false) { database in
            var components = try #require(URLComponents(string: database.url))
            components.queryItems = [URLQueryItem(name: "sslmode", value: "require")]
            let url = try #require(components.string)
            let connection: PostgresConnection
            do {
                connection = try await TestDatabase.connect(url)
            } catch {
                // scripts/test starts the cluster with ssl = on; anything else is a setup error.
                Issue.record("TLS connection failed (is the test cluster started with ssl = on?): \(error)")
                return
            }
            defer { connection.close() }
            let encrypted = try await connection.queryFirst(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")?.decode(0, as: Bool.self)
            #expect(encrypted == true)
        }
    }
}
