import CRMAPI
import CRMApp
import CRMDomain
import CRMServices
import CRMStore
import CRMTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresClient
import Synchronization
import Testing

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

/// What a test gets: a client to the app, the pool and services behind it, its database, and the
/// clock business time comes from (it starts at the real time and moves only when the test moves
/// it).
struct TestApp: Sendable {
    let client: any TestClientProtocol
    let pool: PostgresPool
    let services: DomainServices
    let database: TestDatabase
    let clock: SettableClock

    /// How PostgreSQL has planned the one prepared statement whose SQL is `LIKE pattern`, as the
    /// connection the pool hands out sees it (its own `pg_prepared_statements`): meant for a pool
    /// of one, after the statement ran a few times.
    func plans(ofStatementLike pattern: String) async throws -> PreparedStatementPlans {
        let row = try #require(
            try await pool.queryFirst(
                """
                SELECT name, statement, parameter_types::text[], generic_plans, custom_plans FROM pg_prepared_statements
                WHERE statement LIKE \(pattern)
                """))
        return PreparedStatementPlans(
            name: try row.decode(0, as: String.self), statement: try row.decode(1, as: String.self),
            parameterTypes: try row.decode(2, as: [String].self), generic: try row.decode(3, as: Int.self),
            custom: try row.decode(4, as: Int.self))
    }

    /// A dealer's worth of rows for a plan test: every row of `table` copied `times` times (every
    /// stored column but the generated ones), each copy with a new `id`, created `n` hours before
    /// its original, and changed by `changes` (more arguments of a `jsonb_build_object` over the
    /// original row `t` and the copy's number `n`), then `ANALYZE`.
    func copyRows(of table: StaticString, times: Int, changing changes: String) async throws {
        try await pool.execute(
            PostgresQuery(
                unsafeSQL: """
                    DO $$
                    DECLARE columns text;
                    BEGIN
                        SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO columns FROM pg_attribute
                        WHERE attrelid = '\(table)'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
                        EXECUTE format($sql$
                            INSERT INTO \(table) (%1$s) SELECT %1$s FROM (
                                SELECT (jsonb_populate_record(t, jsonb_build_object(
                                    'id', gen_random_uuid(), 'created_at', t.created_at - n * interval '1 hour', \(changes)))).*
                                FROM \(table) t, generate_series(1, \(times)) AS n) AS copy
                            $sql$, columns);
                    END $$
                    """))
        try await pool.execute(PostgresQuery(unsafeSQL: "ANALYZE \(table)"))
    }

    /// The plan the connection's cache runs for `statement` now (`EXPLAIN (FORMAT JSON) EXECUTE`),
    /// with `arguments` as its parameters' SQL literals, in order.
    func keptPlan(ofStatementLike pattern: String, arguments: [String]) async throws -> String {
        let statement = try await plans(ofStatementLike: pattern)
        try #require(arguments.count == statement.parameterTypes.count, "parameters: \(statement.parameterTypes)")
        return try await pool.query(
            PostgresQuery(unsafeSQL: "EXPLAIN (FORMAT JSON) EXECUTE \(statement.name)(\(arguments.joined(separator: ", ")))")
        ).map { try $0.decode(0, as: String.self) }.joined()
    }
}

/// One prepared statement of a connection, from `pg_prepared_statements`: its name and parameter
/// types (for an `EXPLAIN EXECUTE`), and how many times PostgreSQL planned it each way.
struct PreparedStatementPlans {
    let name: String
    let statement: String
    let parameterTypes: [String]
    let generic: Int
    let custom: Int
}

/// Runs `body` against the app built on a fresh migrated database (or one on `adminURL`).
func withApp<T>(
    adminURL: String = TestDatabase.adminURL, logs: LogCapture = LogCapture(), environment: [String: String] = [:],
    testing: TestingSetup = .router, _ body: @Sendable (TestApp) async throws -> T
) async throws -> T {
    bootstrapMetrics()
    return try await withTestDatabase(adminURL: adminURL) { database in
        let configuration = try testConfiguration(databaseURL: database.url, extra: environment)
        let pool = PostgresPool(configuration: configuration.poolConfiguration(), logger: logs.logger())
        defer { pool.shutdownNow() }
        let clock = SettableClock(Date())
        let services = DomainServices(pool: pool, logger: logs.logger(), clock: clock)
        let dependencies = AppDependencies(
            pool: pool, migrator: Migrator(migrations: try Migration.bundled(), logger: logs.logger()), services: services,
            logger: logs.logger())
        let app = try buildApplication(configuration: configuration, dependencies: dependencies)
        return try await app.test(testing) { client in
            try await body(TestApp(client: client, pool: pool, services: services, database: database, clock: clock))
        }
    }
}

/// Shorthand for the older tests: client, pool, database.
func withApp<T>(
    adminURL: String = TestDatabase.adminURL, logs: LogCapture = LogCapture(), environment: [String: String] = [:],
    testing: TestingSetup = .router,
    _ body: @Sendable (any TestClientProtocol, PostgresPool, TestDatabase) async throws -> T
) async throws -> T {
    try await withApp(adminURL: adminURL, logs: logs, environment: environment, testing: testing) { app in
        try await body(app.client, app.pool, app.database)
    }
}

// MARK: JSON calls

struct APIResponse: @unchecked Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String

    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }
    /// `data` of a list response.
    var items: [[String: Any]] { json["data"] as? [[String: Any]] ?? [] }
    var ids: [String] { items.compactMap { $0["id"] as? String } }
    subscript(key: String) -> Any? { json[key] }
    var id: String { json["id"] as? String ?? "" }
    var etag: String? { headers[.eTag] }
    var fieldErrors: [String] { (json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String } }
}

extension TestClientProtocol {
    /// Sends a request; `json` is serialised as the body (a JSON object or array as
    /// `JSONSerialization` takes it, or a value of a contract type such as
    /// `Components.Schemas.LeadInput`, encoded as the typed client would), `raw` is sent as is.
    func call(
        _ method: HTTPRequest.Method, _ path: String, key: String? = nil, json: Any? = nil, raw: String? = nil,
        headers extra: [String: String] = [:]
    ) async throws -> APIResponse {
        var headers = HTTPFields()
        if let key { headers[.authorization] = "Bearer \(key)" }
        var body: ByteBuffer?
        if let json {
            if !JSONSerialization.isValidJSONObject(json), let value = json as? any Encodable {
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                body = ByteBuffer(bytes: try encoder.encode(value))
            } else {
                body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json, options: [.fragmentsAllowed]))
            }
            headers[.contentType] = "application/json"
        } else if let raw {
            body = ByteBuffer(string: raw)
            headers[.contentType] = "application/json"
        }
        for (name, value) in extra {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return try await execute(uri: path, method: method, headers: headers, body: body) { response in
            APIResponse(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }
}

/// A query value, percent-encoded.
func q(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
}

// MARK: Tenants

/// One OEM group with two dealers (A and B) and an admin key for each, plus a group key.
struct Tenants: Sendable {
    let groupID: UUID
    let dealerA: UUID
    let dealerB: UUID
    let keyA: String
    let keyB: String

    /// Built through the services (fast); `TenantIsolationTests` builds them through the CLI.
    static func make(_ services: DomainServices, groupName: String = "集团") async throws -> Tenants {
        let group = try await services.access.createGroup(name: groupName)
        let a = try await services.access.createDealer(
            DealerFields(name: "A 4S", brands: ["BMW"], region: "华东", timeZone: "Asia/Shanghai", settings: .init()),
            groupID: group.id, by: nil)
        let b = try await services.access.createDealer(
            DealerFields(name: "B 4S", brands: ["Toyota"], region: "华南", timeZone: "Asia/Shanghai", settings: .init()),
            groupID: group.id, by: nil)
        return Tenants(
            groupID: group.id, dealerA: a.id, dealerB: b.id,
            keyA: try await key(services, group: group.id, dealer: a.id, role: .admin),
            keyB: try await key(services, group: group.id, dealer: b.id, role: .admin))
    }

    static func key(_ services: DomainServices, group: UUID, dealer: UUID?, role: Role, staff: UUID? = nil) async throws -> String {
        try await services.access.issueKey(
            groupID: group, dealerID: dealer, role: role, name: "test \(role)", staffID: staff, expiresAt: nil,
            createdBy: nil
        ).1
    }
}

/// A VIN with a correct check digit, unique per seed.
func vin(_ seed: Int) -> String {
    let draft = String(format: "LBV3A5109%08d", seed % 100_000_000)
    return VIN.withCheckDigit(draft) ?? draft
}

/// A mainland mobile number, unique per seed.
func mobile(_ seed: Int) -> String { String(format: "139%08d", seed % 100_000_000) }
