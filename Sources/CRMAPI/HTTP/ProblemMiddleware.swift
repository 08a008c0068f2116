import Hummingbird

/// Renders every error below it as `application/problem+json` (see `ProblemMapper`), so the
/// layers above (access log, metrics) always see a response with its final status.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = CRMRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            let problem = ProblemMapper.problem(for: error, logger: context.logger, requestID: context.requestID)
            return problem.response(requestID: context.requestID)
        }
    }
}
