@testable import CRMAPI
import CRMTestSupport
import NIOPosix
@testable import PostgresClient
import Testing

/// Statements sent from a NIO event loop (every HTTP handler runs on one, `AffinityMiddleware`)
/// have their replies looked for from that loop before the reactor is armed.
@Suite("Replies read by the sender's event loop")
struct EventLoopReadTests {
    @Test("32 busy handlers on one event loop: every reply right (small, large, slow), many read without the reactor")
    func repliesOnTheLoop() async throws {
        try await withTestPool(migrated: false, maxConnections: 4) { pool, _ in
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let tasks = 32
            let statementsPerTask = 40
            try await withTaskExecutorPreference(EventLoopExecutors.executor(for: loop)) {
                try await withThrowingTaskGroup(of: Void.self) { tasksGroup in
                    for task in 0..<tasks {
                        tasksGroup.addTask {
                            for step in 0..<statementsPerTask {
                                let number = task * 1_000 + step
                                // Every 20th reply is large (several reads); every 20th waits on the
                                // server long enough that the reactor must take it.
                                let size = number % 20 == 3 ? 64_000 : number % 97
                                let pause = number % 20 == 9 ? 0.02 : 0.0
                                let row = try await pool.queryFirst(
                                    "SELECT \(number)::int AS n, repeat('x', \(size)::int) AS pad, pg_sleep(\(pause)::float8)::text AS slept")
                                #expect(try row?.decode(0, as: Int.self) == number)
                                #expect(try row?.decode(1, as: String.self).utf8.count == size)
                                // A handler's own work (mapping, writing JSON) keeps the loop busy,
                                // as HTTP requests do: replies arrive while it runs.
                                let end = ContinuousClock.now + .microseconds(200)
                                while ContinuousClock.now < end {}
                            }
                        }
                    }
                    try await tasksGroup.waitForAll()
                }
            }
            let statements = tasks * statementsPerTask
            // Every connection the pool may have opened, to read what its reactor did for it.
            var connections: [PostgresConnection] = []
            for _ in 0..<4 { connections.append(try await pool.acquire()) }
            let onLoop = connections.reduce(0) { $0 + $1.repliesReadOnLoop.load(ordering: .relaxed) }
            connections.forEach { pool.release($0) }
            // Unloaded, most replies are read on the loop; on a machine busy with other tests
            // fewer (the loop itself waits for a core), but never few.
            #expect(onLoop >= statements / 10, "\(onLoop) of \(statements) replies read on the loop")
        }
    }
}
