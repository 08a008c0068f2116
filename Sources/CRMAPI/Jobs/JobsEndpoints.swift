import CRMContract
import CRMDomain
import CRMServices
import Foundation
import JobQueue
import OpenAPIRuntime

extension Components.Schemas.Job {
    init(_ job: JobRecord) throws {
        self.init(
            id: job.id, kind: job.kind, queue: job.queue, state: try Input.convert(job.state), priority: job.priority,
            attempt: job.attempt, maxAttempts: job.maxAttempts,
            args: try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(job.argumentsJSON.utf8)), runAt: job.runAt,
            attemptedAt: job.attemptedAt, attemptedBy: job.attemptedBy,
            errors: job.errors.map { .init(attempt: $0.attempt, at: $0.at, error: $0.error) }, uniqueKey: job.uniqueKey,
            dealerId: job.dealerID.map(Output.id), createdAt: job.createdAt, finalizedAt: job.finalizedAt)
    }
}

/// `/v1/jobs`: the background queue for administrators.
extension APIHandler {
    func listJobs(_ input: Operations.ListJobs.Input) async throws -> Operations.ListJobs.Output {
        let query = input.query
        let page = try await services.jobs.list(
            filter: .init(state: try query.state.map { try Input.convert($0) }, kind: query.kind, queue: query.queue),
            dealerFilter: try Input.id(query.dealerId, field: "dealer_id"),
            page: try await pageRequest(limit: query.limit, cursor: query.cursor), context: try context())
        return .ok(.init(body: .json(.init(data: try page.items.map(Components.Schemas.Job.init), nextCursor: try await nextCursor(page)))))
    }

    func getJob(_ input: Operations.GetJob.Input) async throws -> Operations.GetJob.Output {
        let job = try await services.jobs.get(input.path.jobId, context: try context())
        return .ok(.init(body: .json(try .init(job))))
    }

    func retryJob(_ input: Operations.RetryJob.Input) async throws -> Operations.RetryJob.Output {
        let job = try await services.jobs.retry(input.path.jobId, context: try context())
        return .ok(.init(body: .json(try .init(job))))
    }

    func cancelJob(_ input: Operations.CancelJob.Input) async throws -> Operations.CancelJob.Output {
        let job = try await services.jobs.cancel(input.path.jobId, context: try context())
        return .ok(.init(body: .json(try .init(job))))
    }
}
