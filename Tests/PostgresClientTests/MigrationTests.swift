import CRMStore
import CRMTestSupport
import Foundation
import PostgresClient
import Testing

@Suite("Migrations")
struct MigrationTests {
    static let sample = [
        Migration(version: 1, name: "one", sql: "CREATE TABLE a (id int PRIMARY KEY);"),
        Migration(version: 2, name: "two", sql: "CREATE TABLE b (id int PRIMARY KEY); INSERT INTO a VALUES (1);"),
    ]

    @Test("the bundled migrations are found, numbered and apply to an empty database")
    func bundled() async throws {
        let migrations = try Migration.bundled()
        #expect(!migrations.isEmpty)
        #expect(migrations.map(\.version) == migrations.map(\.version).sorted())
        try await withTestDatabase(migrated: false) { database in
            let connection = try await TestDatabase.connect(database.url)
            defer { connection.close() }
            let migrator = Migrator(migrations: migrations, logger: TestDatabase.logger)
            #expect(try await !migrator.isCurrent(on: connection))
            let report = try await migrator.migrate(on: connection)
            #expect(report.applied.count == migrations.count)
            #expect(report.currentVersion == migrator.latestVersion)
            #expect(try await migrator.isCurrent(on: connection))
        }
    }

    @Test("0010 writes the ids of stored vehicle owner changes in lower case and leaves the rest as it was")
    func auditOwnerIDs() async throws {
        let migrations = try Migration.bundled()
        try await withTestDatabase(migrated: false) { database in
            let connection = try await TestDatabase.connect(database.url)
            defer { connection.close() }
            try await Migrator(migrations: migrations.filter { $0.version < 10 }, logger: TestDatabase.logger)
                .migrate(on: connection)
            let old = "D7101FB3-C01F-4ABD-8200-37E788C1C0ED"
            let new = "0A705979-8CD1-43B0-92F9-57CFCF9C8935"
            let owner = #"[{"field": "plate", "new": "沪A12345"}, {"field": "owner", "old": "\#(old)", "new": "\#(new)"}]"#
            let first = #"[{"field": "owner", "new": "\#(new)"}]"#
            let other = #"[{"field": "name", "new": "ABC"}]"#
            for (entity, changes) in [("vehicle", owner), ("vehicle", first), ("customer", other)] {
                try await connection.execute(
                    """
                    INSERT INTO audit_events (dealer_id, id, entity, entity_id, action, changes)
                    VALUES (gen_random_uuid(), gen_random_uuid(), \(entity), gen_random_uuid(), 'update', \(changes)::jsonb)
                    """)
            }
            try await Migrator(migrations: migrations, logger: TestDatabase.logger).migrate(on: connection)
            let stored = try await connection.query("SELECT changes::text FROM audit_events ORDER BY entity DESC, length(changes::text) DESC")
                .map { try $0.decode(0, as: String.self) }
            #expect(stored == [
                #"[{"new": "沪A12345", "field": "plate"}, {"new": "\#(new.lowercased())", "old": "\#(old.lowercased())", "field": "owner"}]"#,
                #"[{"new": "\#(new.lowercased())", "field": "owner"}]"#,
                #"[{"new": "ABC", "field": "name"}]"#,
            ])
        }
    }

    @Test("applying twice is a no-op")
    func idempotent() async throws {
        try await withTestDatabase(migrated: false) { database in
            let connection = try await TestDatabase.connect(database.url)
            defer { connection.close() }
            let migrator = Migrator(migrations: Self.sample, logger: TestDatabase.logger)
            let first = try await migrator.migrate(on: connection)
            let second = try await migrator.migrate(on: connection)
            #expect(first.applied.map(\.version) == [1, 2])
            #expect(second.applied.isEmpty)
            #expect(second.currentVersion == 2)
            #expect(try await connection.queryFirst("SELECT count(*) FROM a")?.decode(0, as: Int.self) == 1)
        }
    }

    @Test("two migrators started together: one applies, the other waits and finds nothing to do")
    func concurrent() async throws {
        try await withTestDatabase(migrated: false) { database in
            let slow = Self.sample + [Migration(version: 3, name: "slow", sql: "SELECT pg_sleep(0.3); CREATE TABLE c (id int);")]
            let reports = try await withThrowingTaskGroup(of: MigrationReport.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        let connection = try await TestDatabase.connect(database.url)
                        defer { connection.close() }
                        return try await Migrator(migrations: slow, logger: TestDatabase.logger).migrate(on: connection)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.map(\.applied.count).sorted() == [0, 3])
            #expect(reports.allSatisfy { $0.currentVersion == 3 })
        }
    }

    @Test("a failing migration leaves the database at the previous version")
    func failureRollsBack() async throws {
        try await withTestDatabase(migrated: false) { database in
            let connection = try await TestDatabase.connect(database.url)
            defer { connection.close() }
            let broken = Self.sample + [
                Migration(version: 3, name: "broken", sql: "CREATE TABLE c (id int); INSERT INTO nowhere VALUES (1);")
            ]
            let migrator = Migrator(migrations: broken, logger: TestDatabase.logger)
            do {
                try await migrator.migrate(on: connection)
                Issue.record("the broken migration should fail")
            } catch let error as MigrationError {
                guard case .failed(let version, _, _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(version == 3)
            }
            #expect(try await migrator.currentVersion(on: connection) == 2)
            // Table c from the failed migration does not exist.
            #expect(try await connection.queryFirst("SELECT to_regclass('c')::text")?.decode(0, as: String?.self) == nil)
            // After fixing the file, it applies.
            let fixed = Self.sample + [Migration(version: 3, name: "broken", sql: "CREATE TABLE c (id int);")]
            let report = try await Migrator(migrations: fixed, logger: TestDatabase.logger).migrate(on: connection)
            #expect(report.currentVersion == 3)
        }
    }

    @Test("an applied migration that was edited afterwards is refused")
    func editedMigration() async throws {
        try await withTestDatabase(migrated: false) { database in
            let connection = try await TestDatabase.connect(database.url)
            defer { connection.close() }
            try await Migrator(migrations: Self.sample, logger: TestDatabase.logger).migrate(on: connection)
            var edited = Self.sample
            edited[0] = Migration(version: 1, name: "one", sql: "CREATE TABLE a (id bigint PRIMARY KEY);")
            await #expect(throws: MigrationError.checksumMismatch(version: 1, name: "one")) {
                try await Migrator(migrations: edited, logger: TestDatabase.logger).migrate(on: connection)
            }
        }
    }
}
