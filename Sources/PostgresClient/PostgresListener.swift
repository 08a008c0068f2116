import CLibPQ
public import Logging
public import NIOPosix
public import ServiceLifecycle
import Synchronization

/// A notification received on a `LISTEN` channel.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// The server process that sent it (0 for a `resynchronise` notice).
    public var senderPID: Int32
    /// Not a notification from the server but the listener's notice that its connection dropped
    /// and came back: whatever was sent on the channel meanwhile is lost, so a subscriber that
    /// keeps state from notifications (a cache) must re-read it.
    public var resynchronise = false
}

extension PostgresQueryable {
    /// Sends a notification (`pg_notify`, parameters bound). Inside a transaction it is delivered
    /// at commit, and not at all on rollback.
    public func notify(channel: String, payload: String = "") async throws {
        try await execute("SELECT pg_notify(\(channel), \(payload))")
    }
}

/// One dedicated connection that LISTENs on the channels subscribers ask for and delivers
/// notifications as async sequences.
///
/// It waits on the connection's socket through the reactor (no polling), reconnects with
/// backoff after the connection drops and LISTENs again on every channel. Notifications sent
/// while it was disconnected are lost (PostgreSQL does not queue them for absent listeners), so
/// once it listens again it gives every subscriber a `resynchronise` notice; `reconnects`
/// counts reconnections.
public final class PostgresListener: Service, Sendable {
    private let configuration: PostgresConnectionConfiguration
    private let logger: Logger
    private let blockingPool: NIOThreadPool
    private let state = Mutex(State())
    private let reconnectCount = Atomic<Int>(0)

    private struct State {
        var subscribers: [String: [Int: AsyncStream<PostgresNotification>.Continuation]] = [:]
        var nextID = 0
        var wake: Wake?
        var wakeRequested = false
        var isShutDown = false
        var listening: Set<String> = []
    }

    /// Resumes the listening loop once, for whichever comes first: socket readable or a
    /// subscription change.
    private final class Wake: Sendable {
        private let continuation: Mutex<CheckedContinuation<Void, Never>?>
        init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = Mutex(continuation) }
        func fire() { continuation.withLock { $0.take() }?.resume() }
    }

    public init(configuration: PostgresConnectionConfiguration, blockingPool: NIOThreadPool, logger: Logger) {
        var configuration = configuration
        configuration.ioMode = .reactor
        configuration.statementTimeout = .seconds(10)
        self.configuration = configuration
        self.blockingPool = blockingPool
        self.logger = logger
    }

    /// How many times the connection was re-established after a drop.
    public var reconnects: Int { reconnectCount.load(ordering: .relaxed) }

    /// The channels the connection LISTENs on now: a notification sent on one of them from now
    /// on is delivered. Empty while (re)connecting.
    public var listeningChannels: Set<String> { state.withLock { $0.listening } }

    /// Notifications on `channel` from now on. The sequence ends when the listener shuts down;
    /// dropping it unsubscribes.
    public func notifications(on channel: String) throws -> AsyncStream<PostgresNotification> {
        guard Self.isValidChannel(channel) else { throw PostgresListenerError.invalidChannelName(channel) }
        let (stream, continuation) = AsyncStream<PostgresNotification>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let id: Int? = state.withLock { state in
            guard !state.isShutDown else { return nil }
            state.nextID += 1
            state.subscribers[channel, default: [:]][state.nextID] = continuation
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { state in
                state.subscribers[channel]?[id] = nil
                if state.subscribers[channel]?.isEmpty == true { state.subscribers[channel] = nil }
            }
            self?.wakeLoop()
        }
        wakeLoop()
        return stream
    }

    /// Lowercase identifiers only: the name is quoted into LISTEN, which takes no parameters.
    static func isValidChannel(_ channel: String) -> Bool {
        guard let first = channel.utf8.first, channel.utf8.count <= 63 else { return false }
        guard first == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
        return channel.utf8.allSatisfy {
            $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        }
    }

    private func wakeLoop() {
        let wake: Wake? = state.withLock { state in
            state.wakeRequested = true
            return state.wake.take()
        }
        wake?.fire()
    }

    // MARK: Service

    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.loop()
        } onGracefulShutdown: {
            self.shutdown()
        }
        shutdown()
    }

    /// Stops listening and ends every subscriber's sequence.
    public func shutdown() {
        let (subscribers, wake) = state.withLock { state in
            state.isShutDown = true
            let all = state.subscribers.values.flatMap(\.values)
            state.subscribers.removeAll()
            return (all, state.wake.take())
        }
        wake?.fire()
        subscribers.forEach { $0.finish() }
    }

    private var isShutDown: Bool { state.withLock { $0.isShutDown } }

    private func loop() async {
        var backoff: Duration = .milliseconds(100)
        var connectedBefore = false
        while !isShutDown && !Task.isCancelled {
            var connection: PostgresConnection?
            do {
                let current = try await PostgresConnection.connect(
                    configuration: configuration, blockingPool: blockingPool, logger: logger)
                connection = current
                if connectedBefore {
                    reconnectCount.add(1, ordering: .relaxed)
                    logger.info("LISTEN connection re-established")
                }
                let resynchronise = connectedBefore
                connectedBefore = true
                backoff = .milliseconds(100)
                try await listen(on: current, resynchronise: resynchronise)
            } catch {
                if !isShutDown {
                    logger.warning("LISTEN connection failed; reconnecting", metadata: ["error": "\(error)"])
                }
            }
            state.withLock { $0.listening = [] }
            connection?.close()
            if isShutDown { break }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    /// Serves one connection until it fails or the listener shuts down; after a reconnection
    /// (`resynchronise`) every subscriber is told, once the channels are listened to again.
    private func listen(on connection: PostgresConnection, resynchronise: Bool) async throws {
        let reactor = try connection.reactorForListening()
        var resynchronisePending = resynchronise
        while !isShutDown {
            // `listening` is this connection's: `loop` empties it when a connection ends.
            let (wanted, listening) = state.withLock { state -> (Set<String>, Set<String>) in
                state.wakeRequested = false
                return (Set(state.subscribers.keys), state.listening)
            }
            for channel in wanted.subtracting(listening) {
                logger.trace("LISTEN", metadata: ["channel": "\(channel)", "db.connection": "\(connection.id)"])
                try await connection.executeScript("LISTEN \"\(channel)\"")
            }
            for channel in listening.subtracting(wanted) {
                try await connection.executeScript("UNLISTEN \"\(channel)\"")
            }
            state.withLock { $0.listening = wanted }
            if resynchronisePending {
                resynchronisePending = false
                let subscribers = state.withLock { $0.subscribers }
                for (channel, continuations) in subscribers {
                    let notice = PostgresNotification(channel: channel, payload: "", senderPID: 0, resynchronise: true)
                    for continuation in continuations.values { continuation.yield(notice) }
                }
            }
            deliverBuffered(connection)

            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let wake = Wake(continuation)
                let fireNow = state.withLock { state -> Bool in
                    if state.wakeRequested || state.isShutDown { return true }
                    state.wake = wake
                    return false
                }
                if fireNow {
                    wake.fire()
                } else {
                    reactor.arm(fd: connection.socket) { _ in wake.fire() }
                }
            }
            state.withLock { $0.wake = nil }
            reactor.disarm(fd: connection.socket)
            logger.trace("listener woke", metadata: ["db.connection": "\(connection.id)"])
            guard connection.consumeUntilDrained() else {
                throw PostgresError.connectionLost(PostgresConnection.errorMessage(connection.handle))
            }
            deliverBuffered(connection)
        }
    }

    private func deliverBuffered(_ connection: PostgresConnection) {
        while let pointer = PQnotifies(connection.handle) {
            let notify = pointer.pointee
            let notification = PostgresNotification(
                channel: String(cString: notify.relname), payload: notify.extra.map { String(cString: $0) } ?? "",
                senderPID: notify.be_pid)
            PQfreemem(pointer)
            let subscribers = state.withLock { Array(($0.subscribers[notification.channel] ?? [:]).values) }
            for subscriber in subscribers { subscriber.yield(notification) }
        }
    }
}

public enum PostgresListenerError: Error, CustomStringConvertible {
    case invalidChannelName(String)

    public var description: String {
        switch self {
        case .invalidChannelName(let name):
            return "invalid LISTEN channel name '\(name)' (lowercase letters, digits and _ only, at most 63)"
        }
    }
}
