public import CRMDomain
public import Foundation
public import PostgresClient

/// Leads: prospects of a dealer, their assignment, contacts, loss and sale. Stores and reads;
/// what a change means is decided by `LeadRules` before it gets here.
public struct LeadRepository: Sendable {
    public init() {}

    static let columns: StaticString = """
        l.dealer_id, l.id, l.surname, l.name, l.gender, l.phone, l.party, l.company_name, l.customer_type, \
        l.current_brand, l.current_model, l.interest_brand, l.interest_series, l.interest_model, l.competitor_models, \
        l.intended_purchase_date, l.channel, l.campaign, l.referrer_customer_id, l.referrer_name, l.notes, l.tags, \
        l.status, l.status_before_loss, l.consultant_id, l.assigned_at, l.last_contact_at, l.last_contact_result, \
        l.next_contact_date, l.next_contact_action, l.customer_id, l.loss_reason, l.loss_competitor, l.loss_note, \
        l.loss_requested_at, l.loss_requested_by, l.loss_decision, l.loss_decided_at, l.loss_decided_by, \
        l.loss_decision_note, l.lost_at, l.vehicle_id, l.sale_price_minor, l.sale_currency, l.delivery_date, l.won_at, \
        l.merged_into, l.created_at, l.updated_at, l.version
        """

    static func decode(_ r: inout PostgresNamedRow) throws -> Lead {
        let fields = LeadFields(
            surname: try r("surname"), name: try r("name"), gender: try r("gender"), phone: try r("phone"),
            party: try r("party"), companyName: try r("company_name"), customerType: try r("customer_type"),
            currentBrand: try r("current_brand"), currentModel: try r("current_model"), interestBrand: try r("interest_brand"),
            interestSeries: try r("interest_series"), interestModel: try r("interest_model"),
            competitorModels: try r("competitor_models"), intendedPurchaseDate: try r("intended_purchase_date"),
            channel: try r("channel"), campaign: try r("campaign"), referrerCustomerID: try r("referrer_customer_id"),
            referrerName: try r("referrer_name"), notes: try r("notes"), tags: try r("tags"))
        let status: LeadStatus = try r("status")
        let statusBeforeLoss: LeadStatus? = try r("status_before_loss")
        let consultantID: UUID? = try r("consultant_id")
        let assignedAt: Date? = try r("assigned_at")
        let contact = ContactPlan(
            lastContactAt: try r("last_contact_at"), lastContactResult: try r("last_contact_result"),
            nextContactDate: try r("next_contact_date"), nextContactAction: try r("next_contact_action"))
        let customerID: UUID? = try r("customer_id")
        var loss: LeadLoss?
        let lossReason: LossReason? = try r("loss_reason")
        let lossCompetitor: String? = try r("loss_competitor")
        let lossNote: String? = try r("loss_note")
        let lossRequestedAt: Date? = try r("loss_requested_at")
        let lossRequestedBy: UUID? = try r("loss_requested_by")
        let lossDecision: LossDecision? = try r("loss_decision")
        let lossDecidedAt: Date? = try r("loss_decided_at")
        let lossDecidedBy: UUID? = try r("loss_decided_by")
        let lossDecisionNote: String? = try r("loss_decision_note")
        if let lossReason, let lossRequestedAt {
            loss = LeadLoss(
                statusBefore: statusBeforeLoss, reason: lossReason, competitor: lossCompetitor, note: lossNote,
                requestedAt: lossRequestedAt, requestedByKey: lossRequestedBy, decision: lossDecision,
                decidedAt: lossDecidedAt, decidedByKey: lossDecidedBy, decisionNote: lossDecisionNote)
        }
        let lostAt: Date? = try r("lost_at")
        let vehicleID: UUID? = try r("vehicle_id")
        let price: Int64? = try r("sale_price_minor")
        let currency: String? = try r("sale_currency")
        let deliveryDate: LocalDate? = try r("delivery_date")
        let wonAt: Date? = try r("won_at")
        var sale: LeadSale?
        if let vehicleID, let customerID, let price, let currency, let deliveryDate, let wonAt {
            sale = LeadSale(
                vehicleID: vehicleID, customerID: customerID, price: Money(amountMinor: price, currency: currency),
                deliveryDate: deliveryDate, wonAt: wonAt)
        }
        return Lead(
            id: try r("id"), dealerID: try r("dealer_id"), fields: fields, status: status, consultantID: consultantID,
            assignedAt: assignedAt, contact: contact, customerID: customerID, loss: loss, sale: sale, lostAt: lostAt,
            mergedInto: try r("merged_into"), createdAt: try r("created_at"), updatedAt: try r("updated_at"),
            version: try r("version"))
    }

    // MARK: Reading

    public func find(id: UUID, scope: LeadScope, in db: some PostgresQueryable) async throws -> Lead? {
        try await db.query(
            "SELECT \(sql: Self.columns) FROM leads l WHERE \(fragment: scope.condition()) AND l.id = \(id)"
        ).first(named: Self.decode)
    }

    /// Locks the lead for a change inside a transaction.
    public func lock(id: UUID, scope: LeadScope, in tx: PostgresTransaction) async throws -> Lead? {
        try await tx.query(
            "SELECT \(sql: Self.columns) FROM leads l WHERE \(fragment: scope.condition()) AND l.id = \(id) FOR UPDATE"
        ).first(named: Self.decode)
    }

    /// Locks several leads in id order (two transactions locking the same pair cannot deadlock).
    public func lock(ids: [UUID], scope: LeadScope, in tx: PostgresTransaction) async throws -> [Lead] {
        try await tx.query(
            """
            SELECT \(sql: Self.columns) FROM leads l WHERE \(fragment: scope.condition()) AND l.id = ANY(\(ids)::uuid[])
            ORDER BY l.id FOR UPDATE
            """
        ).map(named: Self.decode)
    }

    /// The open lead holding a phone number at a dealer (duplicate detection).
    public func openLead(phone: String, dealerID: UUID, in db: some PostgresQueryable) async throws -> Lead? {
        try await db.query(
            """
            SELECT \(sql: Self.columns) FROM leads l
            WHERE l.dealer_id = \(dealerID) AND l.phone = \(phone) AND l.status = ANY(\(constants: LeadStatus.open)::text[])
            """
        ).first(named: Self.decode)
    }

    /// Newest first, or (overdue) earliest planned contact first. Overdue and temperature are
    /// relative to the dealer's calendar date: `today` when the scope is one dealer (a constant,
    /// so the indexes' ranges apply), else each lead's dealer's date at `now`, computed per row.
    public func list(
        scope: LeadScope, filter: LeadFilter, today: LocalDate?, now: Date, page: PageRequest, in db: some PostgresQueryable
    ) async throws -> Page<Lead> {
        let dealerToday = dealerToday(today, now: now, dealerColumn: "l.dealer_id")
        var query: PostgresQuery = "SELECT \(sql: Self.columns) FROM leads l WHERE \(fragment: scope.pageCondition())"
        if let status = filter.status { query.append(" AND l.status = \(constant: status)") }
        if let channel = filter.channel { query.append(" AND l.channel = \(constant: channel)") }
        if let consultant = filter.consultantID { query.append(" AND l.consultant_id = \(consultant)") }
        if let pool = filter.pool {
            query.append(
                pool
                    ? " AND l.consultant_id IS NULL AND l.status = ANY(\(constants: LeadStatus.open)::text[])"
                    : " AND l.consultant_id IS NOT NULL")
        }
        if let temperature = filter.temperature {
            // LeadRules.temperatureBounds: PostgreSQL's month arithmetic clamps month ends the same way.
            let hotUntil: PostgresQuery = "(\(fragment: dealerToday) + interval '3 months')::date"
            let warmUntil: PostgresQuery = "(\(fragment: dealerToday) + interval '12 months')::date"
            switch temperature {
            case .hot: query.append(" AND l.intended_purchase_date <= \(fragment: hotUntil)")
            case .warm:
                query.append(
                    " AND l.intended_purchase_date > \(fragment: hotUntil) AND l.intended_purchase_date <= \(fragment: warmUntil)")
            case .cold: query.append(" AND l.intended_purchase_date > \(fragment: warmUntil)")
            }
        }
        if let qualified = filter.qualified { query.append(" AND l.qualified = \(constant: qualified)") }
        if let phone = filter.phone { query.append(" AND l.phone = \(phone)") }
        if let series = filter.interestSeries { query.append(" AND l.interest_series = \(series)") }
        if let customer = filter.customerID { query.append(" AND l.customer_id = \(customer)") }
        if let after = filter.createdAfter { query.append(" AND l.created_at >= \(after)") }
        if let before = filter.createdBefore { query.append(" AND l.created_at < \(before)") }
        if filter.overdue {
            query.append(
                """
                 AND l.status = ANY(\(constants: LeadStatus.open)::text[]) AND l.next_contact_date < \(fragment: dealerToday)
                """)
            if let cursor = page.cursor {
                _ = try cursor.values(for: "leads.due", count: 2)
                query.append(" AND (l.next_contact_date, l.id) > (\(try cursor.date(0)), \(try cursor.uuid(1)))")
            }
            let rows = try await db.query(
                scope.tenant.page(query, alias: "l", order: "l.next_contact_date, l.id", limit: page.limit + 1)).map(named: Self.decode)
            return Page.from(rows, limit: page.limit, sort: "leads.due") {
                [$0.contact.nextContactDate?.description ?? "", $0.id.lowercasedText]
            }
        }
        if let cursor = page.cursor {
            _ = try cursor.values(for: "leads.created", count: 2)
            query.append(" AND (l.created_at, l.id) < (\(try cursor.timestamp(0)), \(try cursor.uuid(1)))")
        }
        let rows = try await db.query(
            scope.tenant.page(query, alias: "l", order: "l.created_at DESC, l.id DESC", limit: page.limit + 1)).map(named: Self.decode)
        return Page.from(rows, limit: page.limit, sort: "leads.created") { [Cursor.value(of: $0.createdAt), $0.id.lowercasedText] }
    }

    // MARK: Writing

    /// Inserts a new lead (status `new`, version 1, created at `lead.createdAt`). A phone an open
    /// lead of the dealer already has is `Duplicate<Lead>` naming that lead (found without raising
    /// an error: the unique index `leads_open_phone` stays as the last line of defence).
    public func insert(_ lead: Lead, in tx: PostgresTransaction) async throws -> Lead {
        let f = lead.fields
        let inserted = try await tx.query(
            """
            INSERT INTO leads AS l (dealer_id, id, surname, name, gender, phone, party, company_name, customer_type,
                current_brand, current_model, interest_brand, interest_series, interest_model, competitor_models,
                intended_purchase_date, channel, campaign, referrer_customer_id, referrer_name, notes, tags,
                status, consultant_id, assigned_at, customer_id, created_at, updated_at)
            VALUES (\(lead.dealerID), \(lead.id), \(f.surname), \(f.name), \(f.gender), \(f.phone), \(f.party), \(f.companyName),
                \(f.customerType), \(f.currentBrand), \(f.currentModel), \(f.interestBrand), \(f.interestSeries),
                \(f.interestModel), \(f.competitorModels)::text[], \(f.intendedPurchaseDate), \(f.channel), \(f.campaign),
                \(f.referrerCustomerID), \(f.referrerName), \(f.notes), \(f.tags)::text[], \(lead.status), \(lead.consultantID),
                \(lead.assignedAt), \(lead.customerID), \(lead.createdAt), \(lead.updatedAt))
            ON CONFLICT DO NOTHING
            RETURNING \(sql: Self.columns)
            """
        ).first(named: Self.decode)
        if let inserted { return inserted }
        throw Duplicate(existing: try await f.phone.asyncMap { try await openLead(phone: $0, dealerID: lead.dealerID, in: tx) } ?? nil)
    }

    /// Stores a lead changed by a rule: every column but its identity and creation, at the
    /// version it was locked at, stamped `now`. A phone that another open lead of the dealer holds
    /// is `Duplicate<Lead>` (checked first; a unique violation from a concurrent writer is the
    /// same duplicate).
    public func save(_ lead: Lead, now: Date, in tx: PostgresTransaction) async throws -> Lead {
        let f = lead.fields
        if lead.status.isOpen, let phone = f.phone, let holder = try await openLead(phone: phone, dealerID: lead.dealerID, in: tx),
            holder.id != lead.id
        {
            throw Duplicate(existing: holder)
        }
        let c = lead.contact
        let loss = lead.loss
        let sale = lead.sale
        return try await guardingUniqueness {
            try await tx.one(
                """
                UPDATE leads AS l SET surname = \(f.surname), name = \(f.name), gender = \(f.gender), phone = \(f.phone),
                    party = \(f.party), company_name = \(f.companyName), customer_type = \(f.customerType),
                    current_brand = \(f.currentBrand), current_model = \(f.currentModel), interest_brand = \(f.interestBrand),
                    interest_series = \(f.interestSeries), interest_model = \(f.interestModel),
                    competitor_models = \(f.competitorModels)::text[], intended_purchase_date = \(f.intendedPurchaseDate),
                    channel = \(f.channel), campaign = \(f.campaign), referrer_customer_id = \(f.referrerCustomerID),
                    referrer_name = \(f.referrerName), notes = \(f.notes), tags = \(f.tags)::text[],
                    status = \(lead.status), status_before_loss = \(loss?.statusBefore),
                    consultant_id = \(lead.consultantID), assigned_at = \(lead.assignedAt),
                    last_contact_at = \(c.lastContactAt), last_contact_result = \(c.lastContactResult),
                    next_contact_date = \(c.nextContactDate), next_contact_action = \(c.nextContactAction),
                    customer_id = \(lead.customerID), loss_reason = \(loss?.reason), loss_competitor = \(loss?.competitor),
                    loss_note = \(loss?.note), loss_requested_at = \(loss?.requestedAt),
                    loss_requested_by = \(loss?.requestedByKey), loss_decision = \(loss?.decision),
                    loss_decided_at = \(loss?.decidedAt), loss_decided_by = \(loss?.decidedByKey),
                    loss_decision_note = \(loss?.decisionNote), lost_at = \(lead.lostAt), vehicle_id = \(sale?.vehicleID),
                    sale_price_minor = \(sale?.price.amountMinor), sale_currency = \(sale?.price.currency),
                    delivery_date = \(sale?.deliveryDate), won_at = \(sale?.wonAt), merged_into = \(lead.mergedInto),
                    updated_at = \(now), version = l.version + 1
                WHERE l.dealer_id = \(lead.dealerID) AND l.id = \(lead.id) AND l.version = \(lead.version)
                RETURNING \(sql: Self.columns)
                """, orElse: .lostLock, Self.decode)
        }
    }

    /// Moves a merged duplicate's follow-ups, assignments and consents to the survivor.
    public func moveHistory(from duplicate: UUID, to survivor: UUID, dealerID: UUID, in tx: PostgresTransaction) async throws {
        try await tx.execute(
            "UPDATE lead_follow_ups SET lead_id = \(survivor) WHERE dealer_id = \(dealerID) AND lead_id = \(duplicate)")
        try await tx.execute(
            "UPDATE lead_assignments SET lead_id = \(survivor) WHERE dealer_id = \(dealerID) AND lead_id = \(duplicate)")
        try await tx.execute(
            "UPDATE lead_consents SET lead_id = \(survivor) WHERE dealer_id = \(dealerID) AND lead_id = \(duplicate)")
    }

    // MARK: Assignment

    public func recordAssignment(
        dealerID: UUID, leadID: UUID, from: UUID?, to: UUID?, reason: AssignmentReason, actorKey: UUID?, at now: Date,
        in db: some PostgresQueryable
    ) async throws {
        // Deferred: in a transaction the row goes to the server with the next statement or COMMIT.
        try await db.executeDeferred(
            """
            INSERT INTO lead_assignments (dealer_id, id, lead_id, from_consultant_id, to_consultant_id, reason, actor_key_id, at)
            VALUES (\(dealerID), \(UUID()), \(leadID), \(from), \(to), \(reason.rawValue), \(actorKey), \(now))
            """)
    }

    /// The next active sales consultant of the dealer after the last one who got a lead, in a
    /// fixed order (name, id); the pointer moves in the caller's transaction, so concurrent
    /// creations take turns. Nil when the dealer has no active consultant.
    public func nextRoundRobinConsultant(dealerID: UUID, now: Date, in tx: PostgresTransaction) async throws -> UUID? {
        try await tx.execute(
            "INSERT INTO lead_round_robin (dealer_id, updated_at) VALUES (\(dealerID), \(now)) ON CONFLICT (dealer_id) DO NOTHING")
        let last = try await tx.queryFirst(
            "SELECT last_staff_id FROM lead_round_robin WHERE dealer_id = \(dealerID) FOR UPDATE"
        ).flatMap { try $0.decode(0, as: UUID?.self) }
        // The turn continues after the last one's place in (name, id) order even when he has
        // since left or been deactivated; after the end it wraps to the first.
        let next = try await tx.queryFirst(
            """
            WITH last AS (SELECT name, id FROM staff WHERE dealer_id = \(dealerID) AND id = \(last))
            SELECT s.id FROM staff s
            WHERE s.dealer_id = \(dealerID) AND s.function = 'sales' AND s.active
            ORDER BY coalesce((s.name, s.id) <= ((SELECT name FROM last), (SELECT id FROM last)), false), s.name, s.id
            LIMIT 1
            """
        ).map { try $0.decode(0, as: UUID.self) }
        if let next {
            try await tx.execute(
                "UPDATE lead_round_robin SET last_staff_id = \(next), updated_at = \(now) WHERE dealer_id = \(dealerID)")
        }
        return next
    }

    /// The dealer's assigned leads still being worked that were assigned before `assignedBefore`
    /// (the candidates for the shared pool, `LeadRules.recycleCandidateBound`), locked; rows
    /// another transaction holds are skipped (they are being worked on right now).
    public func recycleCandidates(dealerID: UUID, assignedBefore: Date, in tx: PostgresTransaction) async throws -> [Lead] {
        let working = LeadStatus.open.filter { $0 != .lossPending }
        return try await tx.query(
            """
            SELECT \(sql: Self.columns) FROM leads l
            WHERE l.dealer_id = \(dealerID) AND l.consultant_id IS NOT NULL AND l.status = ANY(\(constants: working)::text[])
              AND l.assigned_at < \(assignedBefore)
            FOR UPDATE SKIP LOCKED
            """
        ).map(named: Self.decode)
    }

    /// Returns the given locked leads to the pool at `now` and records each move (`recycled`), in
    /// two statements whatever their number.
    public func returnToPool(_ leads: [Lead], dealerID: UUID, now: Date, in tx: PostgresTransaction) async throws {
        guard !leads.isEmpty else { return }
        let ids = leads.map(\.id)
        try await tx.execute(
            """
            INSERT INTO lead_assignments (dealer_id, id, lead_id, from_consultant_id, to_consultant_id, reason, at)
            SELECT \(dealerID), gen_random_uuid(), l.id, l.consultant_id, NULL, 'recycled', \(now)
            FROM leads l WHERE l.dealer_id = \(dealerID) AND l.id = ANY(\(ids)::uuid[])
            """)
        try await tx.execute(
            """
            UPDATE leads AS l SET consultant_id = NULL, assigned_at = NULL, updated_at = \(now), version = l.version + 1
            WHERE l.dealer_id = \(dealerID) AND l.id = ANY(\(ids)::uuid[])
            """)
    }

    // MARK: Follow-ups, assignments, consents

    static let followUpColumns: StaticString = """
        id, lead_id, contacted_at, channel, result, notes, next_contact_date, next_contact_action, staff_id, actor_key_id, recorded_at
        """

    static func decodeFollowUp(_ r: inout PostgresNamedRow) throws -> LeadFollowUp {
        LeadFollowUp(
            id: try r("id"), leadID: try r("lead_id"), contactedAt: try r("contacted_at"), channel: try r("channel"),
            result: try r("result"), notes: try r("notes"), nextContactDate: try r("next_contact_date"),
            nextContactAction: try r("next_contact_action"), staffID: try r("staff_id"), actorKey: try r("actor_key_id"),
            recordedAt: try r("recorded_at"))
    }

    /// Records one contact with the prospect.
    public func insertFollowUp(_ record: LeadFollowUp, dealerID: UUID, in tx: PostgresTransaction) async throws -> LeadFollowUp {
        try await tx.one(
            """
            INSERT INTO lead_follow_ups (dealer_id, id, lead_id, contacted_at, channel, result, notes, next_contact_date,
                next_contact_action, staff_id, actor_key_id, recorded_at)
            VALUES (\(dealerID), \(record.id), \(record.leadID), \(record.contactedAt), \(record.channel),
                \(record.result), \(record.notes), \(record.nextContactDate), \(record.nextContactAction),
                \(record.staffID), \(record.actorKey), \(record.recordedAt))
            RETURNING \(sql: Self.followUpColumns)
            """, orElse: .noRowReturned, Self.decodeFollowUp)
    }

    /// A lead's contacts, newest first.
    public func followUps(leadID: UUID, dealerID: UUID, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<LeadFollowUp>
    {
        var query: PostgresQuery = """
            SELECT \(sql: Self.followUpColumns) FROM lead_follow_ups WHERE dealer_id = \(dealerID) AND lead_id = \(leadID)
            """
        if let cursor = page.cursor {
            _ = try cursor.values(for: "lead_follow_ups", count: 2)
            query.append(" AND (contacted_at, id) < (\(try cursor.timestamp(0)), \(try cursor.uuid(1)))")
        }
        query.append(" ORDER BY contacted_at DESC, id DESC LIMIT \(limit: page.limit + 1)")
        let rows = try await db.query(query).map(named: Self.decodeFollowUp)
        return Page.from(rows, limit: page.limit, sort: "lead_follow_ups") { [Cursor.value(of: $0.contactedAt), $0.id.lowercasedText] }
    }

    /// A lead's (re)assignments, newest first.
    public func assignments(leadID: UUID, dealerID: UUID, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<LeadAssignment>
    {
        var query: PostgresQuery = """
            SELECT id, lead_id, from_consultant_id, to_consultant_id, reason, actor_key_id, at FROM lead_assignments
            WHERE dealer_id = \(dealerID) AND lead_id = \(leadID)
            """
        if let cursor = page.cursor {
            _ = try cursor.values(for: "lead_assignments", count: 2)
            query.append(" AND (at, id) < (\(try cursor.timestamp(0)), \(try cursor.uuid(1)))")
        }
        query.append(" ORDER BY at DESC, id DESC LIMIT \(limit: page.limit + 1)")
        let rows = try await db.query(query).map(named: { r in
            LeadAssignment(
                id: try r("id"), leadID: try r("lead_id"), fromConsultantID: try r("from_consultant_id"),
                toConsultantID: try r("to_consultant_id"), reason: try r("reason"), actorKey: try r("actor_key_id"),
                at: try r("at"))
        })
        return Page.from(rows, limit: page.limit, sort: "lead_assignments") { [Cursor.value(of: $0.at), $0.id.lowercasedText] }
    }

    public func addConsent(
        leadID: UUID, dealerID: UUID, consent: LeadConsent, actorKey: UUID?, in db: some PostgresQueryable
    ) async throws {
        // Deferred: in a transaction the row goes to the server with the next statement or COMMIT.
        try await db.executeDeferred(
            """
            INSERT INTO lead_consents (dealer_id, id, lead_id, channel, status, source, effective_at, actor_key_id)
            VALUES (\(dealerID), \(UUID()), \(leadID), \(consent.channel), \(consent.status), \(consent.source),
                    \(consent.effectiveAt), \(actorKey))
            """)
    }

    /// The latest consent per channel given during the lead.
    public func consents(leadID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> [LeadConsent] {
        try await db.query(
            """
            SELECT DISTINCT ON (channel) channel, status, source, effective_at FROM lead_consents
            WHERE dealer_id = \(dealerID) AND lead_id = \(leadID)
            ORDER BY channel, effective_at DESC, id DESC
            """
        ).map(named: { r in
            LeadConsent(channel: try r("channel"), status: try r("status"), source: try r("source"), effectiveAt: try r("effective_at"))
        })
    }

    /// Records the welcome pack of a won lead once (a second run of the job changes nothing).
    /// True when this call recorded it.
    public func recordWelcomePack(
        dealerID: UUID, leadID: UUID, jobID: Int64, now: Date, in db: some PostgresQueryable
    ) async throws -> Bool {
        try await db.execute(
            """
            INSERT INTO welcome_packs (dealer_id, id, lead_id, customer_id, vehicle_id, consultant_id, job_id, prepared_at)
            SELECT dealer_id, \(UUID()), id, customer_id, vehicle_id, consultant_id, \(jobID), \(now) FROM leads
            WHERE dealer_id = \(dealerID) AND id = \(leadID) AND status = 'won'
            ON CONFLICT (dealer_id, lead_id) DO NOTHING
            """) == 1
    }
}

extension LeadScope {
    /// The scope as a condition on `leads l`.
    func condition() -> PostgresQuery {
        narrowed(tenant.condition("l.dealer_id"))
    }

    /// The scope as the condition of a page's query (`TenantScope.page`).
    func pageCondition() -> PostgresQuery {
        narrowed(tenant.pageCondition("l.dealer_id"))
    }

    private func narrowed(_ tenantCondition: PostgresQuery) -> PostgresQuery {
        var query = tenantCondition
        // The pool is the open unassigned leads: a lead closed while unassigned (won, lost,
        // merged) is not a consultant's to see.
        let pool: PostgresQuery = "(l.consultant_id IS NULL AND l.status = ANY(\(constants: LeadStatus.open)::text[]))"
        if let consultant {
            query.append(" AND (l.consultant_id = \(consultant) OR \(fragment: pool))")
        } else if poolOnly {
            query.append(" AND \(fragment: pool)")
        }
        return query
    }
}
