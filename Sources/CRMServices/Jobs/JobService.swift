public import CRMDomain
public import Foundation
import CRMStore
public import JobQueue
public import PostgresClient

/// The job queue as admins see it: list, read, retry, cancel, within the caller's tenancy.
///
/// A dealer key sees its dealer's jobs; a group key its dealers' jobs (`dealerFilter` narrows to
/// one). The system's own jobs (housekeeping, with no dealer) belong to no tenant: no key sees
/// or touches them (one tenant must not cancel everyone's prune); operators watch them through
/// `/metrics` and the database.
public final class JobService: Sendable {
    let kit: ServiceKit
    var pool: PostgresPool { kit.pool }
    var access: AccessService { kit.access }
    var queue: JobQueue { kit.queue }

    init(_ kit: ServiceKit) { self.kit = kit }

    public func list(
        filter: JobQueue.Filter, dealerFilter: UUID?, page: PageRequest, context: CallContext
    ) async throws -> Page<JobRecord> {
        try Authorization.require(.jobsRead, context.principal)
        let scope = try await scope(context.principal, dealerFilter: dealerFilter)
        var before: Int64?
        if let cursor = page.cursor {
            _ = try cursor.values(for: "jobs.id", count: 1)
            before = try cursor.integer(0)
        }
        let rows = try await queue.jobs(filter: filter, scope: scope, before: before, limit: page.limit + 1, in: pool)
        return Page.from(rows, limit: page.limit, sort: "jobs.id") { [String($0.id)] }
    }

    public func get(_ id: Int64, context: CallContext) async throws -> JobRecord {
        try Authorization.require(.jobsRead, context.principal)
        let scope = try await scope(context.principal, dealerFilter: nil)
        guard let job = try await queue.job(id: id, scope: scope, in: pool) else { throw ServiceError.notFound("No such job.") }
        return job
    }

    /// Runs a failed, discarded, cancelled or scheduled job again now.
    public func retry(_ id: Int64, context: CallContext) async throws -> JobRecord {
        try Authorization.require(.jobsManage, context.principal)
        let scope = try await scope(context.principal, dealerFilter: nil)
        return try await mapped { try await queue.retry(id: id, scope: scope) }
    }

    /// Cancels a job that has not finished.
    public func cancel(_ id: Int64, context: CallContext) async throws -> JobRecord {
        try Authorization.require(.jobsManage, context.principal)
        let scope = try await scope(context.principal, dealerFilter: nil)
        return try await mapped { try await queue.cancel(id: id, scope: scope) }
    }

    /// The condition on `jobs.dealer_id` for this caller.
    func scope(_ caller: Principal, dealerFilter: UUID?) async throws -> PostgresQuery {
        try await access.readScope(caller, dealerFilter: dealerFilter).condition()
    }

    private func mapped(_ body: () async throws -> JobRecord) async throws -> JobRecord {
        do {
            return try await body()
        } catch let error as JobQueueError {
            switch error {
            case .notFound: throw ServiceError.notFound("No such job.")
            case .notRetryable, .notCancellable: throw ServiceError.conflict(error.description.capitalizedFirst + ".")
            case .invalidRequest: throw error
            }
        }
    }
}

extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
