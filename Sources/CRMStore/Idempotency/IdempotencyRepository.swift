public import CRMDomain
public import Foundation
public import PostgresClient

/// Stored responses for `Idempotency-Key` replays.
public struct IdempotencyRepository: Sendable {
    public init() {}

    /// Claims `key` for `requestHash`, atomically: of two concurrent first uses one claims, the
    /// other sees `inProgress`. Expired records are replaced.
    public func claim(
        ownerID: UUID, apiKeyID: UUID, key: String, requestHash: [UInt8], in db: some PostgresQueryable
    ) async throws -> IdempotencyClaim {
        let inserted = try await db.queryFirst(
            """
            INSERT INTO idempotency_keys AS i (owner_id, api_key_id, key, request_hash, state)
            VALUES (\(ownerID), \(apiKeyID), \(key), \(PostgresBytes(requestHash)), 'in_progress')
            ON CONFLICT (owner_id, api_key_id, key) DO UPDATE
                SET request_hash = excluded.request_hash, state = 'in_progress', status_code = NULL,
                    response_headers = NULL, response_body = NULL, created_at = now(),
                    expires_at = now() + interval '24 hours'
                WHERE i.expires_at < now()
            RETURNING 1
            """)
        if inserted != nil { return .claimed }
        guard
            let row = try await db.queryFirst(
                """
                SELECT request_hash, state, status_code, response_headers, response_body FROM idempotency_keys
                WHERE owner_id = \(ownerID) AND api_key_id = \(apiKeyID) AND key = \(key)
                """)
        else { return .inProgress }
        guard try row.decode(0, as: PostgresBytes.self).bytes == requestHash else { return .mismatch }
        guard try row.decode(1, as: String.self) == "completed", let status = try row.decode(2, as: Int?.self) else {
            return .inProgress
        }
        let headers = try row.decode(3, as: PostgresJSON?.self)?.decode([String: String].self) ?? [:]
        let body = try row.decode(4, as: PostgresBytes?.self)?.bytes ?? []
        return .replay(StoredResponse(status: status, headers: headers, body: body))
    }

    public func complete(
        ownerID: UUID, apiKeyID: UUID, key: String, response: StoredResponse, in db: some PostgresQueryable
    ) async throws {
        try await db.execute(
            """
            UPDATE idempotency_keys SET state = 'completed', status_code = \(response.status),
                   response_headers = \(try PostgresJSON(encoding: response.headers)),
                   response_body = \(PostgresBytes(response.body))
            WHERE owner_id = \(ownerID) AND api_key_id = \(apiKeyID) AND key = \(key)
            """)
    }

    /// Forgets a claim whose request failed in a way worth retrying (5xx): the key may be reused.
    public func release(ownerID: UUID, apiKeyID: UUID, key: String, in db: some PostgresQueryable) async throws {
        try await db.execute(
            """
            DELETE FROM idempotency_keys
            WHERE owner_id = \(ownerID) AND api_key_id = \(apiKeyID) AND key = \(key) AND state = 'in_progress'
            """)
    }

    /// Housekeeping: drops expired records; returns how many.
    public func pruneExpired(limit: Int = 10_000, in db: some PostgresQueryable) async throws -> Int {
        try await db.execute(
            """
            DELETE FROM idempotency_keys WHERE ctid IN (
                SELECT ctid FROM idempotency_keys WHERE expires_at < now() LIMIT \(limit))
            """)
    }
}
