public import Logging

/// What a handler knows about the request it serves: its id and logger (later, who is calling).
/// The generated OpenAPI handlers receive only their typed input, so the middleware publishes
/// this as a task-local for the duration of the request.
public struct RequestScope: Sendable {
    public var requestID: String
    public var logger: Logger

    @TaskLocal public static var current: RequestScope?

    /// The current request's scope, or a placeholder outside a request (tests calling handlers
    /// directly).
    public static var now: RequestScope {
        current ?? RequestScope(requestID: "none", logger: Logger(label: "crm"))
    }
}
