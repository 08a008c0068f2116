import Hummingbird
import NIOCore
import Synchronization

/// Runs the rest of the request on the event loop that owns its connection, preferring it as the
/// task executor: reading the request, handling it and writing the response then happen on one
/// thread, and a database reply (read by a PostgreSQL reactor thread) resumes the handler on that
/// thread directly. Without it every await could land on another thread of the global pool,
/// and on this project's 2-vCPU machines each such hand-off costs tens of microseconds
/// (BENCHMARKS.md). Handlers must not block (they never do synchronous I/O).
struct AffinityMiddleware: RouterMiddleware {
    typealias Context = CRMRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let eventLoop = context.eventLoop else { return try await next(request, context) }
        return try await withTaskExecutorPreference(EventLoopExecutors.executor(for: eventLoop)) {
            try await next(request, context)
        }
    }
}

/// An event loop seen as a Swift `TaskExecutor`: jobs run on the loop's thread (queued behind
/// its I/O when enqueued from elsewhere, run right after the current task when enqueued from the
/// loop itself).
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// One executor per event loop, so that "already on this executor" holds across awaits.
enum EventLoopExecutors {
    private static let executors = Mutex<[ObjectIdentifier: EventLoopTaskExecutor]>([:])

    static func executor(for eventLoop: any EventLoop) -> EventLoopTaskExecutor {
        executors.withLock { executors in
            let key = ObjectIdentifier(eventLoop)
            if let existing = executors[key] { return existing }
            let executor = EventLoopTaskExecutor(eventLoop: eventLoop)
            executors[key] = executor
            return executor
        }
    }
}
