import ArgumentParser
import CRMDomain
import CRMServices
import Foundation
import Logging
import PostgresClient

/// The lead KPI roll-up of one dealer over a seeded database (scripts/bench-sql/seed-leads.sql):
/// the first run adds every lead (the backfill after the migration), the second a day's edits.
struct LeadRollupBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lead-rollup", abstract: "Time the lead KPI roll-up.")

    @Option(help: "libpq URL of a migrated, seeded database.") var url: String
    @Option(help: "The dealer's id.") var dealer: String

    func run() async throws {
        guard let dealerID = UUID(uuidString: dealer) else { throw ValidationError("--dealer is not a UUID") }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let pool = PostgresPool(
            configuration: PostgresPoolConfiguration(connection: PostgresConnectionConfiguration(url: url), maxConnections: 2, minConnections: 1),
            logger: logger)
        defer { pool.shutdownNow() }
        let services = DomainServices(pool: pool, logger: logger, clock: SystemClock())
        for run in ["backfill", "steady"] {
            if run == "steady" {
                // A busy day's edits: 2,000 leads change (follow-ups, wins, losses).
                try await pool.execute(
                    "UPDATE leads SET last_contact_result = last_contact_result WHERE dealer_id = \(dealerID) AND id IN (SELECT id FROM leads WHERE dealer_id = \(dealerID) LIMIT 2000)")
            }
            let started = ContinuousClock.now
            let applied = try await services.leads.rollUpKPIs(dealerID: dealerID)
            let elapsed = ContinuousClock.now - started
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            print("bench=lead_rollup client=swift run=\(run) leads=\(applied) ms=\(String(format: "%.0f", ms))")
        }
    }
}
