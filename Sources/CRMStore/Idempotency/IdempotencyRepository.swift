public import CRMDomain
public import Foundation
public import PostgresClient

/// `Idempotency-Key` records. A key's row says which request it was first used for and, once a
/// request with it has committed, the response to replay. Who is working on a key is not stored:
/// the attempt holds the row's lock in its own transaction, so an attempt that dies (its
/// connection lost, its process killed) lets go of the key when the database ends its
/// transaction, and a committed attempt's response was written in that same transaction.
public struct IdempotencyRepository: Sendable {
    public init() {}

    /// A key's row as an attempt that locked it sees it.
    public struct Record: Sendable {
        public var requestHash: [UInt8]
        /// The response of the request that committed with this key, if one did.
        public var response: StoredResponse?
        /// Older than its 24 hours: the key is free for any request.
        public var expired: Bool
    }

    /// Makes sure the key has a row (outside any transaction, so a concurrent attempt sees it at
    /// once). Never waits for an attempt that holds the row: `DO NOTHING` does not lock it (an
    /// expired record is renewed by the attempt that locks it, `retake`).
    public func register(
        ownerID: UUID, apiKeyID: UUID, key: String, requestHash: [UInt8], in db: some PostgresQueryable
    ) async throws {
        try await db.execute(
            """
            INSERT INTO idempotency_keys (owner_id, api_key_id, key, request_hash, state)
            VALUES (\(ownerID), \(apiKeyID), \(key), \(PostgresBytes(requestHash)), 'in_progress')
            ON CONFLICT (owner_id, api_key_id, key) DO NOTHING
            """)
    }

    /// Locks the key's row for the calling transaction; nil when another attempt's transaction
    /// holds it (that attempt is still running). Never waits.
    public func lock(ownerID: UUID, apiKeyID: UUID, key: String, in tx: PostgresTransaction) async throws -> Record? {
        try await tx.query(
            """
            SELECT request_hash, state, status_code, response_headers, response_body, expires_at < now() AS expired
            FROM idempotency_keys
            WHERE owner_id = \(ownerID) AND api_key_id = \(apiKeyID) AND key = \(key)
            FOR UPDATE SKIP LOCKED
            """
        ).first(named: { r in
            let requestHash = try r("request_hash", as: PostgresBytes.self).bytes
            let state: String = try r("state")
            let status: Int? = try r("status_code")
            let headers: [String: String]? = try r.json("response_headers")
            let body = try r("response_body", as: PostgresBytes?.self)?.bytes
            var response: StoredResponse?
            if state == "completed", let status {
                response = StoredResponse(status: status, headers: headers ?? [:], body: body ?? [])
            }
            return Record(requestHash: requestHash, response: response, expired: try r("expired"))
        })
    }

    /// The locked key now belongs to this request (its earlier attempts committed nothing, or its
    /// record expired): a fresh record for 24 hours.
    public func retake(ownerID: UUID, apiKeyID: UUID, key: String, requestHash: [UInt8], in tx: PostgresTransaction)
        async throws
    {
        try await tx.execute(
            """
            UPDATE idempotency_keys SET request_hash = \(PostgresBytes(requestHash)), state = 'in_progress', status_code = NULL,
                   response_headers = NULL, response_body = NULL, created_at = now(), expires_at = now() + interval '24 hours'
            WHERE owner_id = \(ownerID) AND api_key_id = \(apiKeyID) AND key = \(key)
            """)
    }

    /// Stores the response in the transaction that made it, so it commits with the request's writes.
    public func complete(
        ownerID: UUID, apiKeyID: UUID, key: String, response: StoredResponse, in tx: PostgresTransaction
    ) async throws {
        try await tx.execute(
            """
            UPDATE idempotency_keys SET state = 'completed', status_code = \(response.status),
                   response_headers = \(try PostgresJSON(encoding: response.headers)),
                   response_body = \(PostgresBytes(response.body))
            WHERE owner_id = \(ownerID) AND api_key_id = \(apiKeyID) AND key = \(key)
            """)
    }

    /// Housekeeping: drops expired records; returns how many.
    public func pruneExpired(limit: Int = 10_000, in db: some PostgresQueryable) async throws -> Int {
        try await db.execute(
            """
            DELETE FROM idempotency_keys WHERE ctid IN (
                SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            """)
    }
}
