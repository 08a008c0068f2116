import CRMAPI
import CRMStore
import CRMTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresClient
import Synchronization

/// Log lines captured in memory, to check what a request logged.
final class LogCapture: Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }
    private let lines = Mutex<[Line]>([])

    var all: [Line] { lines.withLock { $0 } }

    func logger() -> Logger {
        Logger(label: "test") { _ in CaptureHandler(capture: self) }
    }

    fileprivate func append(_ line: Line) { lines.withLock { $0.append(line) } }

    private struct CaptureHandler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var merged = metadata
            if let extra = event.metadata { merged.merge(extra) { $1 } }
            capture.append(Line(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}

/// The service's configuration for tests (the database URL comes from the test database).
func testConfiguration(databaseURL: String, extra: [String: String] = [:]) throws -> ServiceConfiguration {
    var environment = ["DATABASE_URL": databaseURL, "PORT": "0", "LOG_LEVEL": "warning"]
    environment.merge(extra) { $1 }
    return try ServiceConfiguration(environment: environment)
}

/// Runs `body` against the app built on a fresh migrated database (or one on `adminURL`).
func withApp<T>(
    adminURL: String = TestDatabase.adminURL, logs: LogCapture = LogCapture(), environment: [String: String] = [:],
    testing: TestingSetup = .router,
    _ body: @Sendable (any TestClientProtocol, PostgresPool, TestDatabase) async throws -> T
) async throws -> T {
    bootstrapMetrics()
    return try await withTestDatabase(adminURL: adminURL) { database in
        let configuration = try testConfiguration(databaseURL: database.url, extra: environment)
        let pool = PostgresPool(configuration: configuration.poolConfiguration(), logger: logs.logger())
        defer { pool.shutdownNow() }
        let dependencies = AppDependencies(
            pool: pool, migrator: Migrator(migrations: try Migration.bundled(), logger: logs.logger()), logger: logs.logger())
        let app = try buildApplication(configuration: configuration, dependencies: dependencies)
        return try await app.test(testing) { client in try await body(client, pool, database) }
    }
}
