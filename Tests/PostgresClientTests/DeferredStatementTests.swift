import CRMTestSupport
import Foundation
@testable import PostgresClient
import Testing

/// A transaction's `BEGIN` travels with its first statement and deferred writes with its
/// `COMMIT` (libpq's pipeline mode), with the same outcomes as one round trip per statement.
@Suite("Deferred statements: BEGIN and writes sent with the next round trip")
struct DeferredStatementTests {
    struct Refused: Error {}

    static func values(_ db: some PostgresQueryable) async throws -> [Int] {
        try await db.query("SELECT v FROM t ORDER BY v").map { try $0.decode(0, as: Int.self) }
    }

    @Test("a transaction of a read, a write and a deferred write takes two round trips; nothing for an empty one",
          arguments: PostgresIOMode.allCases)
    func roundTrips(mode: PostgresIOMode) async throws {
        try await withTestPool(migrated: false, maxConnections: 1, ioMode: mode) { pool, _ in
            try await pool.execute("CREATE TABLE t (v int PRIMARY KEY)")
            try await pool.withConnection { connection in
                func createTwo(_ first: Int) async throws -> Int {
                    let before = connection.roundTrips.load(ordering: .relaxed)
                    let inserted = try await connection.withTransaction { tx in
                        let row = try await tx.queryFirst("INSERT INTO t VALUES (\(first)) RETURNING v")
                        try await tx.executeDeferred("INSERT INTO t VALUES (\(first + 1))")
                        return try row?.decode(0, as: Int.self)
                    }
                    #expect(inserted == first)
                    return connection.roundTrips.load(ordering: .relaxed) - before
                }
                _ = try await createTwo(1)  // prepares both statements
                #expect(try await createTwo(3) == 2)

                let before = connection.roundTrips.load(ordering: .relaxed)
                try await connection.withTransaction { _ in }
                #expect(connection.roundTrips.load(ordering: .relaxed) == before)
                #expect(connection.isReusable)
            }
            #expect(try await Self.values(pool) == [1, 2, 3, 4])
        }
    }

    @Test("a deferred write is seen by the transaction's next statement", arguments: PostgresIOMode.allCases)
    func orderKept(mode: PostgresIOMode) async throws {
        try await withTestPool(migrated: false, maxConnections: 1, ioMode: mode) { pool, _ in
            try await pool.execute("CREATE TABLE t (v int PRIMARY KEY)")
            let seen = try await pool.withTransaction { tx in
                try await tx.executeDeferred("INSERT INTO t VALUES (7)")
                try await tx.executeDeferred("UPDATE t SET v = v + 1")
                return try await Self.values(tx)
            }
            #expect(seen == [8])
            // Outside a transaction it runs at once.
            try await pool.withConnection { connection in
                try await connection.executeDeferred("INSERT INTO t VALUES (9)")
                #expect(connection.isReusable)
            }
            #expect(try await Self.values(pool) == [8, 9])
        }
    }

    @Test("a failing deferred write fails the commit and rolls everything back; the connection stays usable",
          arguments: PostgresIOMode.allCases)
    func failingDeferredWrite(mode: PostgresIOMode) async throws {
        try await withTestPool(migrated: false, maxConnections: 1, ioMode: mode) { pool, _ in
            try await pool.execute("CREATE TABLE t (v int PRIMARY KEY)")
            try await pool.execute("INSERT INTO t VALUES (1)")
            await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES (2)")
                    try await tx.executeDeferred("INSERT INTO t VALUES (1)")  // duplicate key
                }
            }
            do {
                try await pool.withTransaction { tx in
                    try await tx.executeDeferred("INSERT INTO t VALUES (3)")
                    try await tx.executeDeferred("INSERT INTO t VALUES (1)")
                    try await tx.execute("INSERT INTO t VALUES (4)")
                }
                Issue.record("the duplicate key was not reported")
            } catch let error as PostgresError {
                // The statement that carried it reports the deferred write's own error.
                #expect(error.code == .uniqueViolation)
            }
            // The first statement failing after a pipelined BEGIN.
            await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { tx in try await tx.execute("INSERT INTO t VALUES (1)") }
            }
            try await pool.withConnection { connection in
                #expect(connection.isReusable)
            }
            #expect(try await Self.values(pool) == [1])
            #expect(pool.statistics.inUse == 0)
        }
    }

    @Test("writes deferred inside a savepoint are dropped with it, and sent when it is released")
    func savepoints() async throws {
        try await withTestPool(migrated: false, maxConnections: 1) { pool, _ in
            try await pool.execute("CREATE TABLE t (v int PRIMARY KEY)")
            try await pool.withSharedTransaction { tx in
                try await tx.executeDeferred("INSERT INTO t VALUES (1)")
                await #expect(throws: Refused.self) {
                    try await pool.withTransaction { inner in
                        try await inner.executeDeferred("INSERT INTO t VALUES (2)")
                        throw Refused()
                    }
                }
                // Dropped unsent: a deferred write that would have failed does not abort the
                // outer transaction.
                await #expect(throws: Refused.self) {
                    try await pool.withTransaction { inner in
                        try await inner.executeDeferred("INSERT INTO t VALUES (1)")
                        throw Refused()
                    }
                }
                try await pool.withTransaction { inner in try await inner.executeDeferred("INSERT INTO t VALUES (3)") }
            }
            #expect(try await Self.values(pool) == [1, 3])
        }
    }
}
