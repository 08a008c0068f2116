public import CRMStore
public import Logging
public import PostgresClient

/// The process's own health: whether its database answers and carries the schema this build
/// needs (readiness), and the pool's metrics.
public struct OperationsService: Sendable {
    let pool: PostgresPool
    let migrator: Migrator
    let logger: Logger

    public init(pool: PostgresPool, migrator: Migrator, logger: Logger) {
        self.pool = pool
        self.migrator = migrator
        self.logger = logger
    }

    public enum Readiness: Sendable, Equatable {
        case ready(schemaVersion: Int)
        /// Why not, in words an operator acts on; never the database's own text.
        case notReady(String)
    }

    /// Ready when a connection can be had and every bundled migration is applied.
    public func readiness() async -> Readiness {
        let version: Int
        do {
            version = try await pool.withConnection { try await migrator.currentVersion(on: $0) }
        } catch let error as PostgresError where error.code == .undefinedTable {
            return .notReady("The database has no schema yet; run `crm migrate`.")
        } catch let error as PoolError {
            logger.warning("readiness check failed", metadata: ["error": "\(error)"])
            return .notReady("No database connection is available: \(error).")
        } catch {
            logger.warning("readiness check failed", metadata: ["error": "\(error)"])
            return .notReady("The database is unreachable.")
        }
        guard version == migrator.latestVersion else {
            return .notReady(
                "The database schema is at version \(version), this build needs \(migrator.latestVersion); run `crm migrate`.")
        }
        return .ready(schemaVersion: version)
    }

    /// Publishes the pool's gauges (connections by state, waiters) before a metrics scrape.
    public func publishMetrics() { pool.publishMetrics() }
}
