public import CRMAPI
public import CRMServices
public import CRMStore
import Foundation
public import Hummingbird
public import JobQueue
public import Logging
import NIOCore
public import PostgresClient
public import ServiceLifecycle

/// What the process is made of, below the HTTP layer.
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

    /// Readiness and pool metrics of this process.
    public var operations: OperationsService { OperationsService(pool: pool, migrator: migrator, logger: logger) }
}

/// The one factory the server, the tests and the benchmarks use: the HTTP API (CRMAPI's router)
/// on the configured address, over the process's services.
public func buildApplication(
    configuration: ServiceConfiguration, dependencies: AppDependencies, services: [any Service] = []
) throws -> some ApplicationProtocol {
    let router = try buildRouter(
        settings: configuration.httpSettings, services: dependencies.services, operations: dependencies.operations)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "crm"),
        services: services,
        logger: dependencies.logger)
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
    let operations = dependencies.operations
    router.get("metrics") { _, _ in
        operations.publishMetrics()
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(string: PrometheusExporter.render())))
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "crm-worker"),
        services: services, logger: dependencies.logger)
}
