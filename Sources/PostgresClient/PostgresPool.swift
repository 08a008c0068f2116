import DequeModule
public import Logging
import Metrics
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// Settings of the connection pool.
public struct PostgresPoolConfiguration: Sendable {
    public var connection: PostgresConnectionConfiguration
    /// Upper bound of open connections (idle + in use + being opened).
    public var maxConnections: Int
    /// Connections kept open while idle (opened at start, re-opened after failures).
    public var minConnections: Int
    /// How long `acquire` waits for a free connection before failing with
    /// `PoolError.acquireTimeout`.
    public var acquireTimeout: Duration
    /// How often idle connections are checked and the minimum restored.
    public var maintenanceInterval: Duration
    /// Idle connections above the minimum are closed after this long.
    public var idleTimeout: Duration

    public init(
        connection: PostgresConnectionConfiguration, maxConnections: Int = 10, minConnections: Int = 1,
        acquireTimeout: Duration = .seconds(5), maintenanceInterval: Duration = .seconds(2),
        idleTimeout: Duration = .seconds(300)
    ) {
        self.connection = connection
        self.maxConnections = max(1, maxConnections)
        self.minConnections = min(max(0, minConnections), self.maxConnections)
        self.acquireTimeout = acquireTimeout
        self.maintenanceInterval = maintenanceInterval
        self.idleTimeout = idleTimeout
    }
}

/// A bounded pool of libpq connections, run as a ServiceLifecycle service.
///
/// - `acquire` hands out an idle connection (checked without a round trip), opens a new one
///   while under `maxConnections`, or waits in FIFO order up to `acquireTimeout`.
/// - A connection that is broken, closed or left inside a transaction is discarded on release
///   and its slot given to the next waiter, so the pool heals itself after a server restart.
/// - `run()` keeps `minConnections` open, prunes dead and long-idle connections, and on
///   graceful shutdown stops handing out connections and closes them as they come back.
public final class PostgresPool: PostgresQueryable, Service, Sendable {
    public let configuration: PostgresPoolConfiguration
    let logger: Logger
    /// Runs blocking libpq calls (connect, cancel, and statements in `.threads` mode).
    let blockingPool: NIOThreadPool
    private let state = Mutex(State())
    private let metrics: PoolMetrics

    private struct State {
        var idle: [IdleConnection] = []
        var leased = 0
        var opening = 0
        var waiters: Deque<Waiter> = []
        var nextWaiterID = 0
        var isShutDown = false
        var total: Int { idle.count + leased + opening }
    }

    private struct IdleConnection {
        let connection: PostgresConnection
        let since: ContinuousClock.Instant
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Grant, any Error>
    }

    /// What a waiter is handed: a connection, or the right to open one.
    private enum Grant: Sendable {
        case connection(PostgresConnection)
        case openSlot
    }

    public init(configuration: PostgresPoolConfiguration, logger: Logger, metricsLabel: String = "db_pool") {
        self.configuration = configuration
        self.logger = logger
        let threads =
            configuration.connection.ioMode == .threads ? configuration.maxConnections + 2 : 2
        self.blockingPool = NIOThreadPool(numberOfThreads: threads)
        self.blockingPool.start()
        self.metrics = PoolMetrics(label: metricsLabel, maxConnections: configuration.maxConnections)
    }

    deinit {
        blockingPool.shutdownGracefully { _ in }
    }

    // MARK: Using connections

    /// Lends a connection to `body` and takes it back afterwards (discarding it if `body` left
    /// it unusable).
    public func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await acquire()
        do {
            let value = try await body(connection)
            release(connection)
            return value
        } catch {
            release(connection)
            throw error
        }
    }

    /// One transaction on one pooled connection; see `PostgresConnection.withTransaction`.
    /// With `maxAttempts > 1` the whole transaction is retried after a serialization failure or
    /// a deadlock (the body must then have no effects outside the database).
    public func withTransaction<T>(
        isolation: PostgresIsolationLevel = .readCommitted, readOnly: Bool = false, maxAttempts: Int = 1,
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await withConnection { connection in
                    try await connection.withTransaction(isolation: isolation, readOnly: readOnly, body)
                }
            } catch let error as PostgresError where error.isTransient && attempt < maxAttempts {
                attempt += 1
                logger.debug("retrying transaction", metadata: ["sqlstate": "\(error.code)", "attempt": "\(attempt)"])
            }
        }
    }

    public func query(_ query: PostgresQuery, timeout: Duration?) async throws -> PostgresRows {
        try await withConnection { try await $0.query(query, timeout: timeout) }
    }

    /// Opens a connection outside the pool (the LISTEN connection, migrations' lock holder).
    public func connectDedicated() async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: configuration.connection, blockingPool: blockingPool, logger: logger)
    }

    // MARK: Acquire / release

    public func acquire() async throws -> PostgresConnection {
        let start = ContinuousClock.now
        while true {
            let decision: Decision = state.withLock { state in
                if state.isShutDown { return .fail(PoolError.shutDown) }
                if let idle = state.idle.popLast() {
                    state.leased += 1
                    return .check(idle.connection)
                }
                if state.total < configuration.maxConnections {
                    state.opening += 1
                    return .open
                }
                return .wait
            }
            switch decision {
            case .fail(let error):
                throw error
            case .check(let connection):
                if connection.checkIdleHealth() {
                    metrics.recordAcquire(since: start)
                    updateGauges()
                    return connection
                }
                logger.info("discarding a dead idle connection", metadata: ["db.connection": "\(connection.id)"])
                discard(connection)
            case .open:
                let connection = try await openGrantedSlot()
                metrics.recordAcquire(since: start)
                return connection
            case .wait:
                let remaining = configuration.acquireTimeout - (ContinuousClock.now - start)
                switch try await waitForGrant(timeout: remaining) {
                case .connection(let connection):
                    if connection.checkIdleHealth() {
                        metrics.recordAcquire(since: start)
                        return connection
                    }
                    discard(connection)
                case .openSlot:
                    let connection = try await openGrantedSlot()
                    metrics.recordAcquire(since: start)
                    return connection
                }
            }
        }
    }

    private enum Decision {
        case fail(any Error)
        case check(PostgresConnection)
        case open
        case wait
    }

    /// Opens a connection in a slot already counted in `opening`.
    private func openGrantedSlot() async throws -> PostgresConnection {
        updateGauges()
        do {
            let connection = try await connectDedicated()
            state.withLock { state in
                state.opening -= 1
                state.leased += 1
            }
            updateGauges()
            return connection
        } catch {
            metrics.connectFailures.increment()
            let next: Waiter? = state.withLock { state in
                state.opening -= 1
                return grantSlotToNextWaiter(&state)
            }
            next?.continuation.resume(returning: .openSlot)
            updateGauges()
            throw error
        }
    }

    private func grantSlotToNextWaiter(_ state: inout State) -> Waiter? {
        guard !state.isShutDown, state.total < configuration.maxConnections, let waiter = state.waiters.popFirst()
        else { return nil }
        state.opening += 1
        return waiter
    }

    private func waitForGrant(timeout: Duration) async throws -> Grant {
        guard timeout > .zero else {
            metrics.acquireTimeouts.increment()
            throw PoolError.acquireTimeout(configuration.acquireTimeout)
        }
        let id = state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            self?.expireWaiter(id: id)
        }
        defer { timer.cancel() }
        metrics.waiting.increment()
        defer { metrics.waiting.decrement() }
        return try await withCheckedThrowingContinuation { continuation in
            let rejected: (any Error)? = state.withLock { state in
                if state.isShutDown { return PoolError.shutDown }
                state.waiters.append(Waiter(id: id, continuation: continuation))
                return nil
            }
            if let rejected { continuation.resume(throwing: rejected) }
        }
    }

    private func expireWaiter(id: Int) {
        let waiter: Waiter? = state.withLock { state in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        if let waiter {
            metrics.acquireTimeouts.increment()
            waiter.continuation.resume(throwing: PoolError.acquireTimeout(configuration.acquireTimeout))
        }
    }

    /// Returns a connection. A connection that is not reusable is closed and its slot handed on.
    public func release(_ connection: PostgresConnection) {
        guard connection.isReusable else {
            if !connection.isClosed {
                logger.debug("discarding a connection that is not reusable", metadata: ["db.connection": "\(connection.id)"])
            }
            discard(connection)
            return
        }
        enum Outcome {
            case handedTo(Waiter)
            case close
            case parked
        }
        let outcome: Outcome = state.withLock { state in
            if state.isShutDown {
                state.leased -= 1
                return .close
            }
            if let waiter = state.waiters.popFirst() { return .handedTo(waiter) }  // stays leased
            state.leased -= 1
            state.idle.append(IdleConnection(connection: connection, since: .now))
            return .parked
        }
        switch outcome {
        case .handedTo(let waiter): waiter.continuation.resume(returning: .connection(connection))
        case .close: connection.close()
        case .parked: break
        }
        updateGauges()
    }

    /// Closes a leased connection and hands its slot to the next waiter.
    private func discard(_ connection: PostgresConnection) {
        connection.close()
        let waiter: Waiter? = state.withLock { state in
            state.leased -= 1
            return grantSlotToNextWaiter(&state)
        }
        waiter?.continuation.resume(returning: .openSlot)
        updateGauges()
    }

    // MARK: Service

    /// Keeps the pool healthy until graceful shutdown, then closes it.
    public func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                await maintain()
                do {
                    try await Task.sleep(for: configuration.maintenanceInterval)
                } catch {
                    break
                }
            }
        } onGracefulShutdown: {
            self.shutdownNow()
        }
        shutdownNow()
    }

    /// One round of upkeep: drop dead or long-idle connections, restore the minimum.
    func maintain() async {
        let now = ContinuousClock.now
        let (dead, stale): ([PostgresConnection], [PostgresConnection]) = state.withLock { state in
            var dead: [PostgresConnection] = []
            var stale: [PostgresConnection] = []
            // The health check is a non-blocking poll (and at most a non-blocking read).
            state.idle.removeAll { entry in
                if entry.connection.checkIdleHealth() { return false }
                dead.append(entry.connection)
                return true
            }
            // `idle` is ordered oldest first (release appends, acquire takes the newest).
            while state.total > configuration.minConnections, let oldest = state.idle.first,
                now - oldest.since > configuration.idleTimeout
            {
                state.idle.removeFirst()
                stale.append(oldest.connection)
            }
            return (dead, stale)
        }
        if !dead.isEmpty {
            logger.info("pruned dead idle connections", metadata: ["count": "\(dead.count)"])
        }
        (dead + stale).forEach { $0.close() }
        // Open connections up to the minimum.
        while true {
            let shouldOpen = state.withLock { state -> Bool in
                guard !state.isShutDown, state.total < configuration.minConnections else { return false }
                state.opening += 1
                return true
            }
            guard shouldOpen else { break }
            do {
                let connection = try await openGrantedSlot()
                release(connection)
            } catch {
                logger.warning("cannot open a database connection", metadata: ["error": "\(error)"])
                break
            }
        }
        updateGauges()
    }

    /// Stops handing out connections: fails waiters, closes idle connections; leased ones are
    /// closed as they are released.
    public func shutdownNow() {
        let (waiters, idle): ([Waiter], [IdleConnection]) = state.withLock { state in
            state.isShutDown = true
            let waiters = Array(state.waiters)
            state.waiters.removeAll()
            let idle = state.idle
            state.idle.removeAll()
            return (waiters, idle)
        }
        waiters.forEach { $0.continuation.resume(throwing: PoolError.shutDown) }
        idle.forEach { $0.connection.close() }
        updateGauges()
    }

    // MARK: Introspection

    public struct Statistics: Sendable, Equatable {
        public var idle: Int
        public var inUse: Int
        public var opening: Int
        public var waiting: Int
    }

    public var statistics: Statistics {
        state.withLock { state in
            Statistics(idle: state.idle.count, inUse: state.leased, opening: state.opening, waiting: state.waiters.count)
        }
    }

    private func updateGauges() {
        let stats = statistics
        metrics.inUse.record(stats.inUse)
        metrics.idle.record(stats.idle)
    }
}

/// Pool gauges and counters (`db_pool_connections{state}`, `db_pool_waiting`, ...).
struct PoolMetrics: Sendable {
    let inUse: Gauge
    let idle: Gauge
    let waiting: Meter
    let acquireTimeouts: Counter
    let connectFailures: Counter
    let acquireDuration: Metrics.Timer

    init(label: String, maxConnections: Int) {
        inUse = Gauge(label: "\(label)_connections", dimensions: [("state", "in_use")])
        idle = Gauge(label: "\(label)_connections", dimensions: [("state", "idle")])
        waiting = Meter(label: "\(label)_waiting")
        acquireTimeouts = Counter(label: "\(label)_acquire_timeouts_total")
        connectFailures = Counter(label: "\(label)_connect_failures_total")
        acquireDuration = Metrics.Timer(label: "\(label)_acquire_duration_seconds")
        Gauge(label: "\(label)_max_connections").record(maxConnections)
    }

    func recordAcquire(since start: ContinuousClock.Instant) {
        acquireDuration.recordInterval(since: start)
    }
}

extension Metrics.Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
