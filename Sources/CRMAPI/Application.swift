public import CRMServices
public import CRMStore
import Foundation
public import Hummingbird
public import JobQueue
public import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
public import ServiceLifecycle
public import PostgresClient

/// What the HTTP layer needs from the rest of the process.
public struct AppDependencies: Sendable {
    public var pool: PostgresPool
    public var migrator: Migrator
    public var services: DomainServices
    public var logger: Logger

    public init(pool: PostgresPool, migrator: Migrator, services: DomainServices, logger: Logger) {
        self.pool = pool
        self.migrator = migrator
        self.services = services
        self.logger = logger
    }
}

/// The one factory the server, the tests and the benchmarks use.
///
/// The HTTP routes are generated from `openapi.yaml` (swift-openapi-generator on the Hummingbird
/// transport): `APIHandler` must implement every operation the contract declares, with its
/// declared inputs and outputs, so code and contract cannot drift.
public func buildApplication(
    configuration: ServiceConfiguration, dependencies: AppDependencies, services: [any Service] = []
) throws -> some ApplicationProtocol {
    let router = try buildRouter(configuration: configuration, dependencies: dependencies)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "crm"),
        services: services,
        logger: dependencies.logger)
}

/// The router alone (tests drive it in-process).
public func buildRouter(configuration: ServiceConfiguration, dependencies: AppDependencies) throws
    -> Router<CRMRequestContext>
{
    PrometheusExporter.bootstrapOnce()
    let router = Router(context: CRMRequestContext.self)
    router.add(middleware: AffinityMiddleware())
    router.add(middleware: RequestScopeMiddleware())
    router.add(middleware: ObservabilityMiddleware(accessLogLevel: configuration.accessLogLevel))
    let handler = try APIHandler(dependencies: dependencies)
    router.add(middleware: ProblemMiddleware(routes: handler.contractValidator))
    router.add(middleware: AuthenticationMiddleware(access: dependencies.services.access))
    router.add(
        middleware: RequestValidationMiddleware(maxBytes: configuration.maxBodyBytes, contract: handler.contractValidator))
    router.add(middleware: IdempotencyMiddleware(pool: dependencies.pool))
    router.add(middleware: ResponseFinishingMiddleware())
    // Compact JSON (no pretty-printing), RFC 3339 timestamps in UTC.
    try handler.registerHandlers(
        on: router, serverURL: Servers.Server1.url(),
        configuration: Configuration(dateTranscoder: RFC3339DateTranscoder(), jsonEncodingOptions: []))
    return router
}

/// The background worker with every job kind and periodic schedule of the service
/// (`BackgroundWork`), for `crm work` and `crm serve --with-worker`.
public func buildWorker(
    configuration: ServiceConfiguration, dependencies: AppDependencies, listener: PostgresListener?
) -> JobWorker {
    let work = BackgroundWork(
        services: dependencies.services, pool: dependencies.pool,
        retention: .init(completed: configuration.jobRetention, discarded: configuration.discardedJobRetention))
    var worker = configuration.workerConfiguration()
    worker.periodic = work.schedules
    return JobWorker(
        pool: dependencies.pool, queue: dependencies.services.queue, registry: work.registry, listener: listener,
        configuration: worker, logger: dependencies.logger)
}

/// The operations endpoints of a worker process (`crm work`): `GET /healthz` and `GET /metrics`
/// (the queue's depth, waits, run times and failures, and the pool), on `HOST`:`PORT`.
public func buildWorkerOperations(
    configuration: ServiceConfiguration, dependencies: AppDependencies, services: [any Service] = []
) -> some ApplicationProtocol {
    PrometheusExporter.bootstrapOnce()
    let router = Router()
    router.get("healthz") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    let pool = dependencies.pool
    router.get("metrics") { _, _ in
        pool.publishMetrics()
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(string: PrometheusExporter.render())))
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "crm-worker"),
        services: services, logger: dependencies.logger)
}
