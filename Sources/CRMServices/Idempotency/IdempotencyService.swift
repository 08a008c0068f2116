public import CRMDomain
import CRMStore
public import Foundation
public import JobQueue
import Logging
public import PostgresClient

/// `Idempotency-Key`: a request with a key runs at most once in effect, however often it is
/// retried and whatever fails in between.
///
/// The key's row is registered first (on its own); then the attempt opens one transaction that
/// everything the request does joins (`PostgresPool.withSharedTransaction`), locks the row in it
/// (`SKIP LOCKED`: a running attempt holds it, so a concurrent retry is told to wait, never
/// blocked), runs the request, and writes the response into the row in that same transaction.
/// So a committed write always replays; an attempt that fails commits nothing and leaves the key
/// free at once; an attempt that dies (connection lost, process killed, even during COMMIT)
/// leaves it free as soon as the database ends its transaction, at the latest after the lease
/// (`idle_in_transaction_session_timeout` of the request's transaction), and the next attempt finds
/// either the committed response or nothing: never a key released blindly.
public struct IdempotencyService: Sendable {
    let pool: PostgresPool
    let repository = IdempotencyRepository()
    /// How long a request's transaction may sit idle (its client or process gone) before the
    /// database ends it and the key is free again.
    public let lease: Duration

    public init(pool: PostgresPool, lease: Duration = .seconds(10)) {
        self.pool = pool
        self.lease = lease
    }

    /// The key as scoped: per calling API key, under its dealer (or group).
    public struct Key: Sendable {
        public var owner: UUID
        public var apiKey: UUID
        public var value: String

        public init(principal: Principal, value: String) {
            self.owner = principal.dealerID ?? principal.groupID
            self.apiKey = principal.keyID
            self.value = value
        }
    }

    /// What became of a request with a key.
    public enum Outcome<T> {
        /// This attempt ran the request (its result, stored for replay if it succeeded).
        case performed(T)
        /// An earlier attempt committed: its response.
        case replay(StoredResponse)
        /// Another attempt is running right now.
        case inProgress
        /// The key was used for another request that committed.
        case mismatch
    }

    /// Runs `request` once for `key`. `request` returns its result and, when it succeeded, the
    /// response to keep; a result without one (a failure) rolls back everything it did.
    public func perform<T>(
        _ key: Key, requestHash: [UInt8], _ request: () async throws -> (result: T, keep: StoredResponse?)
    ) async throws -> Outcome<T> {
        try await repository.register(
            ownerID: key.owner, apiKeyID: key.apiKey, key: key.value, requestHash: requestHash, in: pool)
        var failed: T?
        do {
            return try await pool.withSharedTransaction { tx -> Outcome<T> in
                try await tx.setIdleInTransactionTimeout(lease)
                guard let record = try await repository.lock(ownerID: key.owner, apiKeyID: key.apiKey, key: key.value, in: tx)
                else { return .inProgress }
                if !record.expired, let response = record.response {
                    return record.requestHash == requestHash ? .replay(response) : .mismatch
                }
                if record.expired || record.requestHash != requestHash {
                    // Earlier attempts with this key committed nothing, or its record expired: it
                    // is this request's now.
                    try await repository.retake(
                        ownerID: key.owner, apiKeyID: key.apiKey, key: key.value, requestHash: requestHash, in: tx)
                }
                let (result, keep) = try await request()
                guard let keep else {
                    failed = result
                    throw RollBack()
                }
                try await repository.complete(ownerID: key.owner, apiKeyID: key.apiKey, key: key.value, response: keep, in: tx)
                return .performed(result)
            }
        } catch is RollBack {
            guard let failed else { throw RollBack() }
            return .performed(failed)
        }
    }

    private struct RollBack: Error {}

    /// Deletes expired records (hourly, `idempotency.prune`).
    public func pruneExpired() async throws -> Int {
        var total = 0
        while true {
            let deleted = try await repository.pruneExpired(in: pool)
            total += deleted
            if deleted < 10_000 { return total }
        }
    }

    static let pruneKind = "idempotency.prune"
}

extension DomainModule {
    /// `Idempotency-Key` records and their hourly prune.
    public static let idempotency = DomainModule(
        name: "idempotency", grants: [],
        jobs: { services in
            [
                JobKind(name: IdempotencyService.pruneKind, timeout: .seconds(600)) { context in
                    let deleted = try await services.idempotency.pruneExpired()
                    if deleted > 0 { context.logger.info("expired idempotency keys deleted", metadata: ["count": "\(deleted)"]) }
                    return .completed
                }
            ]
        },
        schedules: { _ in
            [
                PeriodicJob(
                    name: IdempotencyService.pruneKind, recurrence: .hourly, maxCatchUp: 1,
                    makeJob: { _, _ in JobRequest(kind: IdempotencyService.pruneKind, priority: 4, maxAttempts: 3) })
            ]
        })
}
