public import CRMDomain
import CRMStore
public import Foundation
public import JobQueue
public import PostgresClient

/// A record that belongs to one dealer and changes under optimistic concurrency.
public protocol DealerOwned: Sendable {
    var id: UUID { get }
    var dealerID: UUID { get }
    var version: Int { get }
}

extension Lead: DealerOwned {}
extension Customer: DealerOwned {}
extension Vehicle: DealerOwned {}
extension StaffMember: DealerOwned {}
extension Complaint: DealerOwned {}
extension Callback: DealerOwned {}

/// One use case at work inside its transaction: the caller, the dealer whose data it changes,
/// the clock's instant, and the transaction itself. Everything the use case needs goes through
/// `tx` (never a second pooled connection); what it leaves besides its rows (audit entries, jobs)
/// is written through here, in the same transaction.
public struct UseCase: Sendable {
    public let tx: PostgresTransaction
    public let context: CallContext
    public let dealer: Dealer
    /// The instant the use case happens at (the context's clock, read once).
    public let now: Date
    let audit: AuditRepository
    let queue: JobQueue

    /// The dealer's calendar date at `now`.
    public var today: LocalDate { dealer.today(at: now) }
    public var actor: Actor { context.actor }
    public var principal: Principal { context.principal }

    /// Appends an entry to the audit trail.
    public func record(
        _ action: AuditAction, entity: String, id entityID: UUID, customerID: UUID?, changes: [FieldChange] = []
    ) async throws {
        try await audit.record(
            dealerID: dealer.id, customerID: customerID, entity: entity, entityID: entityID, action: action, changes: changes,
            actor: actor, at: now, in: tx)
    }

    /// Enqueues background work that exists if and only if this use case commits.
    @discardableResult
    public func enqueue(_ job: JobRequest) async throws -> EnqueueResult {
        try await queue.enqueue(job, in: tx)
    }
}

/// Runs use cases the one way every domain does: permission, tenant scope, one transaction, the
/// record locked (`SELECT ... FOR UPDATE`), 404 when the caller cannot see it, 412 when the
/// caller's version is stale, the dealer (time zone, settings) read through the transaction,
/// the clock, then the use case's own body (the domain rule and the repository's save).
public struct UseCaseRunner: Sendable {
    let pool: PostgresPool
    let access: AccessService
    let queue: JobQueue
    let audit = AuditRepository()

    public init(pool: PostgresPool, access: AccessService, queue: JobQueue) {
        self.pool = pool
        self.access = access
        self.queue = queue
    }

    /// Creates something for a dealer: the caller's own dealer, or the one a group key names.
    public func create<T: Sendable>(
        _ permission: Permission, dealer requested: UUID?, context: CallContext,
        _ body: (UseCase) async throws -> T
    ) async throws -> T {
        try Authorization.require(permission, context.principal)
        return try await pool.withTransaction { tx in
            let dealer = try await access.writeDealer(context.principal, requested: requested, in: tx)
            return try await body(step(tx, context: context, dealer: dealer))
        }
    }

    /// Changes one record the caller can see: locked by `lock` in the caller's tenant scope,
    /// `notFound` when it is not there, 412 when `expectedVersion` (nil: any) is not its version.
    public func change<Record: DealerOwned, T: Sendable>(
        _ permission: Permission, expectedVersion: Int?, context: CallContext, notFound: String,
        lock: (TenantScope, PostgresTransaction) async throws -> Record?,
        _ body: (Record, UseCase) async throws -> T
    ) async throws -> T {
        try Authorization.require(permission, context.principal)
        return try await pool.withTransaction { tx in
            guard let record = try await lock(context.principal.readScope, tx) else { throw ServiceError.notFound(notFound) }
            if let expectedVersion, expectedVersion != record.version {
                throw ServiceError.stale(currentVersion: record.version)
            }
            guard let dealer = try await access.dealer(record.dealerID, in: tx) else { throw ServiceError.notFound(notFound) }
            return try await body(record, step(tx, context: context, dealer: dealer))
        }
    }

    /// Work on one dealer's data that no single record anchors (a periodic job's run for the
    /// dealer, a merge of two records). Nil when the dealer does not exist.
    public func run<T: Sendable>(
        dealer dealerID: UUID, context: CallContext, _ body: (UseCase) async throws -> T
    ) async throws -> T? {
        try await pool.withTransaction { tx in
            guard let dealer = try await access.dealer(dealerID, in: tx) else { return nil }
            return try await body(step(tx, context: context, dealer: dealer))
        }
    }

    private func step(_ tx: PostgresTransaction, context: CallContext, dealer: Dealer) -> UseCase {
        UseCase(tx: tx, context: context, dealer: dealer, now: context.clock.now, audit: audit, queue: queue)
    }
}

extension CallContext {
    /// The system's own work (periodic jobs, the worker): no API key, no tenant; its audit
    /// entries name no actor. Used only where no permission is checked.
    public static func system(_ clock: any BusinessClock) -> CallContext {
        var context = CallContext(
            principal: Principal(keyID: UUID(), role: .admin, groupID: UUID(), dealerID: nil, staffID: nil), requestID: nil,
            clock: clock)
        context.isSystem = true
        return context
    }
}

/// Rows written at once after which a use case refreshes its tables' planner statistics rather
/// than leave them to autovacuum (which may come minutes later, after the next statement was
/// planned on the old ones).
let plannerStatisticsBurst = 5_000
