public import Hummingbird
public import NIOCore

/// Hummingbird's per-request context for this service.
public struct CRMRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `RequestScopeMiddleware`.
    public var requestID: String = ""
    /// The event loop of the request's connection (nil in router-only tests).
    public let eventLoop: (any EventLoop)?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.eventLoop = source.channel.eventLoop
    }
}
