public import CRMDomain
public import Foundation
public import PostgresClient

/// Consent per customer and channel: an append-only history and the current state.
public struct ConsentRepository: Sendable {
    public init() {}

    /// Appends an event and makes it the current state unless a later-effective one exists.
    /// Both writes are deferred (`executeDeferred`): the event's id is made here and nothing is
    /// read back, so inside a use case they travel with its next statement or its commit; a
    /// customer created with three consents took six round trips more before.
    public func record(
        dealerID: UUID, customerID: UUID, channel: ConsentChannel, status: ConsentStatus, effectiveAt: Date,
        source: ConsentSource, note: String?, actor: Actor, now: Date, in db: some PostgresQueryable
    ) async throws -> ConsentEvent {
        let id = UUID()
        try await db.executeDeferred(
            """
            INSERT INTO consent_events (dealer_id, id, customer_id, channel, status, effective_at, source, note,
                                        actor_key_id, actor_staff_id, recorded_at)
            VALUES (\(dealerID), \(id), \(customerID), \(channel), \(status), \(effectiveAt), \(source), \(note),
                    \(actor.keyID), \(actor.staffID), \(now))
            """)
        try await db.executeDeferred(
            """
            INSERT INTO consents AS s (dealer_id, customer_id, channel, status, effective_at, source, event_id)
            VALUES (\(dealerID), \(customerID), \(channel), \(status), \(effectiveAt), \(source), \(id))
            ON CONFLICT (dealer_id, customer_id, channel) DO UPDATE
            SET status = excluded.status, effective_at = excluded.effective_at, source = excluded.source,
                event_id = excluded.event_id
            WHERE s.effective_at <= excluded.effective_at
            """)
        return ConsentEvent(
            id: id, customerID: customerID, channel: channel, status: status, effectiveAt: effectiveAt, source: source,
            note: note, actorKeyID: actor.keyID, actorStaffID: actor.staffID, recordedAt: now)
    }

    public func current(customerID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> [ConsentState] {
        try await db.query(
            """
            SELECT channel, status, effective_at, source FROM consents
            WHERE dealer_id = \(dealerID) AND customer_id = \(customerID) ORDER BY channel
            """
        ).map(named: { r in
            ConsentState(channel: try r("channel"), status: try r("status"), effectiveAt: try r("effective_at"), source: try r("source"))
        })
    }

    public func history(customerID: UUID, dealerID: UUID, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<ConsentEvent>
    {
        // Newest first; `seq` orders the events one transaction recorded at the same instant.
        var query: PostgresQuery = """
            SELECT id, customer_id, channel, status, effective_at, source, note, actor_key_id, actor_staff_id, recorded_at, seq
            FROM consent_events WHERE dealer_id = \(dealerID) AND customer_id = \(customerID)
            """
        if let cursor = page.cursor {
            _ = try cursor.values(for: "consents", count: 2)
            query.append(" AND (recorded_at, seq) < (\(try cursor.timestamp(0)), \(try cursor.integer(1)))")
        }
        query.append(" ORDER BY recorded_at DESC, seq DESC LIMIT \(limit: page.limit + 1)")
        var sequence: [UUID: Int64] = [:]
        let rows = try await db.query(query).map(named: { r -> ConsentEvent in
            let id: UUID = try r("id")
            sequence[id] = try r("seq")
            return ConsentEvent(
                id: id, customerID: try r("customer_id"), channel: try r("channel"), status: try r("status"),
                effectiveAt: try r("effective_at"), source: try r("source"), note: try r("note"),
                actorKeyID: try r("actor_key_id"), actorStaffID: try r("actor_staff_id"), recordedAt: try r("recorded_at"))
        })
        return Page.from(rows, limit: page.limit, sort: "consents") {
            [Cursor.value(of: $0.recordedAt), String(sequence[$0.id] ?? 0)]
        }
    }
}
