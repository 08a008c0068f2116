import CLibPQ
import Logging

/// Transaction isolation levels.
public enum PostgresIsolationLevel: Sendable {
    case readCommitted
    case repeatableRead
    case serializable
}

/// Statements inside one open transaction. Valid only inside the `withTransaction` closure that
/// handed it out.
public struct PostgresTransaction: PostgresQueryable {
    public let connection: PostgresConnection

    public func query(_ query: PostgresQuery, timeout: Duration?) async throws -> PostgresRows {
        try await connection.query(query, timeout: timeout)
    }

    /// Sends the write with the transaction's next statement or its `COMMIT`, in the same round
    /// trip. Its failure fails that statement or the commit, and the transaction rolls back.
    public func executeDeferred(_ query: PostgresQuery) async throws {
        try await connection.executeDeferred(query)
    }

    /// Ends this transaction (the server rolls it back and closes the session) if it sits idle
    /// longer than `timeout` between statements: a client that died or hung mid-transaction
    /// releases its locks after this long at most.
    public func setIdleInTransactionTimeout(_ timeout: Duration) async throws {
        try await execute("SELECT set_config('idle_in_transaction_session_timeout', \(String(timeout.milliseconds)), true)")
    }

    /// Sets `statement_timeout` for the rest of this transaction (a bound `set_config`, not
    /// spliced SQL).
    public func setStatementTimeout(_ timeout: Duration) async throws {
        try await execute("SELECT set_config('statement_timeout', \(String(timeout.milliseconds)), true)")
    }
}

extension PostgresConnection {
    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws (and
    /// rethrows). A statement error that `body` swallowed still aborts the transaction; the
    /// commit then reports it instead of silently rolling back.
    ///
    /// `BEGIN` is not a round trip of its own: it goes with the first statement (libpq's pipeline
    /// mode), and deferred writes go with the `COMMIT`. A body that runs no statement sends
    /// nothing.
    public func withTransaction<T>(
        isolation: PostgresIsolationLevel = .readCommitted, readOnly: Bool = false,
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        let begin: String
        switch (isolation, readOnly) {
        case (.readCommitted, false): begin = "BEGIN"
        case (.readCommitted, true): begin = "BEGIN READ ONLY"
        case (.repeatableRead, false): begin = "BEGIN ISOLATION LEVEL REPEATABLE READ"
        case (.repeatableRead, true): begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        case (.serializable, false): begin = "BEGIN ISOLATION LEVEL SERIALIZABLE"
        case (.serializable, true): begin = "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"
        }
        deferControl(begin)
        let value: T
        do {
            value = try await body(PostgresTransaction(connection: self))
        } catch {
            await rollbackQuietly()
            throw error
        }
        if onlyBeginDeferred {
            discardDeferred()
            return value
        }
        if transactionStatus == PQTRANS_INERROR {
            await rollbackQuietly()
            throw PostgresError(
                code: .inFailedSQLTransaction,
                message: "a statement in the transaction failed; the transaction was rolled back")
        }
        do {
            deferControl("COMMIT")
            try await flushDeferred()
        } catch {
            // A deferred write failed, so the COMMIT was skipped and the transaction is aborted.
            await rollbackQuietly()
            throw error
        }
        return value
    }

    private func rollbackQuietly() async {
        discardDeferred()
        guard !isClosed, transactionStatus != PQTRANS_IDLE, transactionStatus != PQTRANS_UNKNOWN else { return }
        do {
            try await executeScript("ROLLBACK")
        } catch {
            // The connection is unusable (the pool discards it: it is not idle); the server rolls
            // the transaction back when the session ends.
            logger.debug("rollback failed", metadata: ["error": "\(error)"])
        }
    }
}
