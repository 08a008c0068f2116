import ArgumentParser
import CRMAPI
import CRMApp
import Foundation
import Logging
import PostgresClient
import ServiceLifecycle
import UnixSignals

struct Work: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the background worker: job handlers, retries, periodic schedules, queue upkeep.",
        discussion: """
            Queues and their concurrency come from WORKER_QUEUES (see README). Serves GET /healthz and GET /metrics on \
            HOST:PORT. SIGTERM/SIGINT stop claiming jobs, let running ones finish within WORKER_SHUTDOWN_GRACE_S, then \
            release the rest to another worker.
            """)

    func run() async throws {
        let configuration = Bootstrap.configuration()
        let logger = Bootstrap.logger(configuration)
        let migrator = try Bootstrap.migrator(logger: logger)
        let pool = PostgresPool(configuration: configuration.poolConfiguration(applicationName: "crm-work"), logger: logger)
        let services = Bootstrap.services(pool: pool, logger: logger, configuration: configuration)
        let dependencies = AppDependencies(pool: pool, migrator: migrator, services: services, logger: logger)
        let listener = Bootstrap.listener(configuration, pool: pool, logger: logger)
        let worker = buildWorker(configuration: configuration, dependencies: dependencies, listener: listener)
        let operations = buildWorkerOperations(configuration: configuration, dependencies: dependencies)
        // Stops in reverse order: the operations endpoints, then the worker drains, then the
        // listener and the pool close.
        var group = ServiceGroupConfiguration(
            services: [.init(service: pool), .init(service: listener), .init(service: worker), .init(service: operations)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        logger.info(
            "starting worker",
            metadata: ["queues": "\(configuration.workerQueues)", "host": "\(configuration.host)", "port": "\(configuration.port)"])
        try await ServiceGroup(configuration: group).run()
        logger.info("stopped")
    }
}
