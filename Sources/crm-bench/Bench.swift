import ArgumentParser
import Foundation
import Logging
import PostgresClient

/// Load generators for `scripts/bench`. Each prints one machine-readable line:
/// `bench=<name> key=value ...`.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crm-bench", abstract: "Benchmarks for scripts/bench.",
        subcommands: [
            PoolBench.self, QueueBench.self, QueueWorkerCommand.self, ComplaintScanBench.self, ReminderScanBench.self,
            LeadRollupBench.self, JSONBench.self,
        ])
}

/// Latencies in microseconds, summarised as percentiles.
struct LatencyRecorder {
    var samples: [UInt32] = []

    mutating func record(_ duration: Duration) {
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        samples.append(UInt32(clamping: micros))
    }

    static func merge(_ recorders: [LatencyRecorder]) -> LatencyRecorder {
        LatencyRecorder(samples: recorders.flatMap(\.samples).sorted())
    }

    func percentile(_ p: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let index = min(samples.count - 1, Int((Double(samples.count) * p).rounded(.down)))
        return Double(samples[index]) / 1000
    }
}

/// `SELECT $1::int` through the pool from N concurrent tasks, the statement pgbench runs.
struct PoolBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pool", abstract: "Raw query rate through the pool.")

    @Option(help: "libpq URL of the database.") var url: String
    @Option(help: "Pool size (connections).") var connections = 8
    @Option(help: "Concurrent client tasks (default: one per connection).") var clients: Int?
    @Option(help: "Seconds to run (after 1 s of warm-up).") var duration = 10
    @Option(help: "reactor or threads.") var mode = "reactor"
    @Flag(help: "Run each client inside pool.withAffinity (on a reactor thread).") var affinity = false

    func run() async throws {
        guard let ioMode = PostgresIOMode(rawValue: mode) else { throw ValidationError("mode must be reactor or threads") }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let pool = PostgresPool(
            configuration: PostgresPoolConfiguration(
                connection: PostgresConnectionConfiguration(url: url, ioMode: ioMode),
                maxConnections: connections, minConnections: connections),
            logger: logger)
        defer { pool.shutdownNow() }
        let clients = self.clients ?? connections
        let warmUp = ContinuousClock.now + .seconds(1)
        let end = warmUp + .seconds(duration)
        let results = try await withThrowingTaskGroup(of: (Int, LatencyRecorder).self) { group in
            for client in 0..<clients {
                group.addTask {
                    try await affinity ? pool.withAffinity { try await Self.client(pool, client, warmUp, end) }
                        : Self.client(pool, client, warmUp, end)
                }
            }
            return try await group.reduce(into: [(Int, LatencyRecorder)]()) { $0.append($1) }
        }
        let total = results.map(\.0).reduce(0, +)
        let latencies = LatencyRecorder.merge(results.map(\.1))
        let rate = Double(total) / Double(duration)
        print(
            "bench=pool_select client=swift-\(mode)\(affinity ? "-affinity" : "") connections=\(connections) tasks=\(clients) seconds=\(duration) queries=\(total) "
                + String(format: "qps=%.0f p50_ms=%.3f p99_ms=%.3f", rate, latencies.percentile(0.5), latencies.percentile(0.99)))
    }

    /// One client: sequential queries until `end`, counted from `warmUp`.
    static func client(
        _ pool: PostgresPool, _ client: Int, _ warmUp: ContinuousClock.Instant, _ end: ContinuousClock.Instant
    ) async throws -> (Int, LatencyRecorder) {
        var count = 0
        var latencies = LatencyRecorder()
        var value = client * 1_000_003
        while true {
            let start = ContinuousClock.now
            if start >= end { break }
            value = (value &* 1_103_515_245 &+ 12345) & 0x7fff_ffff
            let rows = try await pool.query("SELECT \(value % 1_000_000)::int")
            guard rows.count == 1 else { throw ValidationError("unexpected result") }
            if start >= warmUp {
                count += 1
                latencies.record(ContinuousClock.now - start)
            }
        }
        return (count, latencies)
    }
}
