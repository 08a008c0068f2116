import CRMAPI
import CRMApp
import CRMServices
import CRMTestSupport
import Foundation
import HummingbirdTesting
import JobQueue
import PostgresClient
import Testing

@Suite("Job administration endpoints")
struct JobsEndpointTests {
    @Test("admins list, read, cancel and retry their own dealer's jobs; other dealers' jobs are 404; other roles 403")
    func administration() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let queue = app.services.queue
            let jobA = try #require(
                try await queue.enqueue(
                    try JobRequest(kind: "welcome_pack", arguments: ["customer": "x"], runAt: Date().addingTimeInterval(600), dealerID: tenants.dealerA)
                ).id)
            let jobB = try #require(try await queue.enqueue(JobRequest(kind: "welcome_pack", dealerID: tenants.dealerB)).id)
            let system = try #require(try await queue.enqueue(JobRequest(kind: "queue.prune")).id)

            let list = try await app.client.call(.get, "/v1/jobs", key: tenants.keyA)
            #expect(list.status == .ok, "\(list.text)")
            #expect(list.items.compactMap { $0["id"] as? Int } == [Int(jobA)])
            let job = list.items.first ?? [:]
            #expect(job["state"] as? String == "scheduled")
            #expect((job["args"] as? [String: Any])?["customer"] as? String == "x")
            #expect(job["dealer_id"] as? String == tenants.dealerA.uuidString.lowercased())

            // Another dealer's job, and the system's, are not there for a dealer key.
            #expect(try await app.client.call(.get, "/v1/jobs/\(jobB)", key: tenants.keyA).status == .notFound)
            #expect(try await app.client.call(.get, "/v1/jobs/\(system)", key: tenants.keyA).status == .notFound)
            #expect(try await app.client.call(.post, "/v1/jobs/\(jobB)/cancellation", key: tenants.keyA).status == .notFound)
            #expect(try await jobStatus(jobB, app.pool) == "available")

            let cancelled = try await app.client.call(.post, "/v1/jobs/\(jobA)/cancellation", key: tenants.keyA)
            #expect(cancelled.status == .ok, "\(cancelled.text)")
            #expect(cancelled["state"] as? String == "cancelled")
            #expect(try await app.client.call(.post, "/v1/jobs/\(jobA)/cancellation", key: tenants.keyA).status == .conflict)
            let retried = try await app.client.call(.post, "/v1/jobs/\(jobA)/retry", key: tenants.keyA)
            #expect(retried["state"] as? String == "available")
            let filtered = try await app.client.call(.get, "/v1/jobs?state=cancelled", key: tenants.keyA)
            #expect(filtered.items.isEmpty)

            // Group admins see their dealers' jobs (never the system's); dealer_id narrows.
            let groupAdmin = try await Tenants.key(app.services, group: tenants.groupID, dealer: nil, role: .admin)
            let all = try await app.client.call(.get, "/v1/jobs?limit=1", key: groupAdmin)
            #expect(all.items.compactMap { $0["id"] as? Int } == [Int(jobB)])
            let cursor = try #require(all["next_cursor"] as? String)
            let next = try await app.client.call(.get, "/v1/jobs?limit=1&cursor=\(q(cursor))", key: groupAdmin)
            #expect(next.items.compactMap { $0["id"] as? Int } == [Int(jobA)])
            #expect(next["next_cursor"] == nil)
            #expect(try await app.client.call(.get, "/v1/jobs/\(system)", key: groupAdmin).status == .notFound)
            #expect(try await app.client.call(.post, "/v1/jobs/\(system)/cancellation", key: groupAdmin).status == .notFound)
            let narrowed = try await app.client.call(.get, "/v1/jobs?dealer_id=\(tenants.dealerB)", key: groupAdmin)
            #expect(narrowed.items.compactMap { $0["id"] as? Int } == [Int(jobB)])

            // Roles: a manager reads, only an admin acts; sales sees nothing.
            let manager = try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .manager)
            let sales = try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .sales)
            #expect(try await app.client.call(.get, "/v1/jobs/\(jobA)", key: manager).status == .ok)
            #expect(try await app.client.call(.post, "/v1/jobs/\(jobA)/cancellation", key: manager).status == .forbidden)
            #expect(try await app.client.call(.get, "/v1/jobs", key: sales).status == .forbidden)
            // Ids the contract refuses.
            #expect(try await app.client.call(.get, "/v1/jobs/0", key: tenants.keyA).status == .notFound)
            #expect(try await app.client.call(.get, "/v1/jobs/abc", key: tenants.keyA).status == .notFound)
            #expect(try await app.client.call(.get, "/v1/jobs?state=lost", key: tenants.keyA).status == .unprocessableContent)
        }
    }

    @Test("/metrics shows the queue: depth by state and kind, waits, run times, completions, failures")
    func queueMetrics() async throws {
        try await withApp { (app: TestApp) in
            let kind = "metrics_probe_\(UInt32.random(in: 0...UInt32.max))"
            struct Broken: Error {}
            var registry = JobRegistry()
            registry.register(kind, retryDelay: { _ in .milliseconds(10) }) { context in
                if context.attempt == 1, try context.arguments([String: Bool].self)["fail"] == true { throw Broken() }
                return .completed
            }
            var configuration = WorkerConfiguration(queues: ["default": 2], id: "metrics-worker")
            configuration.wakeup = .poll
            configuration.pollInterval = .milliseconds(50)
            configuration.metricsInterval = .milliseconds(50)
            let worker = JobWorker(
                pool: app.pool, queue: app.services.queue, registry: registry, listener: nil, configuration: configuration,
                logger: TestDatabase.logger)
            let running = Task { try await worker.run() }
            _ = try await app.services.queue.enqueue(try JobRequest(kind: kind, arguments: ["fail": false]))
            _ = try await app.services.queue.enqueue(try JobRequest(kind: kind, arguments: ["fail": true], maxAttempts: 1))
            var text = ""
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                text = try await app.client.call(.get, "/metrics").text
                if text.contains(#"jobs{state="completed",kind="\#(kind)"} 1"#), text.contains(#"jobs{state="discarded",kind="\#(kind)"} 1"#) {
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            worker.beginShutdown()
            try await running.value
            #expect(text.contains(#"jobs{state="completed",kind="\#(kind)"} 1"#), "\(text.split(separator: "\n").filter { $0.contains(kind) })")
            #expect(text.contains(#"jobs{state="discarded",kind="\#(kind)"} 1"#))
            #expect(text.contains(#"jobs_completed_total{kind="\#(kind)"} 1"#))
            #expect(text.contains(#"job_failures_total{kind="\#(kind)"} 1"#))
            #expect(text.contains(#"job_run_seconds_count{kind="\#(kind)"} 2"#))
            #expect(text.contains(#"job_wait_seconds_count{kind="\#(kind)"} 2"#))
        }
    }

    @Test("WORKER_QUEUES and the worker variables are parsed, and a bad value names the variable")
    func workerConfiguration() throws {
        let configuration = try ServiceConfiguration(
            environment: ["DATABASE_URL": "postgresql://x/y", "WORKER_QUEUES": "default=10, reminders=4", "JOB_LEASE_S": "60"])
        #expect(configuration.workerQueues == ["default": 10, "reminders": 4])
        let worker = configuration.workerConfiguration(id: "w")
        #expect(worker.lease == .seconds(60))
        #expect(worker.wakeup == .listen)
        #expect(worker.queues == ["default": 10, "reminders": 4])
        for value in ["default", "default=0", "default=5,default=6", "bad name=3", ""] where !value.isEmpty {
            #expect(throws: ConfigurationError.self) {
                try ServiceConfiguration(environment: ["DATABASE_URL": "postgresql://x/y", "WORKER_QUEUES": value])
            }
        }
        #expect(throws: ConfigurationError.self) {
            try ServiceConfiguration(environment: ["DATABASE_URL": "postgresql://x/y", "WORKER_WAKEUP": "smoke-signals"])
        }
    }
}

func jobStatus(_ id: Int64, _ pool: PostgresPool) async throws -> String? {
    try await pool.queryFirst("SELECT state FROM jobs WHERE id = \(id)")?.decode(0, as: String.self)
}
