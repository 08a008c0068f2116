public import Hummingbird

/// Hummingbird's per-request context for this service.
public struct CRMRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `RequestScopeMiddleware`.
    public var requestID: String = ""

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}
