public import CRMDomain
public import Foundation
public import PostgresClient

/// Complaints and their timelines. Stores and reads; `ComplaintRules` decides.
public struct ComplaintRepository: Sendable {
    public init() {}

    static let columns: StaticString = """
        c.dealer_id, c.id, c.number, c.customer_id, c.vehicle_id, c.service_visit_id, c.lead_id, c.channel, c.category, \
        c.severity, c.safety_related, c.media_risk, c.description, c.customer_request, c.status, c.owner_id, \
        c.escalation_level, c.reopen_count, c.business_hours, c.acknowledge_sla_seconds, c.resolve_sla_seconds, \
        c.acknowledge_due_at, c.acknowledge_warn_at, c.acknowledged_at, c.resolve_due_at, c.resolve_warn_at, \
        c.resolve_remaining_seconds, c.resolved_at, c.active_seconds, c.active_since, c.sla_raised, c.next_sla_event_at, \
        c.root_cause, c.remedy, c.cost_minor, c.cost_currency, c.customer_accepted, c.resolution_note, c.closed_at, \
        c.created_at, c.updated_at, c.version
        """

    static func decode(_ r: inout PostgresNamedRow) throws -> Complaint {
        let fields = ComplaintFields(
            customerID: try r("customer_id"), vehicleID: try r("vehicle_id"), serviceVisitID: try r("service_visit_id"),
            leadID: try r("lead_id"), channel: try r("channel"), category: try r("category"), severity: try r("severity"),
            safetyRelated: try r("safety_related"), mediaRisk: try r("media_risk"), description: try r("description"),
            customerRequest: try r("customer_request"))
        let status: ComplaintStatus = try r("status")
        let ownerID: UUID? = try r("owner_id")
        let level = EscalationLevel(rawValue: Int(try r("escalation_level", as: Int16.self))) ?? .owner
        let reopenCount: Int = try r("reopen_count")
        let clock = ComplaintClock(
            businessHours: try r("business_hours"), acknowledgeSeconds: try r("acknowledge_sla_seconds"),
            resolveSeconds: try r("resolve_sla_seconds"), acknowledgeDueAt: try r("acknowledge_due_at"),
            acknowledgeWarnAt: try r("acknowledge_warn_at"), acknowledgedAt: try r("acknowledged_at"),
            resolveDueAt: try r("resolve_due_at"), resolveWarnAt: try r("resolve_warn_at"),
            resolveRemaining: try r("resolve_remaining_seconds"), resolvedAt: try r("resolved_at"),
            activeSeconds: try r("active_seconds"), activeSince: try r("active_since"),
            raised: Set(try r("sla_raised", as: [String].self)), nextEventAt: try r("next_sla_event_at"))
        var resolution: ComplaintResolution?
        let rootCause: String? = try r("root_cause")
        let remedy: ComplaintRemedy? = try r("remedy")
        let costMinor: Int64? = try r("cost_minor")
        let costCurrency: String? = try r("cost_currency")
        let accepted: Bool? = try r("customer_accepted")
        let note: String? = try r("resolution_note")
        if let rootCause, let remedy {
            resolution = ComplaintResolution(
                rootCause: rootCause, remedy: remedy,
                cost: costMinor.flatMap { amount in costCurrency.map { Money(amountMinor: amount, currency: $0) } },
                customerAccepted: accepted ?? false, note: note)
        }
        return Complaint(
            id: try r("id"), dealerID: try r("dealer_id"), number: try r("number"), fields: fields, status: status, ownerID: ownerID,
            escalation: level, reopenCount: reopenCount, clock: clock, resolution: resolution, closedAt: try r("closed_at"),
            createdAt: try r("created_at"), updatedAt: try r("updated_at"), version: try r("version"))
    }

    // MARK: Numbers

    /// The dealer's next readable number for `year` (`TS-2026-000123`), counted in the caller's
    /// transaction (the counter row is locked until it commits: numbers are never reused).
    public func nextNumber(dealerID: UUID, year: Int, in tx: PostgresTransaction) async throws -> String {
        let next = try await tx.one(
            """
            INSERT INTO complaint_numbers AS n (dealer_id, year, last) VALUES (\(dealerID), \(year), 1)
            ON CONFLICT (dealer_id, year) DO UPDATE SET last = n.last + 1
            RETURNING last
            """, orElse: .noRowReturned, { r in try r("last", as: Int.self) })
        let digits = String(next)
        return "TS-\(year)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    // MARK: Reading

    public func find(id: UUID, scope: TenantScope, in db: some PostgresQueryable) async throws -> Complaint? {
        try await db.query(
            "SELECT \(sql: Self.columns) FROM complaints c WHERE \(fragment: scope.condition("c.dealer_id")) AND c.id = \(id)"
        ).first(named: Self.decode)
    }

    public func lock(id: UUID, scope: TenantScope, in tx: PostgresTransaction) async throws -> Complaint? {
        try await tx.query(
            "SELECT \(sql: Self.columns) FROM complaints c WHERE \(fragment: scope.condition("c.dealer_id")) AND c.id = \(id) FOR UPDATE"
        ).first(named: Self.decode)
    }

    /// Newest first.
    public func list(scope: TenantScope, filter: ComplaintFilter, now: Date, page: PageRequest, in db: some PostgresQueryable)
        async throws -> Page<Complaint>
    {
        var query: PostgresQuery = "SELECT \(sql: Self.columns) FROM complaints c WHERE \(fragment: scope.pageCondition("c.dealer_id"))"
        if let status = filter.status { query.append(" AND c.status = \(constant: status)") }
        if let open = filter.open {
            query.append(
                open
                    ? " AND c.status = ANY(\(constants: ComplaintStatus.open)::text[])"
                    : " AND NOT c.status = ANY(\(constants: ComplaintStatus.open)::text[])")
        }
        if let severity = filter.severity { query.append(" AND c.severity = \(constant: severity)") }
        if let category = filter.category { query.append(" AND c.category = \(constant: category)") }
        if let channel = filter.channel { query.append(" AND c.channel = \(constant: channel)") }
        if let owner = filter.ownerID { query.append(" AND c.owner_id = \(owner)") }
        if let customer = filter.customerID { query.append(" AND c.customer_id = \(customer)") }
        if let level = filter.minimumEscalation { query.append(" AND c.escalation_level >= \(constant: level)") }
        if filter.overdue {
            query.append(
                """
                 AND c.status = ANY(\(constants: ComplaintStatus.open)::text[])
                 AND ((c.acknowledged_at IS NULL AND c.acknowledge_due_at < \(now)) OR c.resolve_due_at < \(now)
                      OR c.resolve_remaining_seconds < 0)
                """)
        }
        if let after = filter.createdAfter { query.append(" AND c.created_at >= \(after)") }
        if let before = filter.createdBefore { query.append(" AND c.created_at < \(before)") }
        if let cursor = page.cursor {
            _ = try cursor.values(for: "complaints.created", count: 2)
            query.append(" AND (c.created_at, c.id) < (\(try cursor.timestamp(0)), \(try cursor.uuid(1)))")
        }
        let rows = try await db.query(
            scope.page(query, alias: "c", order: "c.created_at DESC, c.id DESC", limit: page.limit + 1)).map(named: Self.decode)
        return Page.from(rows, limit: page.limit, sort: "complaints.created") { [Cursor.value(of: $0.createdAt), $0.id.lowercasedText] }
    }

    /// The customer's complaints that await handling (marketing suppression, the 360 view).
    public func open(customerID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> [Complaint] {
        try await db.query(
            """
            SELECT \(sql: Self.columns) FROM complaints c
            WHERE c.dealer_id = \(dealerID) AND c.customer_id = \(customerID)
              AND c.status = ANY(\(constants: ComplaintStatus.open)::text[])
            ORDER BY c.created_at DESC, c.id DESC
            """
        ).map(named: Self.decode)
    }

    // MARK: Writing

    public func insert(_ c: Complaint, in tx: PostgresTransaction) async throws -> Complaint {
        try await tx.one(
            """
            INSERT INTO complaints AS c (dealer_id, id, number, customer_id, vehicle_id, service_visit_id, lead_id, channel,
                category, severity, safety_related, media_risk, description, customer_request, status, owner_id,
                escalation_level, reopen_count, business_hours, acknowledge_sla_seconds, resolve_sla_seconds,
                acknowledge_due_at, acknowledge_warn_at, resolve_due_at, resolve_warn_at, active_seconds, active_since,
                sla_raised, next_sla_event_at, created_at, updated_at)
            VALUES (\(c.dealerID), \(c.id), \(c.number), \(c.fields.customerID), \(c.fields.vehicleID), \(c.fields.serviceVisitID),
                \(c.fields.leadID), \(c.fields.channel), \(c.fields.category), \(c.fields.severity), \(c.fields.safetyRelated),
                \(c.fields.mediaRisk), \(c.fields.description), \(c.fields.customerRequest), \(c.status), \(c.ownerID),
                \(Int16(c.escalation.rawValue)), \(c.reopenCount), \(c.clock.businessHours), \(c.clock.acknowledgeSeconds),
                \(c.clock.resolveSeconds), \(c.clock.acknowledgeDueAt), \(c.clock.acknowledgeWarnAt), \(c.clock.resolveDueAt),
                \(c.clock.resolveWarnAt), \(c.clock.activeSeconds), \(c.clock.activeSince), \(c.clock.raised.sorted())::text[],
                \(c.clock.nextEventAt), \(c.createdAt), \(c.updatedAt))
            RETURNING \(sql: Self.columns)
            """, orElse: .noRowReturned, Self.decode)
    }

    /// Stores a complaint changed by a rule (locked by the caller, at the version it was read).
    public func save(_ c: Complaint, now: Date, in tx: PostgresTransaction) async throws -> Complaint {
        let f = c.fields
        let k = c.clock
        let r = c.resolution
        return try await tx.one(
            """
            UPDATE complaints AS c SET vehicle_id = \(f.vehicleID), service_visit_id = \(f.serviceVisitID), lead_id = \(f.leadID),
                channel = \(f.channel), category = \(f.category), severity = \(f.severity), safety_related = \(f.safetyRelated),
                media_risk = \(f.mediaRisk), description = \(f.description), customer_request = \(f.customerRequest),
                status = \(c.status), owner_id = \(c.ownerID), escalation_level = \(Int16(c.escalation.rawValue)),
                reopen_count = \(c.reopenCount), business_hours = \(k.businessHours),
                acknowledge_sla_seconds = \(k.acknowledgeSeconds), resolve_sla_seconds = \(k.resolveSeconds),
                acknowledge_due_at = \(k.acknowledgeDueAt), acknowledge_warn_at = \(k.acknowledgeWarnAt),
                acknowledged_at = \(k.acknowledgedAt), resolve_due_at = \(k.resolveDueAt), resolve_warn_at = \(k.resolveWarnAt),
                resolve_remaining_seconds = \(k.resolveRemaining), resolved_at = \(k.resolvedAt),
                active_seconds = \(k.activeSeconds), active_since = \(k.activeSince), sla_raised = \(k.raised.sorted())::text[],
                next_sla_event_at = \(k.nextEventAt), root_cause = \(r?.rootCause), remedy = \(r?.remedy),
                cost_minor = \(r?.cost?.amountMinor), cost_currency = \(r?.cost?.currency),
                customer_accepted = \(r?.customerAccepted), resolution_note = \(r?.note), closed_at = \(c.closedAt),
                updated_at = \(now), version = c.version + 1
            WHERE c.dealer_id = \(c.dealerID) AND c.id = \(c.id) AND c.version = \(c.version)
            RETURNING \(sql: Self.columns)
            """, orElse: .lostLock, Self.decode)
    }

    // MARK: The escalation scan

    /// Complaints of every dealer with an SLA event due by `now`, locked (rows another worker
    /// holds are skipped: it is handling them), at most `limit`, earliest first.
    public func due(now: Date, limit: Int, in tx: PostgresTransaction) async throws -> [Complaint] {
        try await tx.query(
            """
            SELECT \(sql: Self.columns) FROM complaints c
            WHERE c.next_sla_event_at <= \(now)
            ORDER BY c.next_sla_event_at
            LIMIT \(limit)
            FOR UPDATE SKIP LOCKED
            """
        ).map(named: Self.decode)
    }

    /// Stores what the scan changed on many complaints at once: their escalation level, raised
    /// events and next event time (one statement for the batch).
    public func saveScanned(_ complaints: [Complaint], now: Date, in tx: PostgresTransaction) async throws {
        guard !complaints.isEmpty else { return }
        let raised = complaints.map { $0.clock.raised.sorted().joined(separator: "\u{1F}") }
        try await tx.execute(
            """
            UPDATE complaints AS c SET escalation_level = u.level, sla_raised = string_to_array(u.raised, E'\\x1F'),
                next_sla_event_at = u.next_at, updated_at = \(now), version = c.version + 1
            FROM unnest(\(complaints.map(\.dealerID))::uuid[], \(complaints.map(\.id))::uuid[],
                        \(complaints.map { Int16($0.escalation.rawValue) })::int2[], \(raised)::text[],
                        \(complaints.map(\.clock.nextEventAt))::timestamptz[]) AS u(dealer_id, id, level, raised, next_at)
            WHERE c.dealer_id = u.dealer_id AND c.id = u.id
            """)
    }

    // MARK: Timeline

    public func record(_ events: [ComplaintEvent], dealerID: UUID, onceKeys: [String?], in tx: PostgresTransaction) async throws {
        guard !events.isEmpty else { return }
        try await tx.execute(
            """
            INSERT INTO complaint_events (dealer_id, id, complaint_id, kind, from_status, to_status, note, details,
                actor_key_id, actor_staff_id, actor_role, request_id, at, once_key)
            SELECT \(dealerID), e.id, e.complaint_id, e.kind, e.from_status, e.to_status, e.note, e.details::jsonb,
                   e.actor_key_id, e.actor_staff_id, e.actor_role, e.request_id, e.at, e.once_key
            FROM unnest(\(events.map(\.id))::uuid[], \(events.map(\.complaintID))::uuid[], \(events.map(\.kind.rawValue))::text[],
                        \(events.map { $0.fromStatus?.rawValue })::text[], \(events.map { $0.toStatus?.rawValue })::text[],
                        \(events.map(\.note))::text[], \(try events.map { try PostgresJSON(encoding: $0.details).raw })::text[],
                        \(events.map(\.actor.keyID))::uuid[], \(events.map(\.actor.staffID))::uuid[],
                        \(events.map { $0.actor.role?.rawValue })::text[], \(events.map(\.actor.requestID))::text[],
                        \(events.map(\.at))::timestamptz[], \(onceKeys)::text[])
                 WITH ORDINALITY AS e(id, complaint_id, kind, from_status, to_status, note, details, actor_key_id,
                                      actor_staff_id, actor_role, request_id, at, once_key, n)
            ORDER BY e.n
            ON CONFLICT (dealer_id, complaint_id, once_key) WHERE once_key IS NOT NULL DO NOTHING
            """)
    }

    /// A complaint's timeline, oldest first.
    public func timeline(complaintID: UUID, dealerID: UUID, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<ComplaintEvent>
    {
        var query: PostgresQuery = """
            SELECT id, complaint_id, kind, from_status, to_status, note, details, actor_key_id, actor_staff_id, actor_role,
                   request_id, at, seq
            FROM complaint_events WHERE dealer_id = \(dealerID) AND complaint_id = \(complaintID)
            """
        if let cursor = page.cursor {
            _ = try cursor.values(for: "complaint_events", count: 1)
            query.append(" AND seq > \(try cursor.integer(0))")
        }
        query.append(" ORDER BY seq LIMIT \(limit: page.limit + 1)")
        var sequence: [UUID: Int64] = [:]
        let rows = try await db.query(query).map(named: { r -> ComplaintEvent in
            let id: UUID = try r("id")
            let event = ComplaintEvent(
                id: id, complaintID: try r("complaint_id"), kind: ComplaintEventKind(rawValue: try r("kind")) ?? .comment,
                fromStatus: try r("from_status", as: String?.self).flatMap(ComplaintStatus.init(rawValue:)),
                toStatus: try r("to_status", as: String?.self).flatMap(ComplaintStatus.init(rawValue:)), note: try r("note"),
                details: try r.json("details") ?? [:],
                actor: Actor(
                    keyID: try r("actor_key_id"), staffID: try r("actor_staff_id"),
                    role: try r("actor_role", as: String?.self).flatMap(Role.init(rawValue:)), requestID: try r("request_id")),
                at: try r("at"))
            sequence[id] = try r("seq")
            return event
        })
        return Page.from(rows, limit: page.limit, sort: "complaint_events") { [String(sequence[$0.id] ?? 0)] }
    }

    /// Erasure: the customer's complaints keep their facts but lose the words that are his
    /// (description, request, notes of their timelines).
    public func scrub(customerID: UUID, dealerID: UUID, in tx: PostgresTransaction) async throws {
        try await tx.execute(
            """
            UPDATE complaints SET description = '(erased)', customer_request = NULL, resolution_note = NULL
            WHERE dealer_id = \(dealerID) AND customer_id = \(customerID)
            """)
        try await tx.execute("SELECT set_config('crm.erasing', 'on', true)")
        try await tx.execute(
            """
            UPDATE complaint_events e SET note = '(erased)'
            FROM complaints c
            WHERE e.dealer_id = \(dealerID) AND c.dealer_id = e.dealer_id AND c.id = e.complaint_id
              AND c.customer_id = \(customerID) AND e.note IS NOT NULL
            """)
        try await tx.execute("SELECT set_config('crm.erasing', 'off', true)")
    }
}
