import Foundation

/// A second private cluster that tests may stop and restart (`scripts/test` starts it and sets
/// `CRM_TEST_CHAOS_DATABASE_URL`, `CRM_TEST_CHAOS_CLUSTER` and `CRM_TEST_PGCTL`). Tests that
/// touch it run one at a time through `exclusive`, whatever suite they belong to.
public actor ChaosCluster {
    public static let shared = ChaosCluster()

    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public nonisolated var adminURL: String? { ProcessInfo.processInfo.environment["CRM_TEST_CHAOS_DATABASE_URL"] }
    public nonisolated var isAvailable: Bool { adminURL != nil && ProcessInfo.processInfo.environment["CRM_TEST_PGCTL"] != nil }

    /// Runs `body` while no other test uses the chaos cluster.
    public func exclusive<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        }
        busy = true
        defer {
            if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
        }
        return try await body()
    }

    public nonisolated func stop() async throws { try await control("stop") }
    public nonisolated func start() async throws { try await control("start") }
    public nonisolated func restart() async throws { try await control("restart") }

    private nonisolated func control(_ action: String) async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let script = environment["CRM_TEST_PGCTL"], let cluster = environment["CRM_TEST_CHAOS_CLUSTER"] else {
            throw ChaosError.notConfigured
        }
        try await run(["/bin/bash", script, cluster, action])
    }

    public enum ChaosError: Error {
        case notConfigured
    }
}
