public import CRMDomain
public import Logging

/// What a handler knows about the request it serves: its id, logger, caller and body. The
/// generated OpenAPI handlers receive only their typed input, so the middleware publishes this
/// as a task-local for the duration of the request.
public struct RequestScope: Sendable {
    public var requestID: String
    public var logger: Logger
    /// The authenticated caller (set by `AuthenticationMiddleware` on `/v1` routes).
    public var principal: Principal?
    /// The request body as received (set by `BodyMiddleware`): PATCH handlers read it to tell
    /// a JSON `null` (remove) from an absent member (keep), which typed bodies cannot.
    public var body: [UInt8]
    /// Headers the handler sets on its response (see `ResponseHeadersMiddleware`).
    var responseHeaders: ResponseHeaderBox?

    @TaskLocal public static var current: RequestScope?

    /// The current request's scope, or a placeholder outside a request (tests calling handlers
    /// directly).
    public static var now: RequestScope {
        current ?? RequestScope(requestID: "none", logger: Logger(label: "crm"), principal: nil, body: [], responseHeaders: nil)
    }

    /// Runs `body` with this scope changed by `change`.
    static func with<T>(_ change: (inout RequestScope) -> Void, _ body: () async throws -> T) async rethrows -> T {
        var scope = now
        change(&scope)
        return try await $current.withValue(scope) { try await body() }
    }
}
