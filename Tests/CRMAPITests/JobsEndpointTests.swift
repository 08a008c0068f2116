import CRMAPI
import CRMApp
import CRMClient
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

            let admin = app.api(tenants.keyA)
            let list = try await admin.listJobs()
            #expect(status(of: list) == .ok, "\(list)")
            let jobs = try list.ok.body.json.data
            #expect(jobs.map(\.id) == [jobA])
            let job = jobs.first
            #expect(job?.state == .scheduled)
            #expect(job?.args.value["customer"] as? String == "x")
            #expect(job?.dealerId == tenants.dealerA.uuidString.lowercased())

            // Another dealer's job, and the system's, are not there for a dealer key.
            #expect(try await status(of: admin.getJob(path: .init(jobId: jobB))) == .notFound)
            #expect(try await status(of: admin.getJob(path: .init(jobId: system))) == .notFound)
            #expect(try await status(of: admin.cancelJob(path: .init(jobId: jobB))) == .notFound)
            #expect(try await jobStatus(jobB, app.pool) == "available")

            let cancelled = try await admin.cancelJob(path: .init(jobId: jobA))
            #expect(status(of: cancelled) == .ok, "\(cancelled)")
            #expect(try cancelled.ok.body.json.state == .cancelled)
            #expect(try await status(of: admin.cancelJob(path: .init(jobId: jobA))) == .conflict)
            let retried = try await admin.retryJob(path: .init(jobId: jobA))
            #expect(try retried.ok.body.json.state == .available)
            let filtered = try await admin.listJobs(query: .init(state: .cancelled)).ok.body.json
            #expect(filtered.data.isEmpty)

            // Group admins see their dealers' jobs (never the system's); dealer_id narrows.
            let groupAdmin = app.api(try await Tenants.key(app.services, group: tenants.groupID, dealer: nil, role: .admin))
            let all = try await groupAdmin.listJobs(query: .init(limit: 1)).ok.body.json
            #expect(all.data.map(\.id) == [jobB])
            let cursor = try #require(all.nextCursor)
            let next = try await groupAdmin.listJobs(query: .init(limit: 1, cursor: cursor)).ok.body.json
            #expect(next.data.map(\.id) == [jobA])
            #expect(next.nextCursor == nil)
            #expect(try await status(of: groupAdmin.getJob(path: .init(jobId: system))) == .notFound)
            #expect(try await status(of: groupAdmin.cancelJob(path: .init(jobId: system))) == .notFound)
            let narrowed = try await groupAdmin.listJobs(query: .init(dealerId: tenants.dealerB.uuidString)).ok.body.json
            #expect(narrowed.data.map(\.id) == [jobB])

            // Roles: a manager reads, only an admin acts; sales sees nothing.
            let manager = app.api(try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .manager))
            let sales = app.api(try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .sales))
            #expect(try await status(of: manager.getJob(path: .init(jobId: jobA))) == .ok)
            #expect(try await status(of: manager.cancelJob(path: .init(jobId: jobA))) == .forbidden)
            #expect(try await status(of: sales.listJobs()) == .forbidden)
            // Ids the contract refuses. Raw: the typed client would not send "abc" or "lost" at
            // all (an Int64 path, an enum query), and these check the contract's refusal of the raw URL.
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
                text = try await bodyText(app.api(nil).getMetrics().ok.body.plainText)
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
