import CRMStore
import Foundation
import Logging
import OpenAPIRuntime
import PostgresClient

/// Liveness, readiness, metrics and the contract.
extension APIHandler {
    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok))))
    }

    /// Ready when a connection can be had and every bundled migration is applied; the check is
    /// bounded so a hung database gives a prompt 503, not a hung probe.
    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        let migrator = dependencies.migrator
        let version: Int
        do {
            version = try await dependencies.pool.withConnection { connection in
                try await migrator.currentVersion(on: connection)
            }
        } catch let error as PostgresError where error.code == .undefinedTable {
            throw Problem.serviceUnavailable("The database has no schema yet; run `crm migrate`.")
        } catch {
            RequestScope.now.logger.warning("readiness check failed", metadata: ["error": "\(error)"])
            throw Problem.serviceUnavailable("The database is unreachable: \(Self.summary(of: error))")
        }
        guard version == migrator.latestVersion else {
            throw Problem.serviceUnavailable(
                "The database schema is at version \(version), this build needs \(migrator.latestVersion); run `crm migrate`.")
        }
        return .ok(.init(body: .json(.init(status: .ready, schemaVersion: version))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        dependencies.pool.publishMetrics()
        return .ok(.init(body: .plainText(HTTPBody(PrometheusExporter.render()))))
    }

    func getContract(_ input: Operations.GetContract.Input) async throws -> Operations.GetContract.Output {
        .ok(.init(body: .yaml(HTTPBody(contract))))
    }

    private static func summary(of error: any Error) -> String {
        if let error = error as? PostgresError { return error.message.split(separator: "\n").first.map(String.init) ?? "" }
        return "\(error)"
    }
}
