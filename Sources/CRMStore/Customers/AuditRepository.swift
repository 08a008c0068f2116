public import CRMDomain
public import Foundation
public import PostgresClient

/// The audit trail: who changed which contact field, consent, or deleted or erased what.
public struct AuditRepository: Sendable {
    public init() {}

    public func record(
        dealerID: UUID, customerID: UUID?, entity: String, entityID: UUID, action: AuditAction, changes: [FieldChange],
        actor: Actor, at now: Date, in db: some PostgresQueryable
    ) async throws {
        // Deferred: in a use case's transaction the entry goes to the server with the COMMIT.
        try await db.executeDeferred(
            """
            INSERT INTO audit_events (dealer_id, id, customer_id, entity, entity_id, action, changes, actor_key_id,
                                      actor_staff_id, actor_role, request_id, at)
            VALUES (\(dealerID), \(UUID()), \(customerID), \(entity), \(entityID), \(action.rawValue),
                    \(Self.json(changes)), \(actor.keyID), \(actor.staffID), \(actor.role?.rawValue),
                    \(actor.requestID), \(now))
            """)
    }

    /// `[{"field": ..., "old": ..., "new": ...}]`, written directly (an audit entry is written
    /// with every change of a contact field; a JSONEncoder round trip costs more than the insert).
    static func json(_ changes: [FieldChange]) -> PostgresJSON {
        var text = "["
        for (index, change) in changes.enumerated() {
            if index > 0 { text += "," }
            text += "{\"field\":" + quote(change.field)
            if let old = change.old { text += ",\"old\":" + quote(old) }
            if let new = change.new { text += ",\"new\":" + quote(new) }
            text += "}"
        }
        return PostgresJSON(raw: text + "]")
    }

    static func quote(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + String(scalar.value, radix: 16).leftPadded(2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    public func events(customerID: UUID, dealerID: UUID, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<AuditEvent>
    {
        // Newest first; `seq` orders the entries one transaction wrote at the same instant.
        var query: PostgresQuery = """
            SELECT id, customer_id, entity, entity_id, action, changes, actor_key_id, actor_staff_id, actor_role,
                   request_id, at, seq
            FROM audit_events WHERE dealer_id = \(dealerID) AND customer_id = \(customerID)
            """
        if let cursor = page.cursor {
            _ = try cursor.values(for: "audit", count: 2)
            query.append(" AND (at, seq) < (\(try cursor.timestamp(0)), \(try cursor.integer(1)))")
        }
        query.append(" ORDER BY at DESC, seq DESC LIMIT \(limit: page.limit + 1)")
        var sequence: [UUID: Int64] = [:]
        let rows = try await db.query(query).map(named: { r -> AuditEvent in
            let id: UUID = try r("id")
            sequence[id] = try r("seq")
            let actor = Actor(
                keyID: try r("actor_key_id"), staffID: try r("actor_staff_id"),
                role: try r("actor_role", as: String?.self).flatMap(Role.init(rawValue:)), requestID: try r("request_id"))
            return AuditEvent(
                id: id, customerID: try r("customer_id"), entity: try r("entity"), entityID: try r("entity_id"),
                action: AuditAction(rawValue: try r("action")) ?? .update, changes: try r.json("changes") ?? [], actor: actor,
                at: try r("at"))
        })
        return Page.from(rows, limit: page.limit, sort: "audit") {
            [Cursor.value(of: $0.at), String(sequence[$0.id] ?? 0)]
        }
    }

    /// When `field` of the customer was changed between `since` and `until`, and by whom.
    public func changes(
        of field: String, customerID: UUID, dealerID: UUID, since: Date, until: Date, in db: some PostgresQueryable
    ) async throws -> [(at: Date, staffID: UUID?, keyID: UUID?)] {
        try await db.query(
            """
            SELECT at, actor_staff_id, actor_key_id FROM audit_events
            WHERE dealer_id = \(dealerID) AND customer_id = \(customerID) AND action = 'update'
              AND changes @> jsonb_build_array(jsonb_build_object('field', \(field)::text))
              AND at >= \(since) AND at <= \(until)
            ORDER BY at
            """
        ).map(named: { r in (at: try r("at"), staffID: try r("actor_staff_id"), keyID: try r("actor_key_id")) })
    }

    /// On erasure: keeps every entry (who changed which field when) but replaces the old and
    /// new values, which are personal data, with "(erased)".
    public func scrubValues(customerID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws {
        try await db.execute(
            """
            UPDATE audit_events SET changes = coalesce((
                SELECT jsonb_agg(jsonb_build_object(
                    'field', c->>'field',
                    'old', CASE WHEN c->>'old' IS NULL THEN NULL ELSE '(erased)' END,
                    'new', CASE WHEN c->>'new' IS NULL THEN NULL ELSE '(erased)' END))
                FROM jsonb_array_elements(changes) AS c), '[]'::jsonb)
            WHERE dealer_id = \(dealerID) AND customer_id = \(customerID) AND jsonb_array_length(changes) > 0
            """)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
