import CRMTestSupport
import Foundation
import PostgresClient
import Testing

@Suite("LISTEN/NOTIFY and surviving a server restart")
struct ResilienceTests {
    @Test("notifications arrive on the channel's sequence, after commit only")
    func listenNotify() async throws {
        try await withTestPool(migrated: false) { pool, database in
            let listener = PostgresListener(
                configuration: PostgresConnectionConfiguration(url: database.url), blockingPool: TestDatabase.blockingPool,
                logger: TestDatabase.logger)
            let runner = Task { try await listener.run() }
            defer {
                listener.shutdown()
                runner.cancel()
            }
            #expect(listener.listeningChannels.isEmpty)
            let stream = try listener.notifications(on: "crm_test")
            var iterator = stream.makeAsyncIterator()
            // Subscribing is asynchronous: once the listener says it listens, one notification is
            // enough.
            #expect(try await listener.waitUntilListening(on: "crm_test"))
            #expect(listener.listeningChannels == ["crm_test"])
            let first = try await firstNotification(
                &iterator, listener: listener, sending: { try await pool.notify(channel: "crm_test", payload: "hello 你好") },
                repeating: false)
            #expect(first?.payload == "hello 你好")
            #expect(first?.channel == "crm_test")

            // A notification in a rolled-back transaction is never delivered; a committed one is.
            struct Rollback: Error {}
            try? await pool.withTransaction { tx in
                try await tx.notify(channel: "crm_test", payload: "rolled back")
                throw Rollback()
            }
            try await pool.withTransaction { tx in try await tx.notify(channel: "crm_test", payload: "committed") }
            // "rolled back" must never show: the next one is the committed one.
            #expect(await iterator.next()?.payload == "committed")
            #expect(throws: PostgresListenerError.self) { _ = try listener.notifications(on: "Bad Name; DROP") }

            // A channel nobody subscribes to any more is no longer listened to.
            do {
                let other = try listener.notifications(on: "crm_test_other")
                #expect(try await listener.waitUntilListening(on: "crm_test_other"))
                withExtendedLifetime(other) {}
            }
            #expect(try await eventually(every: .milliseconds(10)) { !listener.listeningChannels.contains("crm_test_other") })
            #expect(listener.listeningChannels == ["crm_test"])
        }
    }

    @Test("after a PostgreSQL restart, pooled queries and LISTEN work again without restarting the process")
    func survivesRestart() async throws {
        let chaos = ChaosCluster.shared
        guard let adminURL = chaos.adminURL, chaos.isAvailable else {
            Issue.record("CRM_TEST_CHAOS_DATABASE_URL / CRM_TEST_PGCTL not set: run through scripts/test")
            return
        }
        try await chaos.exclusive {
            try await withTestDatabase(migrated: false, adminURL: adminURL) { database in
                let pool = database.makePool(maxConnections: 4, acquireTimeout: .seconds(2))
                defer { pool.shutdownNow() }
                let listener = PostgresListener(
                    configuration: PostgresConnectionConfiguration(url: database.url),
                    blockingPool: TestDatabase.blockingPool, logger: TestDatabase.logger)
                let runner = Task { try await listener.run() }
                defer {
                    listener.shutdown()
                    runner.cancel()
                }
                let stream = try listener.notifications(on: "after_restart")
                var iterator = stream.makeAsyncIterator()
                _ = try await firstNotification(
                    &iterator, listener: listener,
                    sending: { try await pool.notify(channel: "after_restart", payload: "before") })
                // Warm the pool: several idle connections that the restart will kill.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 { group.addTask { _ = try await pool.query("SELECT pg_sleep(0.05)") } }
                    try await group.waitForAll()
                }
                let before = try await pool.queryFirst("SELECT pg_backend_pid()")?.decode(0, as: Int.self)

                try await chaos.restart()

                // Queries succeed again within seconds, on fresh connections.
                let deadline = ContinuousClock.now + .seconds(10)
                var after: Int?
                while ContinuousClock.now < deadline {
                    if let pid = try? await pool.queryFirst("SELECT pg_backend_pid()")?.decode(0, as: Int.self) {
                        after = pid
                        break
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(after != nil)
                #expect(after != before)
                // Every connection of the old server is gone; none is handed out broken.
                for _ in 0..<8 { #expect(try await pool.queryFirst("SELECT 1")?.decode(0, as: Int.self) == 1) }

                // The listener reconnected and LISTENs again.
                var again = try await firstNotification(
                    &iterator, listener: listener,
                    sending: { try await pool.notify(channel: "after_restart", payload: "after") }, within: .seconds(15))
                // Before it: what was sent before the restart, and the notice to re-read state
                // (what was sent while it was away is lost to it).
                var resynchronised = false
                while let notice = again, notice.payload == "before" || notice.resynchronise {
                    resynchronised = resynchronised || notice.resynchronise
                    again = try await firstNotification(
                        &iterator, listener: listener,
                        sending: { try await pool.notify(channel: "after_restart", payload: "after") }, within: .seconds(15))
                }
                #expect(resynchronised)
                #expect(again?.payload == "after")
                #expect(listener.reconnects >= 1)
            }
        }
    }

    @Test("a stopped server gives a prompt connection error, not a hang")
    func serverDown() async throws {
        let chaos = ChaosCluster.shared
        guard let adminURL = chaos.adminURL, chaos.isAvailable else {
            Issue.record("chaos cluster not configured: run through scripts/test")
            return
        }
        try await chaos.exclusive {
            try await withTestDatabase(migrated: false, adminURL: adminURL) { database in
                let pool = database.makePool(maxConnections: 2, acquireTimeout: .seconds(2))
                defer { pool.shutdownNow() }
                #expect(try await pool.queryFirst("SELECT 1")?.decode(0, as: Int.self) == 1)
                try await chaos.stop()
                do {
                    let started = ContinuousClock.now
                    do {
                        _ = try await pool.query("SELECT 1")
                        Issue.record("a query against a stopped server should fail")
                    } catch {
                        #expect(error.isDatabaseUnavailable, "\(error)")
                    }
                    #expect(ContinuousClock.now - started < .seconds(6))
                    try await chaos.start()
                } catch {
                    try? await chaos.start()
                    throw error
                }
                let deadline = ContinuousClock.now + .seconds(10)
                var ok = false
                while ContinuousClock.now < deadline, !ok {
                    ok = (try? await pool.queryFirst("SELECT 1")) != nil
                    if !ok { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(ok)
            }
        }
    }
}

/// Sends (repeatedly, since LISTEN may not be active yet) until a notification arrives; after
/// `limit` shuts the listener down, which ends the sequence (nil).
func firstNotification(
    _ iterator: inout AsyncStream<PostgresNotification>.AsyncIterator, listener: PostgresListener,
    sending send: @escaping @Sendable () async throws -> Void, repeating: Bool = true, within limit: Duration = .seconds(5)
) async throws -> PostgresNotification? {
    let sender = Task {
        let deadline = ContinuousClock.now + limit
        while !Task.isCancelled, ContinuousClock.now < deadline {
            try? await send()
            if !repeating { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
    defer { sender.cancel() }
    let timeout = Task {
        try await Task.sleep(for: limit)
        listener.shutdown()
    }
    defer { timeout.cancel() }
    return await iterator.next()
}
