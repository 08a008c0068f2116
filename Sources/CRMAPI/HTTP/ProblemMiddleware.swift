import Hummingbird

/// Renders every error below it as `application/problem+json` (see `ProblemMapper`), so the
/// layers above (access log, metrics) always see a response with its final status.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = CRMRequestContext
    /// The contract's routes: a request for a known path with an undeclared method is a 405
    /// with `Allow`, not a 404.
    let routes: ContractValidator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            if let allowed = routes.allowedMethods(forPath: request.uri.path), !allowed.contains(request.method.rawValue) {
                var problem = Problem.methodNotAllowed("\(request.method.rawValue) is not allowed here.")
                problem.headers[.allow] = allowed.sorted().joined(separator: ", ")
                return try problem.response(requestID: context.requestID)
            }
            let problem = ProblemMapper.problem(for: error, logger: context.logger, requestID: context.requestID)
            return try problem.response(requestID: context.requestID)
        } catch {
            let problem = ProblemMapper.problem(for: error, logger: context.logger, requestID: context.requestID)
            return try problem.response(requestID: context.requestID)
        }
    }
}
