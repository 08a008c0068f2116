import CRMStore
import Foundation
public import Logging
public import NIOPosix
public import PostgresClient

/// A database of its own for one test, cloned from a template that has every migration
/// applied, so tests run in parallel without seeing each other's rows.
///
/// The cluster comes from `CRM_TEST_DATABASE_URL` (an admin URL, normally set by
/// `scripts/test`); each clone is dropped by `withTestDatabase` when the test ends.
public struct TestDatabase: Sendable {
    public let name: String
    public let url: String
    public let adminURL: String

    public static var adminURL: String {
        ProcessInfo.processInfo.environment["CRM_TEST_DATABASE_URL"]
            ?? "postgresql://postgres@127.0.0.1:55432/postgres?sslmode=disable"
    }

    public static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["CRM_TEST_LOG_LEVEL"].flatMap({ Logger.Level(rawValue: $0) }) ?? .warning
        return logger
    }()

    /// Threads for blocking libpq calls of connections opened outside a pool.
    public static let blockingPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    /// Replaces the database name in a libpq URL.
    public static func url(_ base: String, database: String) -> String {
        guard var components = URLComponents(string: base) else { return base }
        components.path = "/" + database
        return components.string ?? base
    }

    public static func connect(_ url: String) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: PostgresConnectionConfiguration(url: url), blockingPool: blockingPool, logger: logger)
    }

    /// A new database on the cluster at `adminURL`: a clone of the migrated template, or empty
    /// (`migrated: false`).
    public static func create(migrated: Bool = true, adminURL: String = TestDatabase.adminURL) async throws
        -> TestDatabase
    {
        let template = migrated ? try await TemplateCache.shared.migratedTemplate(adminURL: adminURL) : "template0"
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        let admin = try await connect(adminURL)
        defer { admin.close() }
        // Identifiers cannot be bound; both names are generated here ([a-z0-9_] only).
        try await admin.executeScript("CREATE DATABASE \(name) TEMPLATE \(template)")
        return TestDatabase(name: String(name), url: url(adminURL, database: String(name)), adminURL: adminURL)
    }

    public func drop() async {
        guard let admin = try? await Self.connect(adminURL) else { return }
        defer { admin.close() }
        _ = try? await admin.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    public func makePool(maxConnections: Int = 4, acquireTimeout: Duration = .seconds(5), ioMode: PostgresIOMode = .reactor)
        -> PostgresPool
    {
        PostgresPool(
            configuration: PostgresPoolConfiguration(
                connection: PostgresConnectionConfiguration(url: url, ioMode: ioMode),
                maxConnections: maxConnections, minConnections: 0, acquireTimeout: acquireTimeout),
            logger: Self.logger)
    }
}

/// Runs `body` with a fresh database and drops it afterwards.
public func withTestDatabase<T>(
    migrated: Bool = true, adminURL: String = TestDatabase.adminURL, _ body: (TestDatabase) async throws -> T
) async throws -> T {
    let database = try await TestDatabase.create(migrated: migrated, adminURL: adminURL)
    do {
        let value = try await body(database)
        await database.drop()
        return value
    } catch {
        await database.drop()
        throw error
    }
}

/// Runs `body` with a pool on a fresh database; closes the pool and drops the database after.
public func withTestPool<T>(
    migrated: Bool = true, maxConnections: Int = 4, ioMode: PostgresIOMode = .reactor,
    _ body: (PostgresPool, TestDatabase) async throws -> T
) async throws -> T {
    try await withTestDatabase(migrated: migrated) { database in
        let pool = database.makePool(maxConnections: maxConnections, ioMode: ioMode)
        defer { pool.shutdownNow() }
        return try await body(pool, database)
    }
}

/// Builds the migrated template once per process (and once per migration set across
/// processes: its name carries a hash of the migrations, creation is under an advisory lock).
actor TemplateCache {
    static let shared = TemplateCache()
    private var tasks: [String: Task<String, any Error>] = [:]

    func migratedTemplate(adminURL: String) async throws -> String {
        if let task = tasks[adminURL] { return try await task.value }
        let task = Task { try await Self.build(adminURL: adminURL) }
        tasks[adminURL] = task
        do {
            return try await task.value
        } catch {
            tasks[adminURL] = nil
            throw error
        }
    }

    private static func build(adminURL: String) async throws -> String {
        let migrations = try Migration.bundled()
        let digest = migrations.map(\.checksum).joined().utf8.reduce(into: UInt64(1_469_598_103_934_665_603)) {
            $0 = ($0 ^ UInt64($1)) &* 1_099_511_628_211
        }
        let name = "crm_template_" + String(digest, radix: 16)
        let admin = try await TestDatabase.connect(adminURL)
        defer { admin.close() }
        // Held until `admin` closes (session-level lock).
        _ = try await admin.query("SELECT pg_advisory_lock(8675309)")
        let exists = try await admin.queryFirst("SELECT 1 FROM pg_database WHERE datname = \(name)") != nil
        if exists { return name }
        let building = name + "_building"
        try await admin.executeScript("DROP DATABASE IF EXISTS \(building) WITH (FORCE)")
        try await admin.executeScript("CREATE DATABASE \(building) TEMPLATE template0")
        let connection = try await TestDatabase.connect(TestDatabase.url(adminURL, database: building))
        do {
            try await Migrator(migrations: migrations, logger: TestDatabase.logger).migrate(on: connection)
        } catch {
            connection.close()
            throw error
        }
        connection.close()
        try await admin.executeScript("ALTER DATABASE \(building) RENAME TO \(name)")
        return name
    }
}
