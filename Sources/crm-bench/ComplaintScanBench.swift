import ArgumentParser
import CRMDomain
import CRMServices
import Foundation
import Logging
import PostgresClient

/// The complaints SLA escalation scan (the `complaints.escalate` job's work) over a seeded
/// database: the first run raises what is due, the next ones find nothing (the steady state of a
/// scan every minute).
struct ComplaintScanBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complaint-scan", abstract: "Time the complaints SLA escalation scan.")

    @Option(help: "libpq URL of a migrated, seeded database.") var url: String
    @Option(help: "Scans to run one after another.") var runs = 3

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let pool = PostgresPool(
            configuration: PostgresPoolConfiguration(
                connection: PostgresConnectionConfiguration(url: url), maxConnections: 2, minConnections: 1),
            logger: logger)
        defer { pool.shutdownNow() }
        let services = DomainServices(pool: pool, logger: logger)
        for run in 1...runs {
            let started = ContinuousClock.now
            let raised = try await services.complaints.escalate()
            let elapsed = ContinuousClock.now - started
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            print("bench=complaint_scan client=swift run=\(run) events=\(raised) ms=\(String(format: "%.1f", ms))")
        }
    }
}
