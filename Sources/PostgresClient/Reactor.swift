#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CEpoll
import Foundation
import Synchronization

/// One thread that waits on the sockets of libpq connections with `epoll` and runs a short,
/// non-blocking handler when a socket is ready.
///
/// Waiting for a statement's result costs no thread: the borrowing task sends the statement
/// (non-blocking), arms its socket here and suspends; the reactor thread reads the reply with
/// `PQconsumeInput`/`PQgetResult` (which never block once data is buffered) and resumes the
/// task. Registrations are one-shot: a handler runs at most once per `arm`, and the socket is
/// disabled until armed again, so a connection's `PGconn` is touched by the reactor only
/// between one `arm` and the handler's run.
final class Reactor: Sendable {
    typealias Handler = @Sendable (_ events: UInt32) -> Void

    // epoll constants (linux/eventpoll.h); Glibc imports them as enum types, these are plain.
    static let readable: UInt32 = 0x001
    static let writable: UInt32 = 0x004
    static let error: UInt32 = 0x008
    static let hangup: UInt32 = 0x010
    static let readHangup: UInt32 = 0x2000
    static let oneShot: UInt32 = 1 << 30

    /// The process-wide reactor, started on first use; it lives as long as the process.
    /// (Creating it fails only when the kernel refuses an epoll instance, e.g. at the fd limit.)
    static let shared: Result<Reactor, any Error> = Result { try Reactor(name: "pg-reactor") }

    private let epollFD: Int32
    private let handlers = Mutex<[Int32: Handler]>([:])

    init(name: String) throws {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw PostgresError.connectionLost("epoll_create1 failed: errno \(errno)") }
        self.epollFD = fd
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Adds a socket, disabled until `arm` is called.
    func register(fd: Int32) throws {
        var event = epoll_event()
        event.events = Self.oneShot
        event.data.fd = fd
        if epoll_ctl(epollFD, 1 /* EPOLL_CTL_ADD */, fd, &event) != 0 {
            throw PostgresError.connectionLost("epoll_ctl(ADD) failed: errno \(errno)")
        }
    }

    /// Removes a socket. Call before the socket is closed (the descriptor may be reused).
    func deregister(fd: Int32) {
        handlers.withLock { _ = $0.removeValue(forKey: fd) }
        var event = epoll_event()
        _ = epoll_ctl(epollFD, 2 /* EPOLL_CTL_DEL */, fd, &event)
    }

    /// Runs `handler` once, on the reactor thread, when `fd` is readable (or writable, if asked),
    /// or has an error or hang-up. Replaces a handler that has not run yet.
    func arm(fd: Int32, writable: Bool = false, handler: @escaping Handler) {
        handlers.withLock { $0[fd] = handler }
        var event = epoll_event()
        event.events = Self.readable | Self.readHangup | Self.oneShot | (writable ? Self.writable : 0)
        event.data.fd = fd
        if epoll_ctl(epollFD, 3 /* EPOLL_CTL_MOD */, fd, &event) != 0 {
            // The socket is gone (closed under us): report it as an error event right away.
            let handler = handlers.withLock { $0.removeValue(forKey: fd) }
            handler?(Self.error)
        }
    }

    /// Forgets a pending handler (the socket stays registered, disabled after its next event).
    func disarm(fd: Int32) {
        handlers.withLock { _ = $0.removeValue(forKey: fd) }
    }

    private func loop() {
        let capacity: Int32 = 128
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        while true {
            let count = epoll_wait(epollFD, events, capacity, -1)
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            for index in 0..<Int(count) {
                let fd = events[index].data.fd
                let mask = events[index].events
                let handler = handlers.withLock { $0.removeValue(forKey: fd) }
                handler?(mask)
            }
        }
    }
}
