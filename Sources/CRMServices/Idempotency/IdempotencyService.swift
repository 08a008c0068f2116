public import CRMDomain
import CRMStore
public import Foundation
public import PostgresClient

/// `Idempotency-Key` records: the first request with a key claims it; its successful response
/// is kept for 24 hours and replayed to retries with the same key and request.
public struct IdempotencyService: Sendable {
    let pool: PostgresPool
    let repository = IdempotencyRepository()

    public init(pool: PostgresPool) { self.pool = pool }

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

    public func claim(_ key: Key, requestHash: [UInt8]) async throws -> IdempotencyClaim {
        try await repository.claim(ownerID: key.owner, apiKeyID: key.apiKey, key: key.value, requestHash: requestHash, in: pool)
    }

    public func complete(_ key: Key, response: StoredResponse) async throws {
        try await repository.complete(ownerID: key.owner, apiKeyID: key.apiKey, key: key.value, response: response, in: pool)
    }

    /// Forgets a claim whose request failed (nothing was written): the key may be used again.
    public func release(_ key: Key) async throws {
        try await repository.release(ownerID: key.owner, apiKeyID: key.apiKey, key: key.value, in: pool)
    }
}
