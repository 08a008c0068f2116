import CRMContract
public import CRMServices
import Foundation
public import Hummingbird
public import Logging
import OpenAPIHummingbird
import OpenAPIRuntime

/// What the HTTP layer itself is configured with.
public struct HTTPSettings: Sendable {
    /// Level of the one-line-per-request access log.
    public var accessLogLevel: Logger.Level
    /// Largest accepted request body.
    public var maxBodyBytes: Int
    /// Swagger UI's files, served under `/docs/assets/`; nil: `/docs` links to the raw contract.
    public var docsAssetsDirectory: String?

    public init(accessLogLevel: Logger.Level, maxBodyBytes: Int, docsAssetsDirectory: String? = nil) {
        self.accessLogLevel = accessLogLevel
        self.maxBodyBytes = maxBodyBytes
        self.docsAssetsDirectory = docsAssetsDirectory
    }
}

/// The service's router: every operation of `openapi.yaml` (swift-openapi-generator on the
/// Hummingbird transport) behind the middleware chain. `APIHandler` must implement every
/// operation the contract declares, with its declared inputs and outputs, so code and contract
/// cannot drift. The HTTP layer reaches the rest of the process only through `services` and
/// `operations`.
public func buildRouter(settings: HTTPSettings, services: DomainServices, operations: OperationsService) throws
    -> Router<CRMRequestContext>
{
    PrometheusExporter.bootstrapOnce()
    let router = Router(context: CRMRequestContext.self)
    router.add(middleware: AffinityMiddleware())
    router.add(middleware: RequestScopeMiddleware())
    router.add(middleware: ObservabilityMiddleware(accessLogLevel: settings.accessLogLevel))
    let handler = try APIHandler(
        services: services, operations: operations, docs: DocsPage(assetsDirectory: settings.docsAssetsDirectory))
    router.add(middleware: ProblemMiddleware(routes: handler.contractValidator))
    router.add(middleware: AuthenticationMiddleware(access: services.access))
    router.add(middleware: RequestValidationMiddleware(maxBytes: settings.maxBodyBytes, contract: handler.contractValidator))
    router.add(middleware: IdempotencyMiddleware(idempotency: services.idempotency))
    router.add(middleware: ResponseFinishingMiddleware())
    // Compact JSON (no pretty-printing), RFC 3339 timestamps in UTC. Response bodies are written
    // by `JSONResponseWriter` (see `Converter.setResponseBodyAsJSON` in JSON/), which takes these
    // options; it refuses any it does not implement, here at start-up rather than per response.
    let configuration = Configuration(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: [])
    guard JSONResponseWriter(configuration: configuration) != nil else {
        throw JSONWriterUnsupported(options: configuration.jsonEncodingOptions)
    }
    try handler.registerHandlers(on: router, serverURL: Servers.Server1.url(), configuration: configuration)
    return router
}
