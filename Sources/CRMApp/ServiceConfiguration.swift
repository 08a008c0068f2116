public import CRMAPI
import Foundation
public import Logging
public import JobQueue
public import PostgresClient

/// Everything the service reads from its environment. Every variable is listed, with its
/// default, in the README; a missing required or malformed value stops start-up with a
/// message that names the variable.
public struct ServiceConfiguration: Sendable {
    public var databaseURL: String
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var accessLogLevel: Logger.Level
    public var poolSize: Int
    public var poolMinimum: Int
    public var acquireTimeout: Duration
    /// At most this many requests wait for a connection; more get a 503 at once.
    public var poolMaxWaiters: Int
    public var statementTimeout: Duration?
    public var connectTimeout: Duration
    public var ioMode: PostgresIOMode
    public var maxBodyBytes: Int
    /// Swagger UI's files for `GET /docs`; nil: the page links to the raw contract.
    public var docsAssetsDirectory: String?
    /// How long an idempotent request's transaction may sit idle before the database ends it and
    /// frees its key.
    public var idempotencyLease: Duration
    public var shutdownTimeout: Duration
    /// Queue name -> jobs run at once, for `crm work` and `crm serve --with-worker`.
    public var workerQueues: [String: Int]
    public var workerWakeup: WorkerWakeup
    public var workerPollInterval: Duration
    public var jobLease: Duration
    public var workerShutdownGrace: Duration
    public var jobRetention: Duration
    public var discardedJobRetention: Duration

    public enum LogFormat: String, Sendable, CaseIterable {
        case text
        case json
    }

    /// The variables, their defaults and meaning, in the order the README lists them.
    public static let variables: [(name: String, defaultValue: String?, meaning: String)] = [
        ("DATABASE_URL", nil, "libpq connection URI or string (required); TLS via its sslmode/sslrootcert"),
        ("HOST", "127.0.0.1", "address the HTTP server binds"),
        ("PORT", "8080", "HTTP port (0 picks a free one)"),
        ("LOG_LEVEL", "info", "trace, debug, info, notice, warning, error, critical"),
        ("LOG_FORMAT", "text", "text or json (one JSON object per line)"),
        ("ACCESS_LOG_LEVEL", "info", "level of the one-line-per-request access log"),
        ("DB_POOL_SIZE", "10", "maximum PostgreSQL connections of the process (1-500)"),
        ("DB_POOL_MIN", "2", "connections kept open while idle (0-DB_POOL_SIZE)"),
        ("DB_ACQUIRE_TIMEOUT_MS", "5000", "how long a request waits for a free connection before a 503"),
        ("DB_POOL_MAX_WAITERS", "200", "at most this many requests wait for a connection; the next gets a 503 with Retry-After at once"),
        ("DB_STATEMENT_TIMEOUT_MS", "30000", "server-side statement_timeout of every session (0 = none)"),
        ("DB_CONNECT_TIMEOUT_S", "5", "libpq connect_timeout"),
        ("DB_IO_MODE", "reactor", "reactor (non-blocking libpq on one epoll thread) or threads (blocking libpq on a thread pool)"),
        ("MAX_BODY_BYTES", "1048576", "largest accepted request body; larger ones get 413 before being read"),
        ("DOCS_ASSETS_DIR", "", "directory with Swagger UI's files (swagger-ui-bundle.js, swagger-ui.css) served by /docs; scripts/run installs them; empty: /docs links to the raw contract"),
        ("IDEMPOTENCY_LEASE_S", "10", "an Idempotency-Key request whose client or process went silent frees its key after this long"),
        ("SHUTDOWN_TIMEOUT_S", "30", "on SIGTERM/SIGINT, how long in-flight work may take before it is cancelled"),
        ("WORKER_QUEUES", "default=10", "queues a worker runs and how many of each queue's jobs at once: name=N,name=N"),
        ("WORKER_WAKEUP", "listen", "listen (LISTEN/NOTIFY, polling as a fallback) or poll (polling only, for PgBouncer in transaction mode)"),
        ("WORKER_POLL_INTERVAL_MS", "1000", "how often an idle worker polls its queues"),
        ("JOB_LEASE_S", "30", "how long a claimed job is leased; a worker that stops renewing it (killed) loses it after this"),
        ("WORKER_SHUTDOWN_GRACE_S", "25", "on SIGTERM, how long running jobs may take before they are released to another worker"),
        ("JOB_RETENTION_HOURS", "24", "completed and cancelled jobs are deleted after this many hours"),
        ("JOB_DISCARDED_RETENTION_HOURS", "168", "discarded jobs (failed for good) are kept this many hours"),
    ]

    public init(environment: [String: String]) throws {
        var reader = EnvironmentReader(environment: environment)
        databaseURL = try reader.required("DATABASE_URL")
        host = try reader.string("HOST")
        port = try reader.integer("PORT", in: 0...65535)
        logLevel = try reader.level("LOG_LEVEL")
        logFormat = try reader.choice("LOG_FORMAT", LogFormat.self)
        accessLogLevel = try reader.level("ACCESS_LOG_LEVEL")
        poolSize = try reader.integer("DB_POOL_SIZE", in: 1...500)
        poolMinimum = try reader.integer("DB_POOL_MIN", in: 0...poolSize)
        acquireTimeout = .milliseconds(try reader.integer("DB_ACQUIRE_TIMEOUT_MS", in: 1...600_000))
        poolMaxWaiters = try reader.integer("DB_POOL_MAX_WAITERS", in: 0...100_000)
        let statement = try reader.integer("DB_STATEMENT_TIMEOUT_MS", in: 0...86_400_000)
        statementTimeout = statement == 0 ? nil : .milliseconds(statement)
        connectTimeout = .seconds(try reader.integer("DB_CONNECT_TIMEOUT_S", in: 1...300))
        ioMode = try reader.choice("DB_IO_MODE", PostgresIOMode.self)
        maxBodyBytes = try reader.integer("MAX_BODY_BYTES", in: 1024...1_073_741_824)
        docsAssetsDirectory = reader.optional("DOCS_ASSETS_DIR")
        idempotencyLease = .seconds(try reader.integer("IDEMPOTENCY_LEASE_S", in: 1...3600))
        shutdownTimeout = .seconds(try reader.integer("SHUTDOWN_TIMEOUT_S", in: 1...3600))
        workerQueues = try reader.queues("WORKER_QUEUES")
        workerWakeup = try reader.choice("WORKER_WAKEUP", WorkerWakeup.self)
        workerPollInterval = .milliseconds(try reader.integer("WORKER_POLL_INTERVAL_MS", in: 10...600_000))
        jobLease = .seconds(try reader.integer("JOB_LEASE_S", in: 3...86_400))
        workerShutdownGrace = .seconds(try reader.integer("WORKER_SHUTDOWN_GRACE_S", in: 0...3600))
        jobRetention = .seconds(3600 * (try reader.integer("JOB_RETENTION_HOURS", in: 1...87_600)))
        discardedJobRetention = .seconds(3600 * (try reader.integer("JOB_DISCARDED_RETENTION_HOURS", in: 1...87_600)))
    }

    /// What the HTTP layer is configured with.
    public var httpSettings: HTTPSettings {
        HTTPSettings(accessLogLevel: accessLogLevel, maxBodyBytes: maxBodyBytes, docsAssetsDirectory: docsAssetsDirectory)
    }

    /// The worker settings these variables describe.
    public func workerConfiguration(id: String = WorkerConfiguration.defaultID()) -> WorkerConfiguration {
        var worker = WorkerConfiguration(queues: workerQueues, id: id)
        worker.wakeup = workerWakeup
        worker.pollInterval = workerPollInterval
        worker.lease = jobLease
        worker.shutdownGrace = workerShutdownGrace
        return worker
    }

    /// The pool settings these variables describe.
    public func poolConfiguration(applicationName: String = "crm") -> PostgresPoolConfiguration {
        PostgresPoolConfiguration(
            connection: PostgresConnectionConfiguration(
                url: databaseURL, applicationName: applicationName, connectTimeout: connectTimeout,
                statementTimeout: statementTimeout, ioMode: ioMode),
            maxConnections: poolSize, minConnections: poolMinimum, acquireTimeout: acquireTimeout, maxWaiters: poolMaxWaiters)
    }
}

/// A start-up configuration error; names the variable.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var variable: String
    public var problem: String
    public var description: String { "configuration: \(variable) \(problem)" }

    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }
}

private struct EnvironmentReader {
    let environment: [String: String]

    private func value(_ name: String) -> String? {
        if let value = environment[name], !value.isEmpty { return value }
        return ServiceConfiguration.variables.first { $0.name == name }?.defaultValue
    }

    func required(_ name: String) throws -> String {
        guard let value = value(name) else {
            throw ConfigurationError(variable: name, problem: "is not set (required)")
        }
        return value
    }

    func string(_ name: String) throws -> String { try required(name) }

    /// A variable whose empty default means "not set".
    func optional(_ name: String) -> String? { value(name).flatMap { $0.isEmpty ? nil : $0 } }

    func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int {
        let text = try required(name)
        guard let number = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
            throw ConfigurationError(
                variable: name, problem: "is '\(text)', expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type) throws -> T where T.RawValue == String {
        let text = try required(name)
        guard let value = T(rawValue: text.lowercased()) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(variable: name, problem: "is '\(text)', expected one of: \(allowed)")
        }
        return value
    }

    /// `name=N,name=N`: queue names (letters, digits, `_`, `-`; 1-50) and their concurrency (1-1000).
    func queues(_ name: String) throws -> [String: Int] {
        let text = try required(name)
        var queues: [String: Int] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard parts.count == 2, (1...50).contains(parts[0].count),
                parts[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }),
                let concurrency = Int(parts[1]), (1...1000).contains(concurrency), queues[parts[0]] == nil
            else {
                throw ConfigurationError(
                    variable: name, problem: "is '\(text)', expected name=N pairs separated by commas (N from 1 to 1000, each name once)")
            }
            queues[parts[0]] = concurrency
        }
        guard !queues.isEmpty else {
            throw ConfigurationError(variable: name, problem: "names no queue (expected name=N pairs, e.g. default=10)")
        }
        return queues
    }

    func level(_ name: String) throws -> Logger.Level {
        let text = try required(name)
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let allowed = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(variable: name, problem: "is '\(text)', expected one of: \(allowed)")
        }
        return level
    }
}
