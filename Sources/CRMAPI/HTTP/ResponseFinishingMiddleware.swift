import Hummingbird
import NIOCore
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

/// Finishes every response right above the handlers: applies the headers handlers set, and
/// turns the generated transport's streamed body (written as head, body and end in three
/// separate writes) into one buffer, which Hummingbird sends in a single batched write. This
/// API's bodies are small, complete JSON documents, so nothing is lost by buffering them.
struct ResponseFinishingMiddleware: RouterMiddleware {
    typealias Context = CRMRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let box = ResponseHeaderBox()
        var response = try await RequestScope.with({ $0.responseHeaders = box }) {
            try await next(request, context)
        }
        for field in box.all { response.headers[field.name] = field.value }
        let collector = CollectingWriter()
        try await response.body.write(collector)
        response.body = .init(byteBuffer: ByteBuffer(bytes: collector.sink.bytes))
        return response
    }
}
