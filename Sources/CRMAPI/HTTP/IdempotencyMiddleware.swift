import CRMDomain
import CRMServices
import Crypto
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}

/// `Idempotency-Key` on POST: the first request with a key runs and, if it succeeds (2xx), its
/// response is stored for 24 hours in the same transaction as everything the request wrote
/// (`IdempotencyService`); a retry with the same key and the same body gets that response again
/// (with `Idempotent-Replayed: true`) and changes nothing; the same key with another body is a
/// 422; a retry while the first attempt is still running is a 409 with `Retry-After`. A request
/// that fails commits nothing and frees its key; one that dies frees it when the database ends
/// its transaction. Keys are scoped to the calling API key.
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = CRMRequestContext
    let idempotency: IdempotencyService
    /// Response headers replayed with the body.
    static let replayedHeaders: [HTTPField.Name] = [.contentType, .location, .eTag]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.method == .post, let key = request.headers[.idempotencyKey],
            let principal = RequestScope.now.principal
        else {
            return try await next(request, context)
        }
        guard (1...255).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f }) else {
            throw Problem.unprocessable(field: "Idempotency-Key", "must be 1 to 255 printable ASCII characters")
        }
        let hash = Self.requestHash(method: request.method.rawValue, path: request.uri.path, body: RequestScope.now.body)
        let outcome = try await idempotency.perform(IdempotencyService.Key(principal: principal, value: key), requestHash: hash) {
            () async throws -> (result: Response, keep: StoredResponse?) in
            let response = try await next(request, context)
            guard (200..<300).contains(response.status.code) else { return (response, nil) }
            // A single buffer by now (`ResponseFinishingMiddleware`).
            let collector = CollectingWriter()
            try await response.body.write(collector)
            var headers: [String: String] = [:]
            for name in Self.replayedHeaders {
                if let value = response.headers[name] { headers[name.canonicalName] = value }
            }
            var replayable = response
            replayable.body = .init(byteBuffer: ByteBuffer(bytes: collector.sink.bytes))
            return (replayable, StoredResponse(status: response.status.code, headers: headers, body: collector.sink.bytes))
        }
        switch outcome {
        case .performed(let response):
            return response
        case .replay(let stored):
            var headers = HTTPFields()
            for (name, value) in stored.headers {
                if let field = HTTPField.Name(name) { headers[field] = value }
            }
            headers[.idempotentReplayed] = "true"
            return Response(
                status: HTTPResponse.Status(code: stored.status), headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: stored.body)))
        case .inProgress:
            var problem = Problem.conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly with the same key.",
                slug: "idempotency-in-progress")
            problem.headers[.retryAfter] = "1"
            throw problem
        case .mismatch:
            throw Problem.unprocessable(
                field: "Idempotency-Key", "was already used with a different request; use a new key for a new request")
        }
    }
}

extension IdempotencyMiddleware {
    /// What makes two requests "the same": method, path and body, the body compared as JSON
    /// (member order and spacing do not matter) when it is JSON.
    static func requestHash(method: String, path: String, body: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Data("\(method) \(path)\n".utf8))
        if let value = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]),
            let canonical = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        {
            hasher.update(data: canonical)
        } else {
            hasher.update(data: Data(body))
        }
        return Array(hasher.finalize())
    }
}

/// Gathers a response body in memory (JSON bodies of this API are small). The writer is
/// passed by value, so the bytes live in a reference the caller keeps.
struct CollectingWriter: ResponseBodyWriter {
    final class Sink: @unchecked Sendable {
        // Written by one body writer at a time, read after it finished.
        var bytes: [UInt8] = []
    }
    let sink = Sink()
    mutating func write(_ buffer: ByteBuffer) async throws { sink.bytes.append(contentsOf: buffer.readableBytesView) }
    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
