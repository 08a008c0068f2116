import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import CRMAPI
import CRMApp
import CRMServices
import CRMStore
import Logging
import PostgresClient
import ServiceLifecycle
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API.",
        discussion: "Configuration comes from the environment (see README). SIGTERM/SIGINT stop accepting, finish in-flight requests, then close the pool.")

    @Flag(help: "Apply pending migrations before serving.")
    var migrate = false

    @Flag(help: "Also run the background worker in this process (small dealers, the demo).")
    var withWorker = false

    func run() async throws {
        // Swift concurrency runs on NIO's event loops (NIO's supported hook): a request's task
        // stays on the thread that read it instead of bouncing through a separate pool.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let configuration = Bootstrap.configuration()
        let logger = Bootstrap.logger(configuration)
        let migrator = try Bootstrap.migrator(logger: logger)
        let pool = PostgresPool(configuration: configuration.poolConfiguration(applicationName: "crm-serve"), logger: logger)
        if migrate {
            let report = try await pool.withConnection { try await migrator.migrate(on: $0) }
            logger.info("schema is current", metadata: ["schema_version": "\(report.currentVersion)", "applied": "\(report.applied.count)"])
        }
        let services = Bootstrap.services(pool: pool, logger: logger, configuration: configuration)
        let listener = Bootstrap.listener(configuration, pool: pool, logger: logger)
        let dependencies = AppDependencies(pool: pool, migrator: migrator, services: services, logger: logger)
        let app = try buildApplication(configuration: configuration, dependencies: dependencies)
        var worker: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if withWorker {
            worker = [.init(service: buildWorker(configuration: configuration, dependencies: dependencies, listener: listener))]
        }
        // Shutdown runs in reverse order: the HTTP server stops accepting and drains first,
        // then the worker finishes its running jobs, key usage is flushed, the listener stops,
        // and the pool closes its connections.
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: pool), .init(service: listener),
                .init(service: AccessMaintenance(access: services.access, listener: listener, logger: logger)),
            ] + worker + [.init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        logger.info(
            "starting",
            metadata: [
                "host": "\(configuration.host)", "port": "\(configuration.port)", "db.io_mode": "\(configuration.ioMode)",
                "worker": "\(withWorker ? "\(configuration.workerQueues)" : "off")",
            ])
        try await ServiceGroup(configuration: groupConfiguration).run()
        logger.info("stopped")
    }
}
