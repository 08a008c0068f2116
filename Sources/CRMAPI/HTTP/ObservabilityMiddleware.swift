import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Synchronization

/// Records `http_requests_total` and `http_request_duration_seconds` by method, route template
/// and status, and writes one access-log line per request. The line names the route and the
/// path without its query string: queries carry phone numbers and names, which stay out of logs.
struct ObservabilityMiddleware: RouterMiddleware {
    typealias Context = CRMRequestContext
    let metrics = HTTPMetrics()
    let accessLogLevel: Logger.Level

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        metrics.record(method: request.method, route: route, status: response.status, elapsed: elapsed)
        context.logger.log(
            level: response.status.code >= 500 ? .error : accessLogLevel, "request",
            metadata: [
                "http.method": .string(request.method.rawValue),
                "http.route": .string(route),
                "http.path": .string(request.uri.path),
                "http.status": .stringConvertible(response.status.code),
                "duration_ms": .string(String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)),
            ])
        return response
    }
}

/// Metric handles cached per (method, route, status): creating them is a dictionary lookup in
/// the metrics backend, which should not happen per request.
final class HTTPMetrics: Sendable {
    private struct Key: Hashable {
        let method: String
        let route: String
        let status: Int
    }
    private struct Handles: Sendable {
        let counter: Counter
        let timer: Metrics.Timer
    }
    private let cache = Mutex<[Key: Handles]>([:])

    func record(method: HTTPRequest.Method, route: String, status: HTTPResponse.Status, elapsed: Duration) {
        let key = Key(method: method.rawValue, route: route, status: status.code)
        let handles = cache.withLock { cache in
            if let handles = cache[key] { return handles }
            let dimensions = [("method", key.method), ("route", key.route), ("status", String(key.status))]
            let handles = Handles(
                counter: Counter(label: "http_requests_total", dimensions: dimensions),
                timer: Metrics.Timer(label: "http_request_duration_seconds", dimensions: dimensions))
            cache[key] = handles
            return handles
        }
        handles.counter.increment()
        handles.timer.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
