import ArgumentParser
import CRMAPI
import CRMApp
import CRMStore
import Foundation
import PostgresClient

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations and report what was done.")

    func run() async throws {
        let configuration = Bootstrap.configuration()
        let logger = Bootstrap.logger(configuration)
        let migrator = try Bootstrap.migrator(logger: logger)
        let pool = Bootstrap.commandPool(configuration, logger: logger, name: "migrate")
        defer { pool.shutdownNow() }
        let report = try await pool.withConnection { try await migrator.migrate(on: $0) }
        if report.applied.isEmpty {
            print("database is up to date at version \(report.currentVersion)")
        } else {
            for migration in report.applied {
                print("applied \(String(format: "%04d", migration.version))_\(migration.name)")
            }
            print("database now at version \(report.currentVersion) (\(report.applied.count) applied)")
        }
    }
}
