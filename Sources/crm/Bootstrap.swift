import CRMAPI
import CRMApp
import CRMServices
import CRMStore
import Foundation
import Logging
import PostgresClient

/// Reads the configuration and sets up logging; prints a configuration error and exits with
/// EX_CONFIG (78) rather than starting half-configured.
enum Bootstrap {
    static func configuration() -> ServiceConfiguration {
        do {
            return try ServiceConfiguration(environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("crm: \(error)\n".utf8))
            exit(78)
        }
    }

    static func logger(_ configuration: ServiceConfiguration) -> Logger {
        bootstrapMetrics()
        LoggingSystem.bootstrap { label in
            CRMLogHandler(label: label, format: configuration.logFormat, logLevel: configuration.logLevel)
        }
        return Logger(label: "crm")
    }

    static func migrator(logger: Logger) throws -> Migrator {
        Migrator(migrations: try Migration.bundled(), logger: logger)
    }

    /// The domain services with every contributed customer-360 section.
    static func services(pool: PostgresPool, logger: Logger, configuration: ServiceConfiguration) -> DomainServices {
        DomainServices(pool: pool, logger: logger, idempotencyLease: configuration.idempotencyLease)
    }

    /// The LISTEN connection shared by key revocations and job wake-ups.
    static func listener(_ configuration: ServiceConfiguration, pool: PostgresPool, logger: Logger) -> PostgresListener {
        PostgresListener(
            configuration: configuration.poolConfiguration().connection, blockingPool: pool.blockingPool, logger: logger)
    }

    /// A pool for a short command (migrate, keys, seed): a few connections, closed at the end.
    static func commandPool(_ configuration: ServiceConfiguration, logger: Logger, name: String) -> PostgresPool {
        var poolConfiguration = configuration.poolConfiguration(applicationName: "crm-\(name)")
        poolConfiguration.maxConnections = min(poolConfiguration.maxConnections, 4)
        poolConfiguration.minConnections = 0
        return PostgresPool(configuration: poolConfiguration, logger: logger)
    }
}
