/// A PostgreSQL SQLSTATE code as an open set: every code the server can send is representable,
/// and the ones upper layers act on have names. Compare against the named constants, never
/// against message text.
public struct SQLState: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// The two-character class (`23` integrity constraint violation, `08` connection exception, ...).
    public var codeClass: String { String(rawValue.prefix(2)) }
    public var description: String { rawValue }

    // Class 08: connection exception. `connectionFailure` is also what the client reports for a
    // connection it lost (socket closed, server gone) since libpq gives no SQLSTATE then.
    public static let connectionException = SQLState("08000")
    public static let connectionDoesNotExist = SQLState("08003")
    public static let connectionFailure = SQLState("08006")
    public static let unableToConnect = SQLState("08001")
    // Class 23: integrity constraint violation.
    public static let integrityConstraintViolation = SQLState("23000")
    public static let notNullViolation = SQLState("23502")
    public static let foreignKeyViolation = SQLState("23503")
    public static let uniqueViolation = SQLState("23505")
    public static let checkViolation = SQLState("23514")
    public static let exclusionViolation = SQLState("23P01")
    // Class 22: data exception.
    public static let dataException = SQLState("22000")
    public static let invalidTextRepresentation = SQLState("22P02")
    public static let characterNotInRepertoire = SQLState("22021")
    public static let numericValueOutOfRange = SQLState("22003")
    public static let stringDataRightTruncation = SQLState("22001")
    public static let invalidDatetimeFormat = SQLState("22007")
    public static let datetimeFieldOverflow = SQLState("22008")
    // Class 25/40: transactions.
    public static let inFailedSQLTransaction = SQLState("25P02")
    public static let readOnlySQLTransaction = SQLState("25006")
    public static let serializationFailure = SQLState("40001")
    public static let deadlockDetected = SQLState("40P01")
    // Class 42: syntax error or access rule violation.
    public static let syntaxError = SQLState("42601")
    public static let undefinedTable = SQLState("42P01")
    public static let undefinedColumn = SQLState("42703")
    public static let undefinedFunction = SQLState("42883")
    public static let duplicateObject = SQLState("42710")
    public static let duplicateDatabase = SQLState("42P04")
    public static let insufficientPrivilege = SQLState("42501")
    // Class 55/57: object state, operator intervention.
    public static let lockNotAvailable = SQLState("55P03")
    public static let objectInUse = SQLState("55006")
    public static let queryCanceled = SQLState("57014")
    public static let adminShutdown = SQLState("57P01")
    public static let crashShutdown = SQLState("57P02")
    public static let cannotConnectNow = SQLState("57P03")
    public static let tooManyConnections = SQLState("53300")
    // Class 0A / 26.
    public static let featureNotSupported = SQLState("0A000")
    public static let invalidSQLStatementName = SQLState("26000")
    public static let internalError = SQLState("XX000")
}

/// An error reported by the server or by libpq for a statement or a connection.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// The SQLSTATE; for errors libpq detects itself (lost connection) a class `08` code.
    public var code: SQLState
    /// The server's (or libpq's) primary message.
    public var message: String
    public var detail: String?
    public var hint: String?
    public var severity: String?
    public var schemaName: String?
    public var tableName: String?
    public var columnName: String?
    public var constraintName: String?

    public init(
        code: SQLState, message: String, detail: String? = nil, hint: String? = nil, severity: String? = nil,
        schemaName: String? = nil, tableName: String? = nil, columnName: String? = nil, constraintName: String? = nil
    ) {
        self.code = code
        self.message = message
        self.detail = detail
        self.hint = hint
        self.severity = severity
        self.schemaName = schemaName
        self.tableName = tableName
        self.columnName = columnName
        self.constraintName = constraintName
    }

    public var kind: Kind {
        switch code {
        case .uniqueViolation: return .uniqueViolation
        case .foreignKeyViolation: return .foreignKeyViolation
        case .checkViolation: return .checkViolation
        case .notNullViolation: return .notNullViolation
        case .serializationFailure: return .serializationFailure
        case .deadlockDetected: return .deadlock
        case .queryCanceled: return .queryCanceled
        case .lockNotAvailable: return .lockNotAvailable
        default:
            if code.codeClass == "08" || code == .adminShutdown || code == .crashShutdown
                || code == .cannotConnectNow || code == .tooManyConnections
            {
                return .connectionLost
            }
            if code.codeClass == "22" { return .invalidData }
            return .other
        }
    }

    /// What upper layers branch on. Open for extension: `.other` carries everything unnamed,
    /// and `code` is always there for finer decisions.
    public enum Kind: Sendable, Hashable {
        case uniqueViolation
        case foreignKeyViolation
        case checkViolation
        case notNullViolation
        case invalidData
        case serializationFailure
        case deadlock
        case queryCanceled
        case lockNotAvailable
        /// The connection is gone or the server is not accepting work: retry later (HTTP 503).
        case connectionLost
        case other
    }

    /// Serialization failures and deadlocks: the transaction can be retried as a whole.
    public var isTransient: Bool { kind == .serializationFailure || kind == .deadlock }

    public var description: String {
        var text = "PostgresError(\(code.rawValue)): \(message)"
        if let detail { text += " — \(detail)" }
        if let constraintName { text += " [constraint \(constraintName)]" }
        return text
    }

    static func connectionLost(_ message: String) -> PostgresError {
        PostgresError(code: .connectionFailure, message: message.isEmpty ? "connection to the server was lost" : message)
    }
}

/// Errors of the pool itself (no server involved).
public enum PoolError: Error, Sendable, CustomStringConvertible, Equatable {
    /// No connection became free within the configured acquire timeout.
    case acquireTimeout(Duration)
    /// The pool has been shut down.
    case shutDown
    /// `waiting` callers already wait for a connection (the pool's `maxWaiters`): the database
    /// is slower than the load; this caller is turned away at once.
    case overloaded(waiting: Int)
    /// A task that already holds a connection of this pool (inside `withConnection` or
    /// `withTransaction`) asked it for another one. With N such tasks and a pool of N, every
    /// one of them waits for a connection that only another of them could give back: the pool
    /// deadlocks until the acquire timeout. Refused at once where the pool is configured to
    /// detect it (debug builds and tests); a bug in the caller, never the client's fault.
    case nestedAcquisition

    public var description: String {
        switch self {
        case .acquireTimeout(let timeout): return "no database connection available within \(timeout)"
        case .shutDown: return "the connection pool is shut down"
        case .overloaded(let waiting): return "\(waiting) requests already wait for a database connection"
        case .nestedAcquisition:
            return "a task holding a pooled connection asked the pool for a second one (use the connection it holds)"
        }
    }
}

/// A value in a result row did not fit the Swift type asked for. Names the column.
public struct PostgresDecodingError: Error, Sendable, CustomStringConvertible {
    public var column: String
    public var columnIndex: Int
    public var targetType: String
    public var postgresType: UInt32
    public var reason: String

    public var description: String {
        "cannot decode column '\(column)' (#\(columnIndex), type oid \(postgresType)) as \(targetType): \(reason)"
    }
}

extension Error {
    /// True when the error means the database is unreachable or overloaded rather than that the
    /// request was wrong: lost connection, server shutting down, pool exhausted.
    public var isDatabaseUnavailable: Bool {
        if let error = self as? PostgresError { return error.kind == .connectionLost }
        if let error = self as? PoolError { return error != .nestedAcquisition }
        return false
    }
}
