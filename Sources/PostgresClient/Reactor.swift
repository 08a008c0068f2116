#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CEpoll
import DequeModule
import Foundation
import Synchronization

/// One thread that waits on the sockets of libpq connections with `epoll` and runs a short,
/// non-blocking handler when a socket is ready.
///
/// Waiting for a statement's result costs no thread: the borrowing task sends the statement
/// (non-blocking) and suspends; unless its own event loop finds the reply first, it arms its
/// socket here and the reactor thread reads the reply with `PQconsumeInput`/`PQgetResult`
/// (which never block once data is buffered) and resumes the task.
///
/// Sockets are registered once, one-shot and level-triggered, and stay silent until armed:
/// `arm` enables a socket (one `epoll_ctl`), its first event runs the handler and silences it
/// again. So a reply that the waiting task's own event loop reads first (see
/// `PostgresConnection.flushThenRead`) never wakes the reactor thread; a socket that is already
/// readable when armed fires at once. An event that arrives after `disarm` is remembered
/// (`pending`): the next `arm` runs its handler at once. A handler runs at most once per `arm`;
/// a connection's `PGconn` is touched by the reactor only between its `arm` and the handler's
/// run.
///
/// Each reactor is also a Swift `TaskExecutor`. A task that prefers it (see
/// `PostgresPool.withAffinity`) runs on the reactor thread between events: when a reply
/// resumes such a task, it continues on the same thread right after the handler, with no
/// thread hand-off, like a client that drives its connections from one event loop.
final class Reactor: TaskExecutor, Sendable {
    typealias Handler = @Sendable (_ events: UInt32) -> Void

    // epoll constants (linux/eventpoll.h); Glibc imports them as enum types, these are plain.
    static let readable: UInt32 = 0x001
    static let writable: UInt32 = 0x004
    static let error: UInt32 = 0x008
    static let hangup: UInt32 = 0x010
    static let readHangup: UInt32 = 0x2000
    static let oneShot: UInt32 = 1 << 30

    /// The process-wide reactors, one per core (at least 2), started on first use; they live as
    /// long as the process. Connections are spread over them so one descheduled thread does not
    /// stall every connection. (Creating them fails only when the kernel refuses an epoll
    /// instance, e.g. at the fd limit.)
    static let shared: Result<[Reactor], any Error> = Result {
        let count = max(2, ProcessInfo.processInfo.activeProcessorCount)
        return try (0..<count).map { try Reactor(name: "pg-reactor-\($0)", index: $0) }
    }

    /// The reactor for a connection with this id.
    static func forConnection(_ id: Int) throws -> Reactor {
        let reactors = try shared.get()
        return reactors[id % reactors.count]
    }

    private struct Registration {
        var handler: Handler?
        var wantsWritable = false
        /// Events seen while no handler was armed.
        var pending: UInt32 = 0
    }

    private let epollFD: Int32
    /// Wakes `epoll_wait` when a job is enqueued from another thread.
    private let wakeFD: Int32
    private let registrations = Mutex<[Int32: Registration]>([:])
    private let jobs = Mutex(JobQueue())
    let index: Int

    private struct JobQueue {
        var queue: Deque<UnownedJob> = []
        /// The thread is (about to be) blocked in `epoll_wait` and needs a wake-up.
        var sleeping = false
    }

    init(name: String, index: Int = 0) throws {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw PostgresError.connectionLost("epoll_create1 failed: errno \(errno)") }
        let wake = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard wake >= 0 else { throw PostgresError.connectionLost("eventfd failed: errno \(errno)") }
        self.epollFD = fd
        self.wakeFD = wake
        self.index = index
        var event = epoll_event()
        event.events = Self.readable
        event.data.fd = wake
        guard epoll_ctl(fd, 1 /* EPOLL_CTL_ADD */, wake, &event) == 0 else {
            throw PostgresError.connectionLost("epoll_ctl(ADD eventfd) failed: errno \(errno)")
        }
        let thread = Thread { [self] in
            // Named from inside: `Thread.name` set before `start()` did not reach the kernel, and
            // `top -H` or /proc showed the reactors under Dispatch's thread names.
            _ = cepoll_name_current_thread(name)
            self.loop()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Adds a socket for the rest of its life (until `deregister`), silent until armed.
    func register(fd: Int32) throws {
        registrations.withLock { $0[fd] = Registration() }
        var event = epoll_event()
        event.events = Self.oneShot
        event.data.fd = fd
        if epoll_ctl(epollFD, 1 /* EPOLL_CTL_ADD */, fd, &event) != 0 {
            let code = errno
            registrations.withLock { _ = $0.removeValue(forKey: fd) }
            throw PostgresError.connectionLost("epoll_ctl(ADD) failed: errno \(code)")
        }
    }

    /// Removes a socket. Call before the socket is closed (the descriptor may be reused).
    func deregister(fd: Int32) {
        registrations.withLock { _ = $0.removeValue(forKey: fd) }
        var event = epoll_event()
        _ = epoll_ctl(epollFD, 2 /* EPOLL_CTL_DEL */, fd, &event)
    }

    /// Runs `handler` once when `fd` is readable (or writable, if asked), or reports an error or
    /// hang-up; at once (on the reactor thread) if it already is. If such an event arrived while
    /// nobody waited, the handler runs right away on the calling thread. Replaces a handler that
    /// has not run yet.
    func arm(fd: Int32, writable: Bool = false, handler: @escaping Handler) {
        let interest = Self.readable | Self.error | Self.hangup | Self.readHangup | (writable ? Self.writable : 0)
        let runNow: UInt32? = registrations.withLock { registrations in
            guard var registration = registrations[fd] else { return Self.error }
            if registration.pending & interest != 0 {
                let events = registration.pending
                registration.pending = 0
                registration.handler = nil
                registrations[fd] = registration
                return events
            }
            registration.handler = handler
            registration.wantsWritable = writable
            registrations[fd] = registration
            return nil
        }
        if let runNow {
            handler(runNow)
            return
        }
        var event = epoll_event()
        event.events = interest | Self.oneShot
        event.data.fd = fd
        if epoll_ctl(epollFD, 3 /* EPOLL_CTL_MOD */, fd, &event) != 0 {
            // Deregistered meanwhile (the connection was closed): report it as an error, once.
            let armed = registrations.withLock { registrations -> Handler? in
                let armed = registrations[fd]?.handler
                registrations[fd]?.handler = nil
                return armed
            }
            armed?(Self.error)
        }
    }

    /// Forgets a pending handler.
    func disarm(fd: Int32) {
        registrations.withLock { $0[fd]?.handler = nil }
    }

    // MARK: TaskExecutor

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let wake = jobs.withLock { jobs in
            jobs.queue.append(unowned)
            let wasSleeping = jobs.sleeping
            jobs.sleeping = false
            return wasSleeping
        }
        if wake { _ = eventfd_write(wakeFD, 1) }
    }

    private func runJobs() {
        while true {
            let batch: Deque<UnownedJob> = jobs.withLock { jobs in
                let batch = jobs.queue
                jobs.queue.removeAll(keepingCapacity: true)
                return batch
            }
            if batch.isEmpty { return }
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }

    // MARK: Loop

    private func loop() {
        let capacity: Int32 = 128
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        while true {
            runJobs()
            let timeout: Int32 = jobs.withLock { jobs in
                if jobs.queue.isEmpty {
                    jobs.sleeping = true
                    return -1
                }
                return 0
            }
            let count = epoll_wait(epollFD, events, capacity, timeout)
            jobs.withLock { $0.sleeping = false }
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            for index in 0..<Int(count) {
                let fd = events[index].data.fd
                let mask = events[index].events
                if fd == wakeFD {
                    var value: eventfd_t = 0
                    _ = eventfd_read(wakeFD, &value)
                    continue
                }
                let handler: Handler? = registrations.withLock { registrations in
                    guard var registration = registrations[fd] else { return nil }
                    let relevant = Self.readable | Self.error | Self.hangup | Self.readHangup
                        | (registration.wantsWritable ? Self.writable : 0)
                    if let handler = registration.handler, mask & relevant != 0 {
                        registration.handler = nil
                        registration.pending = 0
                        registrations[fd] = registration
                        return handler
                    }
                    registration.pending |= mask
                    registrations[fd] = registration
                    return nil
                }
                handler?(mask)
            }
        }
    }
}
