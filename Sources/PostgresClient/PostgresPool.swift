import DequeModule
public import Logging
import Metrics
public import NIOPosix
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
    /// At most this many callers wait for a connection; the next one fails at once with
    /// `PoolError.overloaded`.
    public var maxWaiters: Int
    /// Refuse (`PoolError.nestedAcquisition`) a task that holds a connection of this pool and
    /// asks for another. On by default in debug builds (and so in every test), off in release
    /// builds, where the check's task-local lookup is saved.
    public var detectNestedAcquisition: Bool

    public init(
        connection: PostgresConnectionConfiguration, maxConnections: Int = 10, minConnections: Int = 1,
        acquireTimeout: Duration = .seconds(5), maintenanceInterval: Duration = .seconds(2),
        idleTimeout: Duration = .seconds(300), maxWaiters: Int = 200,
        detectNestedAcquisition: Bool = PostgresPoolConfiguration.debugBuild
    ) {
        self.connection = connection
        self.maxConnections = max(1, maxConnections)
        self.minConnections = min(max(0, minConnections), self.maxConnections)
        self.acquireTimeout = acquireTimeout
        self.maintenanceInterval = maintenanceInterval
        self.idleTimeout = idleTimeout
        self.detectNestedAcquisition = detectNestedAcquisition
        self.maxWaiters = max(0, maxWaiters)
    }

    /// True in debug builds.
    public static var debugBuild: Bool {
        #if DEBUG
            return true
        #else
            return false
        #endif
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
///
/// In `.reactor` mode the pool is split into one shard per reactor thread; a shard's
/// connections are watched by its reactor. Code inside `withAffinity` runs on a reactor thread
/// and takes connections of that reactor's shard, so a reply resumes it without any thread
/// hand-off. Other callers take shards in turn. A caller whose shard is exhausted borrows an
/// idle connection from another shard before it waits.
public final class PostgresPool: PostgresQueryable, Service, Sendable {
    public let configuration: PostgresPoolConfiguration
    let logger: Logger
    /// Runs blocking libpq calls (connect, cancel, and statements in `.threads` mode).
    public let blockingPool: NIOThreadPool
    private let shards: [PoolShard]
    private let reactors: [Reactor]
    private let nextShard = Atomic<Int>(0)
    /// Callers waiting for a connection right now (bounded by `maxWaiters`).
    private let waiters = Atomic<Int>(0)
    private let metrics: PoolMetrics

    public init(configuration: PostgresPoolConfiguration, logger: Logger, metricsLabel: String = "db_pool") {
        self.configuration = configuration
        self.logger = logger
        let threads = configuration.connection.ioMode == .threads ? configuration.maxConnections + 2 : 2
        self.blockingPool = NIOThreadPool(numberOfThreads: threads)
        self.blockingPool.start()
        self.metrics = PoolMetrics(label: metricsLabel, maxConnections: configuration.maxConnections)
        let reactors: [Reactor]
        if configuration.connection.ioMode == .reactor, let all = try? Reactor.shared.get() {
            reactors = Array(all.prefix(configuration.maxConnections))
        } else {
            reactors = []
        }
        self.reactors = reactors
        let count = max(1, reactors.count)
        self.shards = (0..<count).map { index in
            // Spread the totals: the first shards take the remainders.
            let maxConnections = configuration.maxConnections / count + (index < configuration.maxConnections % count ? 1 : 0)
            let minConnections = configuration.minConnections / count + (index < configuration.minConnections % count ? 1 : 0)
            return PoolShard(
                index: index, reactor: reactors.isEmpty ? nil : reactors[index], maxConnections: maxConnections,
                minConnections: minConnections)
        }
    }

    deinit {
        blockingPool.shutdownGracefully { _ in }
    }

    // MARK: Affinity

    @TaskLocal static var affinity: Int?

    /// Runs `body` on one of the client's reactor threads (taken in turn), preferring that
    /// reactor's connections: statements inside complete without a thread hand-off. `body`
    /// shares the thread with every connection of that reactor, so it must not block (no
    /// synchronous I/O, no long CPU work). In `.threads` mode this just runs `body`.
    public func withAffinity<T>(_ body: () async throws -> T) async rethrows -> T {
        guard !reactors.isEmpty else { return try await body() }
        if Self.affinity != nil { return try await body() }
        let shard = nextShard.add(1, ordering: .relaxed).oldValue % shards.count
        return try await withTaskExecutorPreference(reactors[shard]) {
            try await Self.$affinity.withValue(shard) { try await body() }
        }
    }

    // MARK: Using connections

    /// The pools whose connection the current task holds (inside `withConnection`).
    @TaskLocal static var held: [ObjectIdentifier] = []

    /// The transaction the current task shares with everything it does on one pool
    /// (`withSharedTransaction`).
    struct SharedTransaction: Sendable {
        let pool: ObjectIdentifier
        let connection: PostgresConnection
        /// Savepoints open inside it.
        let depth: Int
    }
    @TaskLocal static var shared: SharedTransaction?

    private var sharedHere: SharedTransaction? {
        guard let shared = Self.shared, shared.pool == ObjectIdentifier(self) else { return nil }
        return shared
    }

    /// Runs `body` in one transaction that everything the current task does on this pool joins
    /// until `body` returns: `withConnection` lends the transaction's connection, `query` runs in
    /// it, and `withTransaction` becomes a savepoint inside it (its failure rolls back its own
    /// work; the error still reaches `body`). So work made of several use cases, and whatever is
    /// written about it (an idempotent request's stored response), commits as one or not at all.
    /// The task must not use the pool from concurrent child tasks meanwhile (one connection).
    public func withSharedTransaction<T>(_ body: (PostgresTransaction) async throws -> T) async throws -> T {
        if sharedHere != nil { return try await withTransaction(body) }
        return try await withConnection { connection in
            try await connection.withTransaction { tx in
                try await Self.$shared.withValue(SharedTransaction(pool: ObjectIdentifier(self), connection: connection, depth: 0)) {
                    try await body(tx)
                }
            }
        }
    }

    /// Lends a connection to `body` and takes it back afterwards (discarding it if `body` left
    /// it unusable). Inside `body` the task holds the connection: asking this pool for another
    /// one is `PoolError.nestedAcquisition` where detection is on. Inside a shared transaction
    /// it lends that transaction's connection.
    public func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        if let shared = sharedHere { return try await body(shared.connection) }
        let connection = try await acquire()
        do {
            let value: T
            if configuration.detectNestedAcquisition {
                value = try await Self.$held.withValue(Self.held + [ObjectIdentifier(self)]) { try await body(connection) }
            } else {
                value = try await body(connection)
            }
            release(connection)
            return value
        } catch {
            release(connection)
            throw error
        }
    }

    /// One transaction on one pooled connection; see `PostgresConnection.withTransaction`.
    /// With `maxAttempts > 1` the whole transaction is retried after a serialization failure or
    /// a deadlock (the body must then have no effects outside the database). Inside a shared
    /// transaction it is a savepoint of that transaction (isolation, read-only and retries are
    /// the shared transaction's).
    public func withTransaction<T>(
        isolation: PostgresIsolationLevel = .readCommitted, readOnly: Bool = false, maxAttempts: Int = 1,
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        if let shared = sharedHere { return try await savepoint(in: shared, body) }
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

    private func savepoint<T>(in shared: SharedTransaction, _ body: (PostgresTransaction) async throws -> T) async throws -> T {
        let depth = shared.depth + 1
        // The name is a constant of this code (crm_sp_<depth>), never input.
        let name = "crm_sp_\(depth)"
        let connection = shared.connection
        try await connection.executeScript("SAVEPOINT \(name)")
        do {
            let value = try await Self.$shared.withValue(
                SharedTransaction(pool: shared.pool, connection: connection, depth: depth)
            ) { try await body(PostgresTransaction(connection: connection)) }
            try await connection.executeScript("RELEASE SAVEPOINT \(name)")
            return value
        } catch {
            // Writes deferred since the savepoint would be rolled back with it.
            connection.discardDeferred()
            if !connection.isClosed { _ = try? await connection.executeScript("ROLLBACK TO SAVEPOINT \(name)") }
            throw error
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
        if configuration.detectNestedAcquisition, Self.held.contains(ObjectIdentifier(self)) {
            logger.error("nested connection acquisition: a task holding a connection asked for another")
            throw PoolError.nestedAcquisition
        }
        let start = ContinuousClock.now
        let home = shards[Self.affinity ?? (nextShard.add(1, ordering: .relaxed).oldValue % shards.count)]
        while true {
            switch home.decide() {
            case .fail(let error):
                throw error
            case .check(let connection):
                if connection.checkIdleHealth() {
                    metrics.recordAcquire(since: start)
                    return connection
                }
                logger.info("discarding a dead idle connection", metadata: ["db.connection": "\(connection.id)"])
                home.discard(connection)
            case .open:
                let connection = try await open(in: home)
                metrics.recordAcquire(since: start)
                return connection
            case .wait:
                // Borrow an idle connection from another shard before queueing.
                if let (shard, connection) = borrowIdle(excluding: home) {
                    if connection.checkIdleHealth() {
                        metrics.recordAcquire(since: start)
                        return connection
                    }
                    shard.discard(connection)
                    continue
                }
                let remaining = configuration.acquireTimeout - (ContinuousClock.now - start)
                guard remaining > .zero else {
                    metrics.acquireTimeouts.increment()
                    throw PoolError.acquireTimeout(configuration.acquireTimeout)
                }
                // A bounded queue: past `maxWaiters` a caller is turned away at once (a 503 with
                // Retry-After upstream) instead of queueing without bound behind a slow database.
                guard waiters.add(1, ordering: .relaxed).newValue <= configuration.maxWaiters else {
                    waiters.subtract(1, ordering: .relaxed)
                    metrics.rejections.increment()
                    throw PoolError.overloaded(waiting: configuration.maxWaiters)
                }
                defer { waiters.subtract(1, ordering: .relaxed) }
                metrics.waiting.increment()
                defer { metrics.waiting.decrement() }
                do {
                    switch try await home.waitForGrant(timeout: remaining, reporting: configuration.acquireTimeout) {
                    case .connection(let connection):
                        if connection.checkIdleHealth() {
                            metrics.recordAcquire(since: start)
                            return connection
                        }
                        home.discard(connection)
                    case .openSlot:
                        let connection = try await open(in: home)
                        metrics.recordAcquire(since: start)
                        return connection
                    }
                } catch let error as PoolError {
                    if case .acquireTimeout = error { metrics.acquireTimeouts.increment() }
                    throw error
                }
            }
        }
    }

    private func borrowIdle(excluding home: PoolShard) -> (PoolShard, PostgresConnection)? {
        for shard in shards where shard !== home {
            if let connection = shard.takeIdle() { return (shard, connection) }
        }
        return nil
    }

    /// Opens a connection in a slot of `shard` already counted as opening.
    private func open(in shard: PoolShard) async throws -> PostgresConnection {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: configuration.connection, blockingPool: blockingPool, logger: logger,
                reactor: shard.reactor)
            shard.opened(connection)
            return connection
        } catch {
            metrics.connectFailures.increment()
            shard.openFailed()
            throw error
        }
    }

    /// Returns a connection. A connection that is not reusable is closed and its slot handed on.
    public func release(_ connection: PostgresConnection) {
        let shard = shards[(connection.reactorIndex ?? 0) % shards.count]
        guard connection.isReusable else {
            if !connection.isClosed {
                logger.debug(
                    "discarding a connection that is not reusable", metadata: ["db.connection": "\(connection.id)"])
            }
            shard.discard(connection)
            return
        }
        guard shard.release(connection) == .parked, shards.count > 1 else { return }
        // Nobody waits here: serve a caller queued on another shard instead of parking.
        for other in shards where other !== shard && other.hasWaiters {
            guard let idle = shard.takeIdle() else { return }
            if !other.handOff(idle) { shard.release(idle) }
            return
        }
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

    /// One round of upkeep: drop dead or long-idle connections, restore the minimum, publish
    /// the gauges.
    func maintain() async {
        for shard in shards {
            let closed = shard.prune(idleTimeout: configuration.idleTimeout)
            if closed.dead > 0 {
                logger.info("pruned dead idle connections", metadata: ["count": "\(closed.dead)"])
            }
            while shard.reserveSlotBelowMinimum() {
                do {
                    shard.release(try await open(in: shard))
                } catch {
                    logger.warning("cannot open a database connection", metadata: ["error": "\(error)"])
                    break
                }
            }
        }
        publishMetrics()
    }

    /// Stops handing out connections: fails waiters, closes idle connections; leased ones are
    /// closed as they are released.
    public func shutdownNow() {
        shards.forEach { $0.shutDown() }
        publishMetrics()
    }

    // MARK: Introspection

    public struct Statistics: Sendable, Equatable {
        public var idle: Int
        public var inUse: Int
        public var opening: Int
        public var waiting: Int
    }

    public var statistics: Statistics {
        shards.map(\.statistics).reduce(Statistics(idle: 0, inUse: 0, opening: 0, waiting: 0)) {
            Statistics(
                idle: $0.idle + $1.idle, inUse: $0.inUse + $1.inUse, opening: $0.opening + $1.opening,
                waiting: $0.waiting + $1.waiting)
        }
    }

    /// Sets the connection gauges from the current counts (done by the maintenance loop and
    /// before each metrics scrape, not per acquire).
    public func publishMetrics() {
        let stats = statistics
        metrics.inUse.record(stats.inUse)
        metrics.idle.record(stats.idle)
    }
}

/// One shard of the pool: its own lock, its own connections, waiters and limits.
final class PoolShard: Sendable {
    let index: Int
    let reactor: Reactor?
    let maxConnections: Int
    let minConnections: Int
    private let state = Mutex(State())

    private struct State {
        var idle: [IdleConnection] = []
        var leased = 0
        var opening = 0
        var waiters: Deque<Waiter> = []
        /// A timer task is running `expireOverdueWaiters`.
        var expiring = false
        var isShutDown = false
        var total: Int { idle.count + leased + opening }
    }

    private struct IdleConnection {
        let connection: PostgresConnection
        let since: ContinuousClock.Instant
    }

    private struct Waiter {
        let deadline: ContinuousClock.Instant
        /// The pool's configured timeout, named in the error.
        let reporting: Duration
        let continuation: CheckedContinuation<Grant, any Error>
    }

    /// What a waiter is handed: a connection, or the right to open one.
    enum Grant: Sendable {
        case connection(PostgresConnection)
        case openSlot
    }

    enum Decision {
        case fail(any Error)
        case check(PostgresConnection)
        case open
        case wait
    }

    init(index: Int, reactor: Reactor?, maxConnections: Int, minConnections: Int) {
        self.index = index
        self.reactor = reactor
        self.maxConnections = maxConnections
        self.minConnections = minConnections
    }

    var hasWaiters: Bool { state.withLock { !$0.waiters.isEmpty } }

    /// Gives a connection (leased from any shard) to this shard's first waiter.
    func handOff(_ connection: PostgresConnection) -> Bool {
        guard let waiter = state.withLock({ $0.waiters.popFirst() }) else { return false }
        waiter.continuation.resume(returning: .connection(connection))
        return true
    }

    func decide() -> Decision {
        state.withLock { state in
            if state.isShutDown { return .fail(PoolError.shutDown) }
            if let idle = state.idle.popLast() {
                state.leased += 1
                return .check(idle.connection)
            }
            if state.total < maxConnections {
                state.opening += 1
                return .open
            }
            return .wait
        }
    }

    /// An idle connection for another shard's caller (it stays a member of this shard).
    func takeIdle() -> PostgresConnection? {
        state.withLock { state in
            guard !state.isShutDown, let idle = state.idle.popLast() else { return nil }
            state.leased += 1
            return idle.connection
        }
    }

    func opened(_ connection: PostgresConnection) {
        state.withLock { state in
            state.opening -= 1
            state.leased += 1
        }
    }

    func openFailed() {
        let next: Waiter? = state.withLock { state in
            state.opening -= 1
            return grantSlotToNextWaiter(&state)
        }
        next?.continuation.resume(returning: .openSlot)
    }

    private func grantSlotToNextWaiter(_ state: inout State) -> Waiter? {
        guard !state.isShutDown, state.total < maxConnections, let waiter = state.waiters.popFirst() else { return nil }
        state.opening += 1
        return waiter
    }

    /// Queues for a connection; after `timeout` fails with `acquireTimeout(reporting)`.
    ///
    /// Waiters carry their deadline; one timer task per shard (`expireOverdueWaiters`), running
    /// only while someone waits, fails those past it. A timer task per wait cost a task, a
    /// Dispatch timer and a wake-up of Dispatch's threads for every wait: under load most
    /// requests wait for a connection, and that was 0.67 thread switches per request of a page
    /// of 50 customers (BENCHMARKS.md).
    func waitForGrant(timeout: Duration, reporting configured: Duration) async throws -> Grant {
        let deadline = ContinuousClock.now + timeout
        return try await withCheckedThrowingContinuation { continuation in
            enum Admission {
                case rejected(any Error)
                case queued(startTimer: Bool)
            }
            let admission: Admission = state.withLock { state in
                if state.isShutDown { return .rejected(PoolError.shutDown) }
                state.waiters.append(Waiter(deadline: deadline, reporting: configured, continuation: continuation))
                guard !state.expiring else { return .queued(startTimer: false) }
                state.expiring = true
                return .queued(startTimer: true)
            }
            switch admission {
            case .rejected(let error):
                continuation.resume(throwing: error)
            case .queued(let startTimer):
                if startTimer { Task { await self.expireOverdueWaiters() } }
            }
        }
    }

    /// The shard's waiter timer: sleeps until the earliest deadline (at most `expiryTick`, so
    /// a waiter queued later with an earlier deadline is failed at most that late), fails the
    /// waiters past theirs, and ends when nobody waits.
    private func expireOverdueWaiters() async {
        while true {
            let now = ContinuousClock.now
            let (expired, next): ([Waiter], ContinuousClock.Instant?) = state.withLock { state in
                var expired: [Waiter] = []
                state.waiters.removeAll { waiter in
                    guard waiter.deadline <= now else { return false }
                    expired.append(waiter)
                    return true
                }
                guard let earliest = state.waiters.lazy.map(\.deadline).min() else {
                    state.expiring = false
                    return (expired, nil)
                }
                return (expired, earliest)
            }
            for waiter in expired { waiter.continuation.resume(throwing: PoolError.acquireTimeout(waiter.reporting)) }
            guard let next else { return }
            let pause = min(max(next - now, .milliseconds(1)), Self.expiryTick)
            try? await Task.sleep(for: pause)
        }
    }

    /// The longest a waiter's timer sleeps at a time.
    static let expiryTick: Duration = .milliseconds(50)

    enum ReleaseOutcome {
        case handedOver
        case closed
        case parked
    }

    /// Takes back a reusable connection: to the first waiter, or to the idle list.
    @discardableResult
    func release(_ connection: PostgresConnection) -> ReleaseOutcome {
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
        case .handedTo(let waiter):
            waiter.continuation.resume(returning: .connection(connection))
            return .handedOver
        case .close:
            connection.close()
            return .closed
        case .parked:
            return .parked
        }
    }

    /// Closes a leased connection and hands its slot to the next waiter.
    func discard(_ connection: PostgresConnection) {
        connection.close()
        let waiter: Waiter? = state.withLock { state in
            state.leased -= 1
            return grantSlotToNextWaiter(&state)
        }
        waiter?.continuation.resume(returning: .openSlot)
    }

    /// Closes dead idle connections and those idle longer than `idleTimeout` (above the
    /// minimum).
    func prune(idleTimeout: Duration) -> (dead: Int, stale: Int) {
        let now = ContinuousClock.now
        let (dead, stale): ([PostgresConnection], [PostgresConnection]) = state.withLock { state in
            var dead: [PostgresConnection] = []
            var stale: [PostgresConnection] = []
            // The health check is a non-blocking poll (and a read when something is there).
            state.idle.removeAll { entry in
                if entry.connection.checkIdleHealth() { return false }
                dead.append(entry.connection)
                return true
            }
            // `idle` is ordered oldest first (release appends, acquire takes the newest).
            while state.total > minConnections, let oldest = state.idle.first, now - oldest.since > idleTimeout {
                state.idle.removeFirst()
                stale.append(oldest.connection)
            }
            return (dead, stale)
        }
        (dead + stale).forEach { $0.close() }
        return (dead.count, stale.count)
    }

    /// Counts a new slot as opening when the shard is below its minimum.
    func reserveSlotBelowMinimum() -> Bool {
        state.withLock { state in
            guard !state.isShutDown, state.total < minConnections else { return false }
            state.opening += 1
            return true
        }
    }

    func shutDown() {
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
    }

    var statistics: PostgresPool.Statistics {
        state.withLock { state in
            PostgresPool.Statistics(
                idle: state.idle.count, inUse: state.leased, opening: state.opening, waiting: state.waiters.count)
        }
    }
}

/// Pool gauges and counters (`db_pool_connections{state}`, `db_pool_waiting`, ...).
struct PoolMetrics: Sendable {
    let inUse: Gauge
    let idle: Gauge
    let waiting: Meter
    let acquireTimeouts: Counter
    /// Callers turned away because the wait queue was full.
    let rejections: Counter
    let connectFailures: Counter
    let acquireDuration: Metrics.Timer

    init(label: String, maxConnections: Int) {
        inUse = Gauge(label: "\(label)_connections", dimensions: [("state", "in_use")])
        idle = Gauge(label: "\(label)_connections", dimensions: [("state", "idle")])
        waiting = Meter(label: "\(label)_waiting")
        acquireTimeouts = Counter(label: "\(label)_acquire_timeouts_total")
        rejections = Counter(label: "\(label)_rejections_total")
        connectFailures = Counter(label: "\(label)_connect_failures_total")
        acquireDuration = Metrics.Timer(label: "\(label)_acquire_duration_seconds")
        Gauge(label: "\(label)_max_connections").record(maxConnections)
    }

    func recordAcquire(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        acquireDuration.recordNanoseconds(
            elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
