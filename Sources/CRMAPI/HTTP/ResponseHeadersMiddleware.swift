import Hummingbird
import HTTPTypes
import Synchronization

/// Response headers a handler sets directly (`ETag`, `Location`). The OpenAPI runtime writes
/// typed header values URI-encoded (`"3"` becomes `%223%22`), which breaks `If-Match`
/// round trips and `Location`; handlers put such headers here instead and this middleware, just
/// above the handlers, copies them onto the response (so idempotent replays store them too).
final class ResponseHeaderBox: Sendable {
    private let fields = Mutex(HTTPFields())

    func set(_ name: HTTPField.Name, _ value: String) { fields.withLock { $0[name] = value } }
    var all: HTTPFields { fields.withLock { $0 } }
}

struct ResponseHeadersMiddleware: RouterMiddleware {
    typealias Context = CRMRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let box = ResponseHeaderBox()
        var response = try await RequestScope.with({ $0.responseHeaders = box }) {
            try await next(request, context)
        }
        for field in box.all { response.headers[field.name] = field.value }
        return response
    }
}
