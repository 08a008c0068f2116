#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLibPQ
import DequeModule
import Foundation
public import Logging
import NIOCore
public import NIOPosix
import Synchronization

/// How a connection waits for the server.
public enum PostgresIOMode: String, Sendable, CaseIterable {
    /// libpq in non-blocking mode; one epoll thread waits on every connection's socket and
    /// resumes the task that sent the statement. No thread is parked per statement.
    case reactor
    /// libpq in blocking mode; each statement runs on a dedicated thread pool sized to the
    /// connection pool, so a blocked call never sits on a NIO event loop or a Swift
    /// concurrency thread.
    case threads
}

/// Settings of one connection to PostgreSQL.
public struct PostgresConnectionConfiguration: Sendable {
    /// A libpq connection string or URI (`postgresql://user@host:5432/db?sslmode=require`).
    /// TLS is whatever libpq's own `sslmode`/`sslrootcert`/... parameters in it say.
    public var url: String
    public var applicationName: String
    public var connectTimeout: Duration
    /// The session's `statement_timeout`; nil leaves the server's default.
    public var statementTimeout: Duration?
    /// The session's `idle_in_transaction_session_timeout`: protects against a leaked
    /// transaction holding locks.
    public var idleInTransactionTimeout: Duration?
    public var ioMode: PostgresIOMode
    /// Prepared statements kept per connection (least recently prepared dropped first).
    public var preparedStatementCacheSize: Int

    public init(
        url: String, applicationName: String = "crm", connectTimeout: Duration = .seconds(5),
        statementTimeout: Duration? = .seconds(30), idleInTransactionTimeout: Duration? = .seconds(60),
        ioMode: PostgresIOMode = .reactor, preparedStatementCacheSize: Int = 256
    ) {
        self.url = url
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.idleInTransactionTimeout = idleInTransactionTimeout
        self.ioMode = ioMode
        self.preparedStatementCacheSize = preparedStatementCacheSize
    }
}

/// Anything statements can be run on: a pool (one connection per statement), a connection, a
/// transaction.
public protocol PostgresQueryable: Sendable {
    /// Runs one statement with bound parameters and returns its rows.
    /// - Parameter timeout: cancels the statement on the server after this long (client-side
    ///   cancel request); nil keeps the session's `statement_timeout`.
    func query(_ query: PostgresQuery, timeout: Duration?) async throws -> PostgresRows

    /// Runs a write whose result the caller does not read. Inside a transaction it is sent
    /// with the transaction's next statement or its `COMMIT`, in the same round trip (its
    /// failure then fails that statement or the commit); elsewhere it runs at once.
    func executeDeferred(_ query: PostgresQuery) async throws
}

extension PostgresQueryable {
    public func executeDeferred(_ query: PostgresQuery) async throws {
        _ = try await self.query(query, timeout: nil)
    }

    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await self.query(query, timeout: nil)
    }

    /// Runs a statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery, timeout: Duration? = nil) async throws -> Int {
        try await self.query(query, timeout: timeout).affectedRows
    }

    /// The first row, or nil.
    public func queryFirst(_ query: PostgresQuery, timeout: Duration? = nil) async throws -> PostgresRow? {
        try await self.query(query, timeout: timeout).firstRow
    }
}

/// One libpq connection.
///
/// Concurrency discipline (why `@unchecked Sendable` is sound): the `PGconn` is used by one task
/// at a time — whoever borrowed the connection from the pool (or created it) — and, while that
/// task is suspended waiting for a reply, by the reactor thread, which touches it only between
/// the task arming the socket and the reactor resuming the task. The mutable Swift state
/// (`statementCache`) is touched only by the borrowing task. Cancellation (`PQcancel`) uses its
/// own thread-safe `PGcancel` object, and `abort()` only shuts the socket down.
public final class PostgresConnection: PostgresQueryable, @unchecked Sendable {
    let handle: OpaquePointer
    /// Our own duplicate of libpq's socket, watched by the reactor and used for `poll` and
    /// `shutdown`. libpq closes its descriptor as soon as it sees the connection fail; if we
    /// watched that number, a new connection could be given the same number before we
    /// deregister the old one, and we would then remove the new one's registration. The
    /// duplicate keeps the socket (and its number) ours until `close()`.
    let socket: Int32
    public let id: Int
    let configuration: PostgresConnectionConfiguration
    let logger: Logger
    private let reactor: Reactor?
    private let blockingPool: NIOThreadPool
    private let cancelToken: CancelToken?
    /// Receives the server's notices (and libpq's) for the logger instead of stderr.
    private let noticeSink: NoticeSink
    private var statementCache: [String: String] = [:]
    private var statementOrder: Deque<String> = []
    private var nextStatementNumber = 0
    private let closed = Atomic<Bool>(false)
    /// Set when the connection must not be reused (lost, aborted, protocol out of step).
    private let broken = Atomic<Bool>(false)

    private static let nextID = Atomic<Int>(1)

    /// The server process serving this connection.
    public var backendPID: Int32 { PQbackendPID(handle) }

    private init(
        id: Int, handle: OpaquePointer, configuration: PostgresConnectionConfiguration, reactor: Reactor?,
        blockingPool: NIOThreadPool, logger: Logger
    ) {
        self.id = id
        self.handle = handle
        self.socket = fcntl(PQsocket(handle), F_DUPFD_CLOEXEC, 0)
        self.configuration = configuration
        self.reactor = reactor
        self.blockingPool = blockingPool
        self.cancelToken = PQgetCancel(handle).map(CancelToken.init)
        var logger = logger
        logger[metadataKey: "db.connection"] = "\(self.id)"
        self.logger = logger
        self.noticeSink = NoticeSink(logger: logger)
        PQsetNoticeProcessor(
            handle,
            { context, message in
                guard let context, let message else { return }
                Unmanaged<NoticeSink>.fromOpaque(context).takeUnretainedValue().receive(String(cString: message))
            }, Unmanaged.passUnretained(noticeSink).toOpaque())
    }

    deinit {
        if !closed.load(ordering: .relaxed) {
            reactor?.deregister(fd: socket)
            PQfinish(handle)
            if socket >= 0 { closeDescriptor(socket) }
        }
    }

    // MARK: Connecting

    /// Opens a connection. Blocking libpq connect runs on `blockingPool`.
    public static func connect(
        configuration: PostgresConnectionConfiguration, blockingPool: NIOThreadPool, logger: Logger
    ) async throws -> PostgresConnection {
        try await connect(configuration: configuration, blockingPool: blockingPool, logger: logger, reactor: nil)
    }

    /// Opens a connection watched by `reactor` (or one chosen in turn when nil).
    static func connect(
        configuration: PostgresConnectionConfiguration, blockingPool: NIOThreadPool, logger: Logger, reactor: Reactor?
    ) async throws -> PostgresConnection {
        let id = nextID.add(1, ordering: .relaxed).oldValue
        let reactor: Reactor? =
            switch configuration.ioMode {
            case .reactor: try reactor ?? Reactor.forConnection(id)
            case .threads: nil
            }
        let parameters = try connectionParameters(configuration)
        let box = try await blockingPool.runIfActive { () -> PGconnBox in
            let pointer = Self.withCStringArrays(parameters.map(\.0), parameters.map(\.1)) { keywords, values in
                PQconnectdbParams(keywords, values, 1)
            }
            return PGconnBox(pointer: pointer)
        }
        guard let handle = box.pointer else {
            throw PostgresError(code: .unableToConnect, message: "out of memory while connecting")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = errorMessage(handle)
            PQfinish(handle)
            throw PostgresError(code: .unableToConnect, message: "cannot connect to PostgreSQL: \(message)")
        }
        if reactor != nil, PQsetnonblocking(handle, 1) != 0 {
            let message = errorMessage(handle)
            PQfinish(handle)
            throw PostgresError(code: .unableToConnect, message: "cannot switch to non-blocking mode: \(message)")
        }
        let connection = PostgresConnection(
            id: id, handle: handle, configuration: configuration, reactor: reactor, blockingPool: blockingPool,
            logger: logger)
        guard connection.socket >= 0 else {
            connection.close()
            throw PostgresError(code: .unableToConnect, message: "cannot duplicate the connection's socket: errno \(errno)")
        }
        if let reactor {
            do {
                try reactor.register(fd: connection.socket)
            } catch {
                connection.close()
                throw error
            }
        }
        return connection
    }

    /// Keywords for `PQconnectdbParams`: our defaults first, then the URL (which overrides
    /// them), then `options`, which merges the URL's own options with the session settings the
    /// client's decoders rely on (UTC, ISO dates).
    static func connectionParameters(_ configuration: PostgresConnectionConfiguration) throws -> [(String, String)] {
        var userOptions = ""
        var errorPointer: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(configuration.url, &errorPointer) else {
            let message = errorPointer.map { String(cString: $0) } ?? "unparsable connection string"
            if let errorPointer { PQfreemem(errorPointer) }
            throw PostgresError(
                code: .unableToConnect,
                message: "invalid database URL: \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        var option = parsed
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "options", let value = option.pointee.val {
                userOptions = String(cString: value)
            }
            option += 1
        }
        PQconninfoFree(parsed)

        var sessionOptions = ["-c TimeZone=UTC", "-c DateStyle=ISO,YMD", "-c IntervalStyle=postgres", "-c extra_float_digits=3"]
        if let timeout = configuration.statementTimeout {
            sessionOptions.append("-c statement_timeout=\(timeout.milliseconds)")
        }
        if let timeout = configuration.idleInTransactionTimeout {
            sessionOptions.append("-c idle_in_transaction_session_timeout=\(timeout.milliseconds)")
        }
        if !userOptions.isEmpty { sessionOptions.insert(userOptions, at: 0) }
        return [
            ("application_name", configuration.applicationName),
            ("connect_timeout", String(max(1, Int(configuration.connectTimeout.components.seconds)))),
            ("keepalives", "1"),
            ("keepalives_idle", "30"),
            ("keepalives_interval", "10"),
            ("keepalives_count", "3"),
            ("dbname", configuration.url),
            ("client_encoding", "UTF8"),
            ("options", sessionOptions.joined(separator: " ")),
        ]
    }

    // MARK: Statements

    public func query(_ query: PostgresQuery, timeout: Duration?) async throws -> PostgresRows {
        try Self.refuseNUL(in: query)
        let name = try await preparedName(for: query)
        do {
            return try await send(takeDeferred() + [.execute(name: name, bindings: query.bindings)], timeout: timeout)
        } catch let error as PostgresError
            where error.code == .featureNotSupported || error.code == .invalidSQLStatementName
        {
            // "cached plan must not change result type" after a schema change, or a statement the
            // server no longer knows: forget it so the next use prepares it again.
            forgetStatement(sql: query.sql)
            throw error
        }
    }

    /// Parameters travel as C strings: a NUL would end the value early, silently. PostgreSQL
    /// text cannot hold NUL anyway, so such a value is refused here, before anything is sent.
    private static func refuseNUL(in query: PostgresQuery) throws {
        for value in query.bindings.values where value?.utf8.contains(0) == true {
            throw PostgresError(
                code: .characterNotInRepertoire, message: "a parameter contains a NUL character, which text cannot hold")
        }
    }

    /// Queues a write whose result nobody reads, inside a transaction: it goes to the server with
    /// the transaction's next statement or its `COMMIT`, in the same round trip. Its failure
    /// fails that statement (or the commit), and the transaction rolls back. Outside a
    /// transaction it runs at once.
    public func executeDeferred(_ query: PostgresQuery) async throws {
        guard !deferred.isEmpty || transactionStatus == PQTRANS_INTRANS else {
            _ = try await self.query(query, timeout: nil)
            return
        }
        try Self.refuseNUL(in: query)
        let name = try await preparedName(for: query)
        deferred.append(.execute(name: name, bindings: query.bindings))
    }

    /// Runs SQL text through the simple-query protocol: several statements allowed, no
    /// parameters. For migrations and fixed control statements only (`SAVEPOINT`, `DEALLOCATE`).
    /// Statements still deferred are sent first, in their own round trip.
    @discardableResult
    public func executeScript(_ sql: String, timeout: Duration? = nil) async throws -> PostgresRows {
        try await flushDeferred()
        return try await send([.script(sql)], timeout: timeout)
    }

    private func preparedName(for query: PostgresQuery) async throws -> String {
        if let name = statementCache[query.sql] { return name }
        nextStatementNumber += 1
        let name = "s\(nextStatementNumber)"
        // A deferred BEGIN goes with the preparation, so the statement is prepared inside the
        // transaction, as it would be without deferral.
        _ = try await send(takeDeferred() + [.prepare(name: name, sql: query.sql, types: query.bindings.types)], timeout: nil)
        statementCache[query.sql] = name
        statementOrder.append(query.sql)
        if statementOrder.count > configuration.preparedStatementCacheSize, let oldest = statementOrder.popFirst(),
            let oldName = statementCache.removeValue(forKey: oldest)
        {
            _ = try? await executeScript("DEALLOCATE \(oldName)")
        }
        return name
    }

    // MARK: Deferred statements

    /// Statements accepted but not sent yet: a transaction's `BEGIN` (sent with its first
    /// statement) and writes whose result nobody reads (sent with the next statement or the
    /// `COMMIT`). Issue 12: `POST /v1/customers` went from four round trips to two.
    private var deferred: [OutgoingStatement] = []

    /// Defers a control statement (`BEGIN`) to the next round trip.
    func deferControl(_ sql: String) {
        deferred.append(.control(sql))
    }

    /// Drops what is deferred: the transaction it belonged to is being rolled back.
    func discardDeferred() {
        deferred.removeAll()
    }

    /// Whether a `BEGIN` is deferred and nothing was sent since.
    var onlyBeginDeferred: Bool {
        if deferred.count == 1, case .control = deferred[0], transactionStatus == PQTRANS_IDLE { return true }
        return false
    }

    /// Sends whatever is deferred, in one round trip.
    func flushDeferred() async throws {
        let pending = takeDeferred()
        if !pending.isEmpty { _ = try await send(pending, timeout: nil) }
    }

    private func takeDeferred() -> [OutgoingStatement] {
        defer { deferred.removeAll(keepingCapacity: true) }
        return deferred
    }

    /// Sends statements in one round trip and returns the last one's result (throwing the first
    /// error). One statement goes alone; several go through libpq's pipeline mode, ended by a
    /// sync, so the server runs them in order and skips the rest after an error.
    private func send(_ statements: [OutgoingStatement], timeout: Duration?) async throws -> PostgresRows {
        roundTrips.add(1, ordering: .relaxed)
        if statements.count == 1 {
            let statement = statements[0]
            return try await run(timeout: timeout, pipelined: false) { connection in
                statement.send(on: connection.handle, pipelined: false)
            }
        }
        return try await run(timeout: timeout, pipelined: true) { connection in
            let handle = connection.handle
            guard PQenterPipelineMode(handle) == 1 else { return 0 }
            for statement in statements where statement.send(on: handle, pipelined: true) != 1 { return 0 }
            return PQpipelineSync(handle)
        }
    }

    /// Round trips to the server so far (tests count them).
    let roundTrips = Atomic<Int>(0)

    private func forgetStatement(sql: String) {
        if statementCache.removeValue(forKey: sql) != nil {
            statementOrder.removeAll { $0 == sql }
        }
    }

    /// Sends with `send` and waits for every result of the statement; throws the server's error
    /// if one of them failed, else returns the last one.
    private func run(
        timeout: Duration?, pipelined: Bool, send: @escaping @Sendable (PostgresConnection) -> Int32
    ) async throws -> PostgresRows {
        guard !closed.load(ordering: .relaxed) else {
            throw PostgresError(code: .connectionDoesNotExist, message: "the connection is closed")
        }
        guard !broken.load(ordering: .relaxed), PQstatus(handle) == CONNECTION_OK else {
            broken.store(true, ordering: .relaxed)
            throw PostgresError.connectionLost(Self.errorMessage(handle))
        }
        let watchdog = timeout.map { timeout in
            Task { [self] in
                try await Task.sleep(for: timeout)
                await self.cancelRunningStatement(hardDeadline: min(timeout, .seconds(5)))
            }
        }
        defer { watchdog?.cancel() }

        let results: [PostgresRows]
        do {
            if let reactor {
                results = try await withCheckedThrowingContinuation { continuation in
                    guard send(self) == 1 else {
                        continuation.resume(throwing: self.lostOrFailed())
                        return
                    }
                    let pending = PendingResults(continuation: continuation, pipelined: pipelined)
                    self.flushThenRead(pending, reactor: reactor, loop: MultiThreadedEventLoopGroup.currentEventLoop)
                }
            } else {
                results = try await blockingPool.runIfActive { [self] in
                    guard send(self) == 1 else { throw self.lostOrFailed() }
                    return try self.readBlocking(pipelined: pipelined)
                }
            }
        } catch {
            if pipelined { broken.store(true, ordering: .relaxed) }
            throw error
        }
        // Every result up to the sync has been read, so the pipeline is idle and can be left.
        if pipelined, PQexitPipelineMode(handle) != 1 { broken.store(true, ordering: .relaxed) }
        return try interpret(results)
    }

    /// `threads` mode: reads a statement's results (a pipeline's up to its sync), blocking.
    private func readBlocking(pipelined: Bool) throws -> [PostgresRows] {
        var collected = CollectedResults(pipelined: pipelined)
        while true {
            switch collected.take(PQgetResult(handle), connectionOK: PQstatus(handle) == CONNECTION_OK) {
            case .more: continue
            case .complete: return collected.results
            case .lost:
                broken.store(true, ordering: .relaxed)
                throw PostgresError.connectionLost(Self.errorMessage(handle))
            }
        }
    }

    /// Reactor path: flush what libpq could not send yet, then read until the statement's
    /// results are complete.
    ///
    /// Called first by the sending task. When that runs on a NIO event loop (an HTTP handler),
    /// the reply is first looked for from that loop: the read is queued behind the loop's other
    /// work, which under load gives the server time to answer, and is tried `loopReads` times
    /// before the reactor is armed. A reply found there resumes the task on its own thread and
    /// the reactor thread never wakes (issue 12: one hand-off per statement less). Otherwise the
    /// reactor runs this again when the socket is ready.
    private func flushThenRead(_ pending: PendingResults, reactor: Reactor, loop: (any EventLoop)?) {
        if pending.flushing {
            let flushed = PQflush(handle)
            if flushed < 0 {
                pending.finish(throwing: lostOrFailed())
                return
            }
            if flushed == 1 {
                reactor.arm(fd: socket, writable: true) { [self] _ in self.flushThenRead(pending, reactor: reactor, loop: nil) }
                return
            }
            pending.flushing = false
        }
        if pending.started, PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK {
            broken.store(true, ordering: .relaxed)
            pending.finish(throwing: PostgresError.connectionLost(Self.errorMessage(handle)))
            return
        }
        pending.started = true
        while PQisBusy(handle) == 0 {
            switch pending.collected.take(PQgetResult(handle), connectionOK: PQstatus(handle) == CONNECTION_OK) {
            case .more: continue
            case .complete:
                if loop != nil, pending.loopReads > 0 { repliesReadOnLoop.add(1, ordering: .relaxed) }
                pending.finish()
            case .lost:
                broken.store(true, ordering: .relaxed)
                pending.finish(throwing: PostgresError.connectionLost(Self.errorMessage(handle)))
            }
            return
        }
        if PQstatus(handle) != CONNECTION_OK {
            broken.store(true, ordering: .relaxed)
            pending.finish(throwing: PostgresError.connectionLost(Self.errorMessage(handle)))
            return
        }
        if let loop, pending.loopReads < Self.loopReads {
            pending.loopReads += 1
            loop.execute { [self] in self.flushThenRead(pending, reactor: reactor, loop: loop) }
            return
        }
        // Level-triggered: bytes that arrived meanwhile fire the handler at once.
        reactor.arm(fd: socket) { [self] _ in self.flushThenRead(pending, reactor: reactor, loop: nil) }
    }

    /// How many times a reply is looked for from the sender's event loop before the reactor
    /// waits for it. Measured (BENCHMARKS.md, 2026-11-30 evening): with 2, a customer read
    /// went from 0.82 to 0.11 voluntary thread switches per request and a page of 50 from 1.2
    /// to 0.45; 3 did not do measurably better.
    static let loopReads = 2

    /// Statements whose reply the sender's event loop read (tests compare it with the
    /// statements run).
    let repliesReadOnLoop = Atomic<Int>(0)

    private func interpret(_ results: [PostgresRows]) throws -> PostgresRows {
        var last: PostgresRows?
        for result in results {
            switch PQresultStatus(result.handle) {
            case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
                throw serverError(from: result.handle)
            case PGRES_PIPELINE_ABORTED:
                // Skipped because an earlier statement of the round trip failed (whose error,
                // earlier in the list, is thrown first).
                throw PostgresError(
                    code: .inFailedSQLTransaction, message: "an earlier statement sent with this one failed")
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                broken.store(true, ordering: .relaxed)
                throw PostgresError(code: .featureNotSupported, message: "COPY is not supported by this client")
            default:
                last = result
            }
        }
        guard let last else {
            if PQstatus(handle) != CONNECTION_OK { broken.store(true, ordering: .relaxed) }
            throw PostgresError.connectionLost(Self.errorMessage(handle))
        }
        return last
    }

    private func lostOrFailed() -> PostgresError {
        let message = Self.errorMessage(handle)
        if PQstatus(handle) != CONNECTION_OK {
            broken.store(true, ordering: .relaxed)
            return .connectionLost(message)
        }
        // libpq refused to send (e.g. another command still in progress): unusable from here.
        broken.store(true, ordering: .relaxed)
        return PostgresError(code: .connectionException, message: message)
    }

    private func serverError(from result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        // Field codes from postgres_ext.h (PG_DIAG_*).
        let sqlState = field(Int32(UInt8(ascii: "C")))
        let message = field(Int32(UInt8(ascii: "M"))) ?? Self.errorMessage(handle)
        guard let sqlState else {
            // No SQLSTATE: libpq's own error, i.e. the connection failed under the statement.
            broken.store(true, ordering: .relaxed)
            return .connectionLost(message)
        }
        let error = PostgresError(
            code: SQLState(sqlState), message: message, detail: field(Int32(UInt8(ascii: "D"))),
            hint: field(Int32(UInt8(ascii: "H"))), severity: field(Int32(UInt8(ascii: "V"))),
            schemaName: field(Int32(UInt8(ascii: "s"))), tableName: field(Int32(UInt8(ascii: "t"))),
            columnName: field(Int32(UInt8(ascii: "c"))), constraintName: field(Int32(UInt8(ascii: "n"))))
        if error.kind == .connectionLost { broken.store(true, ordering: .relaxed) }
        return error
    }

    static func errorMessage(_ handle: OpaquePointer) -> String {
        guard let message = PQerrorMessage(handle) else { return "" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Cancel, abort, health

    /// Asks the server to cancel the statement in flight; if it has not ended after
    /// `hardDeadline`, shuts the socket down so the waiting task fails with a lost connection
    /// (the network may be gone, in which case the cancel request cannot arrive either).
    func cancelRunningStatement(hardDeadline: Duration) async {
        if let cancelToken {
            _ = try? await blockingPool.runIfActive {
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(cancelToken.pointer, &buffer, 256)
            }
        }
        do {
            try await Task.sleep(for: hardDeadline)
        } catch {
            return  // the statement ended: the watchdog was cancelled
        }
        logger.warning("statement did not end after a cancel request; dropping the connection")
        abort()
    }

    /// Shuts the socket down: any waiter sees a lost connection, the pool discards it.
    public func abort() {
        broken.store(true, ordering: .relaxed)
        _ = shutdown(socket, Int32(SHUT_RDWR))
    }

    /// Which reactor watches this connection (nil in `.threads` mode).
    var reactorIndex: Int? { reactor?.index }

    /// The reactor watching this connection (the listener waits on it directly).
    func reactorForListening() throws -> Reactor {
        guard let reactor else { throw PostgresError(code: .connectionException, message: "the connection has no reactor") }
        return reactor
    }

    /// Transaction state as libpq tracks it.
    var transactionStatus: PGTransactionStatusType { PQtransactionStatus(handle) }

    /// A connection the pool can hand out again: open, not broken, not inside a transaction.
    var isReusable: Bool {
        deferred.isEmpty && !closed.load(ordering: .relaxed) && !broken.load(ordering: .relaxed) && PQstatus(handle) == CONNECTION_OK
            && PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// Checks an idle connection without a round trip: an idle connection has nothing to read,
    /// so a readable socket means the server closed it (restart, admin shutdown, network reset)
    /// or sent an error; libpq then reads it and reports the connection bad.
    func checkIdleHealth() -> Bool {
        guard isReusable else { return false }
        // An idle socket is not watched: a server that ended the session left its goodbye (an
        // error message, end of stream) to be read here.
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, 0)
        if ready == 0 { return true }
        if ready < 0 { return errno == EINTR }
        guard consumeUntilDrained() else { return false }
        while let notification = PQnotifies(handle) { PQfreemem(notification) }
        return true
    }

    /// Reads everything the socket holds into libpq's buffer; false when the connection failed.
    /// A server that ends a session sends an error message and then closes: reading only the
    /// message would leave the end of stream unread, and the connection would look alive.
    func consumeUntilDrained() -> Bool {
        for _ in 0..<64 {
            if PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK {
                broken.store(true, ordering: .relaxed)
                return false
            }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 0) <= 0 { return true }
        }
        return true
    }

    /// Closes the connection. Call only when no statement is in flight.
    public func close() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        reactor?.deregister(fd: socket)
        PQfinish(handle)
        if socket >= 0 { closeDescriptor(socket) }
    }

    public var isClosed: Bool { closed.load(ordering: .relaxed) }

    // MARK: Helpers

    /// Calls `body` with parameter values as C strings (NULL for SQL NULL).
    static func withParameters<R>(
        _ bindings: PostgresBindings, _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> R
    ) -> R {
        let values = bindings.values
        if values.isEmpty { return body(0, nil) }
        var storage: [CChar] = []
        var offsets: [Int] = []
        offsets.reserveCapacity(values.count)
        for value in values {
            guard let value else {
                offsets.append(-1)
                continue
            }
            offsets.append(storage.count)
            value.utf8CString.withUnsafeBufferPointer { storage.append(contentsOf: $0) }
        }
        return storage.withUnsafeBufferPointer { buffer in
            let pointers = offsets.map { offset -> UnsafePointer<CChar>? in
                offset < 0 ? nil : buffer.baseAddress.map { $0 + offset }
            }
            return pointers.withUnsafeBufferPointer { body(Int32(values.count), $0.baseAddress) }
        }
    }

    static func withCStringArrays<R>(
        _ first: [String], _ second: [String],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        let firstC = first.map { strdup($0) }
        let secondC = second.map { strdup($0) }
        defer {
            firstC.forEach { free($0) }
            secondC.forEach { free($0) }
        }
        let firstPointers = firstC.map { UnsafePointer($0) } + [nil]
        let secondPointers = secondC.map { UnsafePointer($0) } + [nil]
        return firstPointers.withUnsafeBufferPointer { a in
            secondPointers.withUnsafeBufferPointer { b in body(a.baseAddress!, b.baseAddress!) }
        }
    }
}

/// Routes notices to the log: FATAL notices (the server ending an idle session) at info,
/// the rest (NOTICE/WARNING from statements) at debug.
private final class NoticeSink: Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    func receive(_ message: String) {
        let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("FATAL") {
            logger.info("server notice", metadata: ["notice": "\(text)"])
        } else {
            logger.debug("server notice", metadata: ["notice": "\(text)"])
        }
    }
}

private func closeDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #elseif canImport(Musl)
    _ = Musl.close(fd)
    #endif
}

/// The results of a statement being collected (on the sender's event loop or the reactor thread);
/// resumed exactly once.
private final class PendingResults: @unchecked Sendable {
    // Touched by one thread at a time: the sending task, then reads queued on its event loop,
    // then the reactor thread once armed.
    var collected: CollectedResults
    var flushing = true
    var started = false
    /// Reads tried from the sender's event loop so far.
    var loopReads = 0
    private var continuation: CheckedContinuation<[PostgresRows], any Error>?

    init(continuation: CheckedContinuation<[PostgresRows], any Error>, pipelined: Bool) {
        self.continuation = continuation
        self.collected = CollectedResults(pipelined: pipelined)
    }

    func finish() {
        continuation?.resume(returning: collected.results)
        continuation = nil
    }

    func finish(throwing error: any Error) {
        continuation?.resume(throwing: error)
        continuation = nil
    }
}

/// The results of one round trip as `PQgetResult` hands them out, and whether they are complete:
/// one definition for both IO modes. A single statement's results end with a NULL; a pipeline's
/// statements are each followed by a NULL, and its sync result ends the round trip.
struct CollectedResults {
    enum Step {
        case more
        case complete
        /// The sync will not come: two NULLs in a row, or the connection failed.
        case lost
    }

    let pipelined: Bool
    private(set) var results: [PostgresRows] = []
    /// NULL results read in a row.
    private var separators = 0

    init(pipelined: Bool) {
        self.pipelined = pipelined
    }

    mutating func take(_ result: OpaquePointer?, connectionOK: @autoclosure () -> Bool) -> Step {
        guard let result else {
            guard pipelined else { return .complete }
            separators += 1
            return separators < 2 && connectionOK() ? .more : .lost
        }
        separators = 0
        if pipelined, PQresultStatus(result) == PGRES_PIPELINE_SYNC {
            PQclear(result)
            return .complete
        }
        results.append(PostgresRows(handle: result))
        return .more
    }
}

/// One statement of a round trip.
enum OutgoingStatement: Sendable {
    /// A control statement without parameters (`BEGIN`, `COMMIT`).
    case control(String)
    /// SQL text through the simple-query protocol (a script); never pipelined.
    case script(String)
    case prepare(name: String, sql: String, types: [Oid])
    case execute(name: String, bindings: PostgresBindings)

    /// Hands the statement to libpq; 1 when it was queued. In pipeline mode only the extended
    /// protocol is allowed, so a control statement goes as a parameterless `PQsendQueryParams`.
    func send(on handle: OpaquePointer, pipelined: Bool) -> Int32 {
        switch self {
        case .control(let sql):
            if pipelined { return PQsendQueryParams(handle, sql, 0, nil, nil, nil, nil, 0) }
            return PQsendQuery(handle, sql)
        case .script(let sql):
            return pipelined ? 0 : PQsendQuery(handle, sql)
        case .prepare(let name, let sql, let types):
            return types.withUnsafeBufferPointer { PQsendPrepare(handle, name, sql, Int32(types.count), $0.baseAddress) }
        case .execute(let name, let bindings):
            return PostgresConnection.withParameters(bindings) { count, values in
                PQsendQueryPrepared(handle, name, count, values, nil, nil, 0)
            }
        }
    }
}

/// Carries a raw pointer across the thread-pool boundary; the pointer has one owner at a time.
private struct PGconnBox: @unchecked Sendable { let pointer: OpaquePointer? }

/// libpq's cancel object: independent of the `PGconn` once made, and documented as safe to use
/// from another thread; freed when the last user (connection or a cancel in progress) lets go.
private final class CancelToken: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { PQfreeCancel(pointer) }
}

extension Duration {
    var milliseconds: Int64 {
        let parts = components
        return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }
}
