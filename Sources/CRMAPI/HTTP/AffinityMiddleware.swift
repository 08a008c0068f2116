import Hummingbird
import PostgresClient

/// Runs the rest of the request on one of the PostgreSQL client's reactor threads, with that
/// reactor's connections preferred (`PostgresPool.withAffinity`): a database reply then resumes
/// the handler on the thread that read it, with no hand-off between threads. Handlers must not
/// block (they never do synchronous I/O).
struct AffinityMiddleware: RouterMiddleware {
    typealias Context = CRMRequestContext
    let pool: PostgresPool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        try await pool.withAffinity { try await next(request, context) }
    }
}
