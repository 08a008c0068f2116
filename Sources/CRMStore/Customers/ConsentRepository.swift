public import CRMDomain
public import Foundation
public import PostgresClient

/// Consent per customer and channel: an append-only history and the current state.
public struct ConsentRepository: Sendable {
    public init() {}

    /// Appends an event and makes it the current state unless a later-effective one exists.
    public func record(
        dealerID: UUID, customerID: UUID, channel: ConsentChannel, status: ConsentStatus, effectiveAt: Date,
        source: ConsentSource, note: String?, actor: Actor, in db: some PostgresQueryable
    ) async throws -> ConsentEvent {
        let id = UUID()
        let row = try await db.queryFirst(
            """
            INSERT INTO consent_events (dealer_id, id, customer_id, channel, status, effective_at, source, note,
                                        actor_key_id, actor_staff_id)
            VALUES (\(dealerID), \(id), \(customerID), \(channel), \(status), \(effectiveAt), \(source), \(note),
                    \(actor.keyID), \(actor.staffID))
            RETURNING recorded_at
            """)
        let recordedAt = try row?.decode(0, as: Date.self) ?? Date()
        try await db.execute(
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
            note: note, actorKeyID: actor.keyID, actorStaffID: actor.staffID, recordedAt: recordedAt)
    }

    public func current(customerID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> [ConsentState] {
        try await db.query(
            """
            SELECT channel, status, effective_at, source FROM consents
            WHERE dealer_id = \(dealerID) AND customer_id = \(customerID) ORDER BY channel
            """
        ).map { row in
            ConsentState(channel: try row.decode(0), status: try row.decode(1), effectiveAt: try row.decode(2), source: try row.decode(3))
        }
    }

    public func history(customerID: UUID, dealerID: UUID, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<ConsentEvent>
    {
        var query: PostgresQuery = """
            SELECT id, customer_id, channel, status, effective_at, source, note, actor_key_id, actor_staff_id, recorded_at
            FROM consent_events WHERE dealer_id = \(dealerID) AND customer_id = \(customerID)
            """
        if let cursor = page.cursor {
            let values = try cursor.values(for: "consents", count: 2)
            guard let id = UUID(uuidString: values[1]) else { throw CursorError() }
            query.append(" AND (recorded_at, id) < (\(values[0])::timestamptz, \(id))")
        }
        query.append(" ORDER BY recorded_at DESC, id DESC LIMIT \(page.limit + 1)")
        let rows = try await db.query(query).map { row in
            ConsentEvent(
                id: try row.decode(0), customerID: try row.decode(1), channel: try row.decode(2), status: try row.decode(3),
                effectiveAt: try row.decode(4), source: try row.decode(5), note: try row.decode(6),
                actorKeyID: try row.decode(7), actorStaffID: try row.decode(8), recordedAt: try row.decode(9))
        }
        return Page.from(rows, limit: page.limit, sort: "consents") { [CursorTime.text($0.recordedAt), $0.id.uuidString] }
    }
}
