import ArgumentParser
import CRMDomain
import CRMServices
import Foundation
import Logging
import PostgresClient

/// The reminder scan of one dealer over a seeded database (scripts/bench-sql/seed-reminders.sql):
/// the initial forecast build, the first scan (every reminder of the window), the send step, and
/// the next day's scan and send (the steady state of the daily job).
struct ReminderScanBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reminder-scan", abstract: "Time the daily reminder scan.")

    @Option(help: "libpq URL of a migrated, seeded database.") var url: String
    @Option(help: "The dealer's id.") var dealer: String
    @Option(help: "Vehicles seeded (printed with the figures).") var vehicles: Int

    func run() async throws {
        guard let dealerID = UUID(uuidString: dealer) else { throw ValidationError("--dealer is not a UUID") }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let pool = PostgresPool(
            configuration: PostgresPoolConfiguration(connection: PostgresConnectionConfiguration(url: url), maxConnections: 4, minConnections: 1),
            logger: logger)
        defer { pool.shutdownNow() }
        let clock = SettableClock(SystemClock().now)
        let services = DomainServices(pool: pool, logger: logger, clock: clock)
        func timed<T>(_ body: () async throws -> T) async throws -> (T, Double) {
            let started = ContinuousClock.now
            let value = try await body()
            let elapsed = ContinuousClock.now - started
            return (value, Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        func ms(_ value: Double) -> String { String(format: "%.0f", value) }
        let (built, buildMs) = try await timed { try await services.reminders.refreshForecasts(dealerID: dealerID) }
        print("bench=forecast_build client=swift vehicles=\(vehicles) forecasts=\(built) ms=\(ms(buildMs)) us_per_vehicle=\(String(format: "%.1f", buildMs * 1000 / Double(max(1, vehicles))))")
        for day in ["first", "next_day"] {
            if day == "next_day" { clock.advance(days: 1) }
            let (scan, scanMs) = try await timed { try await services.reminders.scan(dealerID: dealerID) }
            print(
                "bench=reminder_scan client=swift run=\(day) vehicles=\(vehicles) candidates=\(scan.candidates) created=\(scan.created) suppressed=\(scan.suppressed) ms=\(ms(scanMs)) us_per_vehicle=\(String(format: "%.2f", scanMs * 1000 / Double(max(1, vehicles))))"
            )
            let (sent, sendMs) = try await timed { try await services.reminders.dispatch(dealerID: dealerID) }
            print(
                "bench=reminder_send client=swift run=\(day) vehicles=\(vehicles) queued=\(sent.queued) call_tasks=\(sent.callTasks) suppressed=\(sent.suppressed) ms=\(ms(sendMs))"
            )
        }
    }
}
