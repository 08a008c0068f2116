public import CRMDomain
public import Foundation
public import PostgresClient

/// The audit trail: who changed which contact field, consent, or deleted or erased what.
public struct AuditRepository: Sendable {
    public init() {}

    public func record(
        dealerID: UUID, customerID: UUID?, entity: String, entityID: UUID, action: AuditAction, changes: [FieldChange],
        actor: Actor, in db: some PostgresQueryable
    ) async throws {
        try await db.execute(
            """
            INSERT INTO audit_events (dealer_id, id, customer_id, entity, entity_id, action, changes, actor_key_id,
                                      actor_staff_id, actor_role, request_id)
            VALUES (\(dealerID), \(UUID()), \(customerID), \(entity), \(entityID), \(action.rawValue),
                    \(Self.json(changes)), \(actor.keyID), \(actor.staffID), \(actor.role?.rawValue),
                    \(actor.requestID))
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
        var query: PostgresQuery = """
            SELECT id, customer_id, entity, entity_id, action, changes, actor_key_id, actor_staff_id, actor_role,
                   request_id, at
            FROM audit_events WHERE dealer_id = \(dealerID) AND customer_id = \(customerID)
            """
        if let cursor = page.cursor {
            let values = try cursor.values(for: "audit", count: 2)
            guard let id = UUID(uuidString: values[1]) else { throw CursorError() }
            query.append(" AND (at, id) < (\(values[0])::timestamptz, \(id))")
        }
        query.append(" ORDER BY at DESC, id DESC LIMIT \(page.limit + 1)")
        let rows = try await db.query(query).map { row in
            var r = ColumnReader(row)
            let id: UUID = try r.next()
            let customerID: UUID? = try r.next()
            let entity: String = try r.next()
            let entityID: UUID = try r.next()
            let actionText: String = try r.next()
            let changes = try r.json([FieldChange].self) ?? []
            let actor = Actor(
                keyID: try r.next(), staffID: try r.next(), role: (try r.next(String?.self)).flatMap(Role.init(rawValue:)),
                requestID: try r.next())
            return AuditEvent(
                id: id, customerID: customerID, entity: entity, entityID: entityID,
                action: AuditAction(rawValue: actionText) ?? .update, changes: changes, actor: actor, at: try r.next())
        }
        return Page.from(rows, limit: page.limit, sort: "audit") { [CursorTime.text($0.at), $0.id.uuidString] }
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
