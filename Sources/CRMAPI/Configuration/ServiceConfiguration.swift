import Foundation
public import Logging
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
    public var statementTimeout: Duration?
    public var connectTimeout: Duration
    public var ioMode: PostgresIOMode
    public var maxBodyBytes: Int
    public var shutdownTimeout: Duration

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
        ("DB_STATEMENT_TIMEOUT_MS", "30000", "server-side statement_timeout of every session (0 = none)"),
        ("DB_CONNECT_TIMEOUT_S", "5", "libpq connect_timeout"),
        ("DB_IO_MODE", "reactor", "reactor (non-blocking libpq on one epoll thread) or threads (blocking libpq on a thread pool)"),
        ("MAX_BODY_BYTES", "1048576", "largest accepted request body; larger ones get 413 before being read"),
        ("SHUTDOWN_TIMEOUT_S", "30", "on SIGTERM/SIGINT, how long in-flight work may take before it is cancelled"),
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
        let statement = try reader.integer("DB_STATEMENT_TIMEOUT_MS", in: 0...86_400_000)
        statementTimeout = statement == 0 ? nil : .milliseconds(statement)
        connectTimeout = .seconds(try reader.integer("DB_CONNECT_TIMEOUT_S", in: 1...300))
        ioMode = try reader.choice("DB_IO_MODE", PostgresIOMode.self)
        maxBodyBytes = try reader.integer("MAX_BODY_BYTES", in: 1024...1_073_741_824)
        shutdownTimeout = .seconds(try reader.integer("SHUTDOWN_TIMEOUT_S", in: 1...3600))
    }

    /// The pool settings these variables describe.
    public func poolConfiguration(applicationName: String = "crm") -> PostgresPoolConfiguration {
        PostgresPoolConfiguration(
            connection: PostgresConnectionConfiguration(
                url: databaseURL, applicationName: applicationName, connectTimeout: connectTimeout,
                statementTimeout: statementTimeout, ioMode: ioMode),
            maxConnections: poolSize, minConnections: poolMinimum, acquireTimeout: acquireTimeout)
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

    func level(_ name: String) throws -> Logger.Level {
        let text = try required(name)
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let allowed = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(variable: name, problem: "is '\(text)', expected one of: \(allowed)")
        }
        return level
    }
}
