import Foundation
import CRMDomain
import CRMServices
import Logging
import Hummingbird
import HTTPTypes

/// `Authorization: Bearer <key>` on every `/v1` route: the caller's principal goes into the
/// `RequestScope`; a missing, unknown, revoked or expired key is a 401.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = CRMRequestContext
    let access: AccessService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.uri.path.hasPrefix("/v1/") || request.uri.path == "/v1" else {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else {
            throw Problem.unauthorized("Send the API key as `Authorization: Bearer <key>`.")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Problem.unauthorized("Use the Bearer scheme: `Authorization: Bearer <key>`.")
        }
        let principal = try await access.authenticate(bearer: parts[1].trimmingWhitespace())
        return try await RequestScope.with({ $0.principal = principal }) {
            try await next(request, context)
        }
    }
}
