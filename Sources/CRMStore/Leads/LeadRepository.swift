public import CRMDomain
public import Foundation
public import PostgresClient

/// Leads: prospects of a dealer, their assignment, contacts, loss and sale.
public struct LeadRepository: Sendable {
    public init() {}

    static let columns: StaticString = """
        l.dealer_id, l.id, l.surname, l.name, l.gender, l.phone, l.party, l.company_name, l.customer_type, \
        l.current_brand, l.current_model, l.interest_brand, l.interest_series, l.interest_model, l.competitor_models, \
        l.intended_purchase_date, l.channel, l.campaign, l.referrer_customer_id, l.referrer_name, l.notes, l.tags, \
        l.status, l.consultant_id, l.assigned_at, l.last_contact_at, l.last_contact_result, l.next_contact_date, \
        l.next_contact_action, l.customer_id, l.loss_reason, l.loss_competitor, l.loss_note, l.loss_requested_at, \
        l.loss_requested_by, l.loss_decision, l.loss_decided_at, l.loss_decided_by, l.loss_decision_note, l.lost_at, \
        l.vehicle_id, l.sale_price_minor, l.sale_currency, l.delivery_date, l.won_at, l.merged_into, \
        l.created_at, l.updated_at, l.version
        """

    static func decode(_ row: PostgresRow) throws -> Lead {
        var r = ColumnReader(row)
        let dealerID: UUID = try r.next()
        let id: UUID = try r.next()
        let fields = LeadFields(
            surname: try r.next(), name: try r.next(), gender: try r.next(), phone: try r.next(), party: try r.next(),
            companyName: try r.next(), customerType: try r.next(), currentBrand: try r.next(), currentModel: try r.next(),
            interestBrand: try r.next(), interestSeries: try r.next(), interestModel: try r.next(),
            competitorModels: try r.next(), intendedPurchaseDate: try r.next(), channel: try r.next(), campaign: try r.next(),
            referrerCustomerID: try r.next(), referrerName: try r.next(), notes: try r.next(), tags: try r.next())
        let status: LeadStatus = try r.next()
        let consultantID: UUID? = try r.next()
        let assignedAt: Date? = try r.next()
        let contact = ContactPlan(
            lastContactAt: try r.next(), lastContactResult: try r.next(), nextContactDate: try r.next(),
            nextContactAction: try r.next())
        let customerID: UUID? = try r.next()
        let lossReason: LossReason? = try r.next()
        let lossCompetitor: String? = try r.next()
        let lossNote: String? = try r.next()
        let lossRequestedAt: Date? = try r.next()
        let lossRequestedBy: UUID? = try r.next()
        let lossDecision: LossDecision? = try r.next()
        let lossDecidedAt: Date? = try r.next()
        let lossDecidedBy: UUID? = try r.next()
        let lossDecisionNote: String? = try r.next()
        var loss: LeadLoss?
        if let lossReason, let lossRequestedAt {
            loss = LeadLoss(
                reason: lossReason, competitor: lossCompetitor, note: lossNote, requestedAt: lossRequestedAt,
                requestedByKey: lossRequestedBy, decision: lossDecision, decidedAt: lossDecidedAt, decidedByKey: lossDecidedBy,
                decisionNote: lossDecisionNote)
        }
        let lostAt: Date? = try r.next()
        let vehicleID: UUID? = try r.next()
        let price: Int64? = try r.next()
        let currency: String? = try r.next()
        let deliveryDate: LocalDate? = try r.next()
        let wonAt: Date? = try r.next()
        var sale: LeadSale?
        if let vehicleID, let customerID, let price, let currency, let deliveryDate, let wonAt {
            sale = LeadSale(
                vehicleID: vehicleID, customerID: customerID, priceMinor: price, currency: currency,
                deliveryDate: deliveryDate, wonAt: wonAt)
        }
        return Lead(
            id: id, dealerID: dealerID, fields: fields, status: status, consultantID: consultantID, assignedAt: assignedAt,
            contact: contact, customerID: customerID, loss: loss, sale: sale, lostAt: lostAt, mergedInto: try r.next(),
            createdAt: try r.next(), updatedAt: try r.next(), version: try r.next())
    }

    // MARK: Reading

    public func find(id: UUID, scope: LeadScope, in db: some PostgresQueryable) async throws -> Lead? {
        try await db.queryFirst(
            "SELECT \(sql: Self.columns) FROM leads l WHERE \(fragment: scope.condition()) AND l.id = \(id)"
        ).map(Self.decode)
    }

    /// Locks the lead for a state change inside a transaction.
    public func lock(id: UUID, scope: LeadScope, in tx: PostgresTransaction) async throws -> Lead? {
        try await tx.queryFirst(
            "SELECT \(sql: Self.columns) FROM leads l WHERE \(fragment: scope.condition()) AND l.id = \(id) FOR UPDATE"
        ).map(Self.decode)
    }

    /// The open lead holding a phone number at a dealer (duplicate detection).
    public func openLead(phone: String, dealerID: UUID, in db: some PostgresQueryable) async throws -> Lead? {
        try await db.queryFirst(
            """
            SELECT \(sql: Self.columns) FROM leads l
            WHERE l.dealer_id = \(dealerID) AND l.phone = \(phone) AND l.status = ANY(\(LeadStatus.openRawValues)::text[])
            """
        ).map(Self.decode)
    }

    public struct Filter: Sendable {
        public var status: LeadStatus?
        public var channel: LeadChannel?
        public var consultantID: UUID?
        /// Only unassigned open leads (the shared pool).
        public var pool: Bool?
        public var temperature: LeadTemperature?
        public var qualified: Bool?
        /// Only open leads whose planned contact is before `today`, earliest first.
        public var overdue: Bool
        /// E.164.
        public var phone: String?
        public var interestSeries: String?
        public var customerID: UUID?
        public var createdAfter: Date?
        public var createdBefore: Date?

        public init(
            status: LeadStatus? = nil, channel: LeadChannel? = nil, consultantID: UUID? = nil, pool: Bool? = nil,
            temperature: LeadTemperature? = nil, qualified: Bool? = nil, overdue: Bool = false, phone: String? = nil,
            interestSeries: String? = nil, customerID: UUID? = nil, createdAfter: Date? = nil, createdBefore: Date? = nil
        ) {
            self.status = status
            self.channel = channel
            self.consultantID = consultantID
            self.pool = pool
            self.temperature = temperature
            self.qualified = qualified
            self.overdue = overdue
            self.phone = phone
            self.interestSeries = interestSeries
            self.customerID = customerID
            self.createdAfter = createdAfter
            self.createdBefore = createdBefore
        }
    }

    /// Newest first, or (overdue) earliest planned contact first. Overdue and temperature are
    /// relative to the dealer's calendar date: `today` when the scope is one dealer (a constant,
    /// so the indexes' ranges apply), else each lead's dealer's date, computed per row.
    public func list(scope: LeadScope, filter: Filter, today: LocalDate?, page: PageRequest, in db: some PostgresQueryable)
        async throws -> Page<Lead>
    {
        let dealerToday: PostgresQuery =
            today.map { "\($0)::date" }
            ?? "(now() AT TIME ZONE (SELECT d.time_zone FROM dealers d WHERE d.id = l.dealer_id))::date"
        var query: PostgresQuery = "SELECT \(sql: Self.columns) FROM leads l WHERE \(fragment: scope.condition())"
        if let status = filter.status { query.append(" AND l.status = \(status)") }
        if let channel = filter.channel { query.append(" AND l.channel = \(channel)") }
        if let consultant = filter.consultantID { query.append(" AND l.consultant_id = \(consultant)") }
        if let pool = filter.pool {
            query.append(
                pool
                    ? " AND l.consultant_id IS NULL AND l.status = ANY(\(LeadStatus.openRawValues)::text[])"
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
        if let qualified = filter.qualified { query.append(" AND l.qualified = \(qualified)") }
        if let phone = filter.phone { query.append(" AND l.phone = \(phone)") }
        if let series = filter.interestSeries { query.append(" AND l.interest_series = \(series)") }
        if let customer = filter.customerID { query.append(" AND l.customer_id = \(customer)") }
        if let after = filter.createdAfter { query.append(" AND l.created_at >= \(after)") }
        if let before = filter.createdBefore { query.append(" AND l.created_at < \(before)") }
        if filter.overdue {
            query.append(
                """
                 AND l.status = ANY(\(LeadStatus.openRawValues)::text[]) AND l.next_contact_date < \(fragment: dealerToday)
                """)
            if let cursor = page.cursor {
                let values = try cursor.values(for: "leads.due", count: 2)
                guard let date = LocalDate(values[0]), let id = UUID(uuidString: values[1]) else { throw CursorError() }
                query.append(" AND (l.next_contact_date, l.id) > (\(date), \(id))")
            }
            query.append(" ORDER BY l.next_contact_date, l.id LIMIT \(page.limit + 1)")
            let rows = try await db.query(query).map(Self.decode)
            return Page.from(rows, limit: page.limit, sort: "leads.due") {
                [$0.contact.nextContactDate?.description ?? "", $0.id.uuidString]
            }
        }
        if let cursor = page.cursor {
            let values = try cursor.values(for: "leads.created", count: 2)
            guard let id = UUID(uuidString: values[1]) else { throw CursorError() }
            query.append(" AND (l.created_at, l.id) < (\(values[0])::timestamptz, \(id))")
        }
        query.append(" ORDER BY l.created_at DESC, l.id DESC LIMIT \(page.limit + 1)")
        let rows = try await db.query(query).map(Self.decode)
        return Page.from(rows, limit: page.limit, sort: "leads.created") { [CursorTime.text($0.createdAt), $0.id.uuidString] }
    }

    // MARK: Writing

    /// Inserts a lead (status `new`); an open lead with the same phone at the dealer fails with
    /// a unique violation on `leads_open_phone`.
    public func insert(
        id: UUID, dealerID: UUID, fields f: LeadFields, consultantID: UUID?, customerID: UUID?,
        in db: some PostgresQueryable
    ) async throws -> Lead {
        let row = try await db.queryFirst(
            """
            INSERT INTO leads AS l (dealer_id, id, surname, name, gender, phone, party, company_name, customer_type,
                current_brand, current_model, interest_brand, interest_series, interest_model, competitor_models,
                intended_purchase_date, channel, campaign, referrer_customer_id, referrer_name, notes, tags,
                consultant_id, assigned_at, customer_id)
            VALUES (\(dealerID), \(id), \(f.surname), \(f.name), \(f.gender), \(f.phone), \(f.party), \(f.companyName),
                \(f.customerType), \(f.currentBrand), \(f.currentModel), \(f.interestBrand), \(f.interestSeries),
                \(f.interestModel), \(f.competitorModels)::text[], \(f.intendedPurchaseDate), \(f.channel), \(f.campaign),
                \(f.referrerCustomerID), \(f.referrerName), \(f.notes), \(f.tags)::text[], \(consultantID),
                CASE WHEN \(consultantID)::uuid IS NULL THEN NULL ELSE now() END, \(customerID))
            RETURNING \(sql: Self.columns)
            """)
        guard let row else { throw RepositoryError.noRowReturned }
        return try Self.decode(row)
    }

    /// Replaces the editable fields if the stored version is `expectedVersion`.
    public func update(
        id: UUID, expectedVersion: Int, fields f: LeadFields, customerID: UUID?, scope: LeadScope,
        in db: some PostgresQueryable
    ) async throws -> VersionedUpdate<Lead> {
        let row = try await db.queryFirst(
            """
            UPDATE leads AS l SET surname = \(f.surname), name = \(f.name), gender = \(f.gender), phone = \(f.phone),
                party = \(f.party), company_name = \(f.companyName), customer_type = \(f.customerType),
                current_brand = \(f.currentBrand), current_model = \(f.currentModel), interest_brand = \(f.interestBrand),
                interest_series = \(f.interestSeries), interest_model = \(f.interestModel),
                competitor_models = \(f.competitorModels)::text[], intended_purchase_date = \(f.intendedPurchaseDate),
                channel = \(f.channel), campaign = \(f.campaign), referrer_customer_id = \(f.referrerCustomerID),
                referrer_name = \(f.referrerName), notes = \(f.notes), tags = \(f.tags)::text[],
                customer_id = coalesce(l.customer_id, \(customerID)), version = l.version + 1
            WHERE \(fragment: scope.condition()) AND l.id = \(id) AND l.version = \(expectedVersion)
            RETURNING \(sql: Self.columns)
            """)
        if let row { return .updated(try Self.decode(row)) }
        return try await find(id: id, scope: scope, in: db) == nil ? .notFound : .stale
    }

    /// Gives the lead to a consultant (nil: to the pool) and records why.
    public func assign(
        _ lead: Lead, to consultantID: UUID?, reason: AssignmentReason, actorKey: UUID?, in tx: PostgresTransaction
    ) async throws -> Lead {
        try await recordAssignment(
            dealerID: lead.dealerID, leadID: lead.id, from: lead.consultantID, to: consultantID, reason: reason,
            actorKey: actorKey, in: tx)
        return try await updated(
            """
            UPDATE leads AS l SET consultant_id = \(consultantID),
                assigned_at = CASE WHEN \(consultantID)::uuid IS NULL THEN NULL ELSE now() END, version = l.version + 1
            WHERE l.dealer_id = \(lead.dealerID) AND l.id = \(lead.id)
            RETURNING \(sql: Self.columns)
            """, in: tx)
    }

    public func recordAssignment(
        dealerID: UUID, leadID: UUID, from: UUID?, to: UUID?, reason: AssignmentReason, actorKey: UUID?,
        in db: some PostgresQueryable
    ) async throws {
        try await db.execute(
            """
            INSERT INTO lead_assignments (dealer_id, id, lead_id, from_consultant_id, to_consultant_id, reason, actor_key_id)
            VALUES (\(dealerID), \(UUID()), \(leadID), \(from), \(to), \(reason.rawValue), \(actorKey))
            """)
    }

    /// Sets the status (progress, loss rejected back to work).
    public func setStatus(_ lead: Lead, to status: LeadStatus, in tx: PostgresTransaction) async throws -> Lead {
        try await updated(
            """
            UPDATE leads AS l SET status = \(status), version = l.version + 1
            WHERE l.dealer_id = \(lead.dealerID) AND l.id = \(lead.id)
            RETURNING \(sql: Self.columns)
            """, in: tx)
    }

    /// Records a contact and what it leaves on the lead.
    public func addFollowUp(
        _ followUp: LeadFollowUp, to lead: Lead, newStatus: LeadStatus, in tx: PostgresTransaction
    ) async throws -> (LeadFollowUp, Lead) {
        guard let row = try await tx.queryFirst(
            """
            INSERT INTO lead_follow_ups (dealer_id, id, lead_id, contacted_at, channel, result, notes, next_contact_date,
                next_contact_action, staff_id, actor_key_id)
            VALUES (\(lead.dealerID), \(followUp.id), \(lead.id), \(followUp.contactedAt), \(followUp.channel),
                \(followUp.result), \(followUp.notes), \(followUp.nextContactDate), \(followUp.nextContactAction),
                \(followUp.staffID), \(followUp.actorKey))
            RETURNING \(sql: Self.followUpColumns)
            """)
        else { throw RepositoryError.noRowReturned }
        let stored = try Self.decodeFollowUp(row)
        // The lead shows its latest contact (a contact logged late does not overwrite a newer one).
        let updatedLead = try await updated(
            """
            UPDATE leads AS l SET status = \(newStatus),
                last_contact_at = CASE WHEN l.last_contact_at IS NULL OR l.last_contact_at <= \(followUp.contactedAt)
                                       THEN \(followUp.contactedAt) ELSE l.last_contact_at END,
                last_contact_result = CASE WHEN l.last_contact_at IS NULL OR l.last_contact_at <= \(followUp.contactedAt)
                                           THEN \(followUp.result) ELSE l.last_contact_result END,
                next_contact_date = CASE WHEN l.last_contact_at IS NULL OR l.last_contact_at <= \(followUp.contactedAt)
                                         THEN \(followUp.nextContactDate) ELSE l.next_contact_date END,
                next_contact_action = CASE WHEN l.last_contact_at IS NULL OR l.last_contact_at <= \(followUp.contactedAt)
                                           THEN \(followUp.nextContactAction) ELSE l.next_contact_action END,
                version = l.version + 1
            WHERE l.dealer_id = \(lead.dealerID) AND l.id = \(lead.id)
            RETURNING \(sql: Self.columns)
            """, in: tx)
        return (stored, updatedLead)
    }

    /// Declares the lead lost, pending a manager's approval.
    public func declareLoss(_ lead: Lead, reason: LossReason, competitor: String?, note: String?, actorKey: UUID?, in tx: PostgresTransaction)
        async throws -> Lead
    {
        try await updated(
            """
            UPDATE leads AS l SET status = 'loss_pending', status_before_loss = l.status, loss_reason = \(reason),
                loss_competitor = \(competitor), loss_note = \(note), loss_requested_at = now(),
                loss_requested_by = \(actorKey), loss_decision = NULL, loss_decided_at = NULL, loss_decided_by = NULL,
                loss_decision_note = NULL, version = l.version + 1
            WHERE l.dealer_id = \(lead.dealerID) AND l.id = \(lead.id)
            RETURNING \(sql: Self.columns)
            """, in: tx)
    }

    /// Records a manager's decision: approved, the lead is lost; rejected, it returns to the
    /// status it had.
    public func decideLoss(_ lead: Lead, decision: LossDecision, note: String?, actorKey: UUID?, in tx: PostgresTransaction)
        async throws -> Lead
    {
        try await updated(
            """
            UPDATE leads AS l SET
                status = CASE WHEN \(decision) = 'approve' THEN 'lost' ELSE l.status_before_loss END,
                lost_at = CASE WHEN \(decision) = 'approve' THEN now() END,
                status_before_loss = NULL, loss_decision = \(decision), loss_decided_at = now(),
                loss_decided_by = \(actorKey), loss_decision_note = \(note), version = l.version + 1
            WHERE l.dealer_id = \(lead.dealerID) AND l.id = \(lead.id)
            RETURNING \(sql: Self.columns)
            """, in: tx)
    }

    /// Marks the lead won with its sale.
    public func win(_ lead: Lead, sale: LeadSale, in tx: PostgresTransaction) async throws -> Lead {
        try await updated(
            """
            UPDATE leads AS l SET status = 'won', customer_id = \(sale.customerID), vehicle_id = \(sale.vehicleID),
                sale_price_minor = \(sale.priceMinor), sale_currency = \(sale.currency), delivery_date = \(sale.deliveryDate),
                won_at = \(sale.wonAt), version = l.version + 1
            WHERE l.dealer_id = \(lead.dealerID) AND l.id = \(lead.id)
            RETURNING \(sql: Self.columns)
            """, in: tx)
    }

    /// Merges `duplicate` into `survivor`: its follow-ups, assignments and consents move over;
    /// the survivor keeps its values and takes the duplicate's where it has none (its consultant
    /// too, when the survivor waits in the pool), `status` (the further of the two), the latest
    /// contact, and both lists of tags and competitors (at most 50 each, first seen first) and
    /// both notes (at most 4,000 characters), so the result still passes validation. The
    /// duplicate is closed as `merged`.
    public func merge(_ duplicate: Lead, into survivor: Lead, status: LeadStatus, in tx: PostgresTransaction) async throws
        -> Lead
    {
        let dealer = survivor.dealerID
        let (from, to) = (duplicate.id, survivor.id)
        try await tx.execute("UPDATE lead_follow_ups SET lead_id = \(to) WHERE dealer_id = \(dealer) AND lead_id = \(from)")
        try await tx.execute("UPDATE lead_assignments SET lead_id = \(to) WHERE dealer_id = \(dealer) AND lead_id = \(from)")
        try await tx.execute("UPDATE lead_consents SET lead_id = \(to) WHERE dealer_id = \(dealer) AND lead_id = \(from)")
        _ = try await updated(
            """
            UPDATE leads AS l SET status = 'merged', merged_into = \(to), version = l.version + 1
            WHERE l.dealer_id = \(dealer) AND l.id = \(from)
            RETURNING \(sql: Self.columns)
            """, in: tx)
        return try await updated(
            """
            UPDATE leads AS l SET
                status = \(status),
                surname = coalesce(l.surname, d.surname), name = coalesce(l.name, d.name),
                gender = CASE WHEN l.gender IN ('male', 'female') THEN l.gender WHEN d.gender IN ('male', 'female') THEN d.gender
                              ELSE coalesce(l.gender, d.gender) END,
                phone = coalesce(l.phone, d.phone), party = coalesce(l.party, d.party),
                company_name = coalesce(l.company_name, d.company_name), customer_type = coalesce(l.customer_type, d.customer_type),
                current_brand = coalesce(l.current_brand, d.current_brand), current_model = coalesce(l.current_model, d.current_model),
                interest_brand = coalesce(l.interest_brand, d.interest_brand),
                interest_series = coalesce(l.interest_series, d.interest_series),
                interest_model = coalesce(l.interest_model, d.interest_model),
                competitor_models = coalesce((
                    SELECT array_agg(x ORDER BY first) FROM (
                        SELECT x, min(o) AS first FROM unnest(l.competitor_models || d.competitor_models) WITH ORDINALITY AS t(x, o)
                        GROUP BY x ORDER BY min(o) LIMIT 50) AS kept), '{}'),
                intended_purchase_date = coalesce(l.intended_purchase_date, d.intended_purchase_date),
                campaign = coalesce(l.campaign, d.campaign),
                referrer_customer_id = coalesce(l.referrer_customer_id, d.referrer_customer_id),
                referrer_name = coalesce(l.referrer_name, d.referrer_name),
                consultant_id = coalesce(l.consultant_id, d.consultant_id),
                assigned_at = CASE WHEN l.consultant_id IS NULL THEN d.assigned_at ELSE l.assigned_at END,
                customer_id = coalesce(l.customer_id, d.customer_id),
                tags = coalesce((
                    SELECT array_agg(x ORDER BY first) FROM (
                        SELECT x, min(o) AS first FROM unnest(l.tags || d.tags) WITH ORDINALITY AS t(x, o)
                        GROUP BY x ORDER BY min(o) LIMIT 50) AS kept), '{}'),
                notes = left(CASE WHEN d.notes IS NULL THEN l.notes WHEN l.notes IS NULL THEN d.notes
                                  ELSE l.notes || E'\\n' || d.notes END, 4000),
                last_contact_at = CASE WHEN d.last_contact_at > coalesce(l.last_contact_at, '-infinity') THEN d.last_contact_at ELSE l.last_contact_at END,
                last_contact_result = CASE WHEN d.last_contact_at > coalesce(l.last_contact_at, '-infinity') THEN d.last_contact_result ELSE l.last_contact_result END,
                next_contact_date = CASE WHEN d.last_contact_at > coalesce(l.last_contact_at, '-infinity') THEN d.next_contact_date ELSE l.next_contact_date END,
                next_contact_action = CASE WHEN d.last_contact_at > coalesce(l.last_contact_at, '-infinity') THEN d.next_contact_action ELSE l.next_contact_action END,
                version = l.version + 1
            FROM leads d
            WHERE l.dealer_id = \(dealer) AND l.id = \(to) AND d.dealer_id = \(dealer) AND d.id = \(from)
            RETURNING \(sql: Self.columns)
            """, in: tx)
    }

    /// Runs an UPDATE ... RETURNING the lead's columns.
    private func updated(_ query: PostgresQuery, in db: some PostgresQueryable) async throws -> Lead {
        guard let row = try await db.queryFirst(query) else { throw RepositoryError.noRowReturned }
        return try Self.decode(row)
    }

    // MARK: Assignment helpers

    /// The next active sales consultant of the dealer after the last one who got a lead, in a
    /// fixed order (name, id); the pointer moves in the caller's transaction, so concurrent
    /// creations take turns. Nil when the dealer has no active consultant.
    public func nextRoundRobinConsultant(dealerID: UUID, in tx: PostgresTransaction) async throws -> UUID? {
        try await tx.execute(
            "INSERT INTO lead_round_robin (dealer_id) VALUES (\(dealerID)) ON CONFLICT (dealer_id) DO NOTHING")
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
                "UPDATE lead_round_robin SET last_staff_id = \(next), updated_at = now() WHERE dealer_id = \(dealerID)")
        }
        return next
    }

    /// Whether `staffID` is an active sales consultant of the dealer.
    public func isActiveConsultant(_ staffID: UUID, dealerID: UUID, in db: some PostgresQueryable) async throws -> Bool {
        try await db.queryFirst(
            "SELECT 1 FROM staff WHERE dealer_id = \(dealerID) AND id = \(staffID) AND function = 'sales' AND active"
        ) != nil
    }

    /// Returns to the pool every open assigned lead of the dealer nobody followed up within
    /// `days` of its assignment, last contact, rejected loss or planned contact day
    /// (LeadRules.recycleDeadline), recording each move. Leads whose loss awaits approval stay.
    public func recycleStale(dealerID: UUID, days: Int, timeZone: String, in tx: PostgresTransaction) async throws -> [UUID] {
        let rows = try await tx.query(
            """
            WITH stale AS (
                SELECT id, consultant_id FROM leads
                WHERE dealer_id = \(dealerID) AND consultant_id IS NOT NULL
                  AND status IN ('new', 'contacted', 'visited', 'test_drive', 'negotiating')
                  AND greatest(assigned_at, last_contact_at, CASE WHEN loss_decision = 'reject' THEN loss_decided_at END,
                               (next_contact_date::timestamp AT TIME ZONE \(timeZone)))
                      + make_interval(days => \(Int32(days))) < now()
                FOR UPDATE SKIP LOCKED
            ),
            moved AS (
                UPDATE leads l SET consultant_id = NULL, assigned_at = NULL, version = l.version + 1
                FROM stale WHERE l.dealer_id = \(dealerID) AND l.id = stale.id
                RETURNING l.id, stale.consultant_id
            ),
            recorded AS (
                INSERT INTO lead_assignments (dealer_id, id, lead_id, from_consultant_id, to_consultant_id, reason)
                SELECT \(dealerID), gen_random_uuid(), id, consultant_id, NULL, 'recycled' FROM moved
            )
            SELECT id FROM moved
            """)
        return try rows.map { try $0.decode(0, as: UUID.self) }
    }

    // MARK: Follow-ups, assignments, consents

    static let followUpColumns: StaticString = """
        id, lead_id, contacted_at, channel, result, notes, next_contact_date, next_contact_action, staff_id, actor_key_id, recorded_at
        """

    static func decodeFollowUp(_ row: PostgresRow) throws -> LeadFollowUp {
        var r = ColumnReader(row)
        return LeadFollowUp(
            id: try r.next(), leadID: try r.next(), contactedAt: try r.next(), channel: try r.next(), result: try r.next(),
            notes: try r.next(), nextContactDate: try r.next(), nextContactAction: try r.next(), staffID: try r.next(),
            actorKey: try r.next(), recordedAt: try r.next())
    }

    /// A lead's contacts, newest first.
    public func followUps(leadID: UUID, dealerID: UUID, page: PageRequest, in db: some PostgresQueryable) async throws
        -> Page<LeadFollowUp>
    {
        var query: PostgresQuery = """
            SELECT \(sql: Self.followUpColumns) FROM lead_follow_ups WHERE dealer_id = \(dealerID) AND lead_id = \(leadID)
            """
        if let cursor = page.cursor {
            let values = try cursor.values(for: "lead_follow_ups", count: 2)
            guard let id = UUID(uuidString: values[1]) else { throw CursorError() }
            query.append(" AND (contacted_at, id) < (\(values[0])::timestamptz, \(id))")
        }
        query.append(" ORDER BY contacted_at DESC, id DESC LIMIT \(page.limit + 1)")
        let rows = try await db.query(query).map(Self.decodeFollowUp)
        return Page.from(rows, limit: page.limit, sort: "lead_follow_ups") { [CursorTime.text($0.contactedAt), $0.id.uuidString] }
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
            let values = try cursor.values(for: "lead_assignments", count: 2)
            guard let id = UUID(uuidString: values[1]) else { throw CursorError() }
            query.append(" AND (at, id) < (\(values[0])::timestamptz, \(id))")
        }
        query.append(" ORDER BY at DESC, id DESC LIMIT \(page.limit + 1)")
        let rows = try await db.query(query).map { row -> LeadAssignment in
            var r = ColumnReader(row)
            return LeadAssignment(
                id: try r.next(), leadID: try r.next(), fromConsultantID: try r.next(), toConsultantID: try r.next(),
                reason: try r.next(), actorKey: try r.next(), at: try r.next())
        }
        return Page.from(rows, limit: page.limit, sort: "lead_assignments") { [CursorTime.text($0.at), $0.id.uuidString] }
    }

    public func addConsent(
        leadID: UUID, dealerID: UUID, channel: ConsentChannel, status: ConsentStatus, source: ConsentSource,
        effectiveAt: Date, actorKey: UUID?, in db: some PostgresQueryable
    ) async throws {
        try await db.execute(
            """
            INSERT INTO lead_consents (dealer_id, id, lead_id, channel, status, source, effective_at, actor_key_id)
            VALUES (\(dealerID), \(UUID()), \(leadID), \(channel), \(status), \(source), \(effectiveAt), \(actorKey))
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
        ).map { row in
            var r = ColumnReader(row)
            return LeadConsent(channel: try r.next(), status: try r.next(), source: try r.next(), effectiveAt: try r.next())
        }
    }

    /// Records the welcome pack of a won lead once (a second run of the job changes nothing).
    /// True when this call recorded it.
    public func recordWelcomePack(
        dealerID: UUID, leadID: UUID, jobID: Int64, in db: some PostgresQueryable
    ) async throws -> Bool {
        try await db.execute(
            """
            INSERT INTO welcome_packs (dealer_id, id, lead_id, customer_id, vehicle_id, consultant_id, job_id)
            SELECT dealer_id, \(UUID()), id, customer_id, vehicle_id, consultant_id, \(jobID) FROM leads
            WHERE dealer_id = \(dealerID) AND id = \(leadID) AND status = 'won'
            ON CONFLICT (dealer_id, lead_id) DO NOTHING
            """) == 1
    }
}

/// One contact with a prospect.
public struct LeadFollowUp: Sendable, Equatable {
    public var id: UUID
    public var leadID: UUID
    public var contactedAt: Date
    public var channel: FollowUpChannel
    public var result: String
    public var notes: String?
    public var nextContactDate: LocalDate?
    public var nextContactAction: String?
    public var staffID: UUID?
    public var actorKey: UUID?
    public var recordedAt: Date

    public init(
        id: UUID, leadID: UUID, contactedAt: Date, channel: FollowUpChannel, result: String, notes: String?,
        nextContactDate: LocalDate?, nextContactAction: String?, staffID: UUID?, actorKey: UUID?, recordedAt: Date
    ) {
        self.id = id
        self.leadID = leadID
        self.contactedAt = contactedAt
        self.channel = channel
        self.result = result
        self.notes = notes
        self.nextContactDate = nextContactDate
        self.nextContactAction = nextContactAction
        self.staffID = staffID
        self.actorKey = actorKey
        self.recordedAt = recordedAt
    }
}

/// One (re)assignment of a lead.
public struct LeadAssignment: Sendable, Equatable {
    public var id: UUID
    public var leadID: UUID
    public var fromConsultantID: UUID?
    public var toConsultantID: UUID?
    public var reason: AssignmentReason
    public var actorKey: UUID?
    public var at: Date
}

/// A consent given while a lead.
public struct LeadConsent: Sendable, Equatable {
    public var channel: ConsentChannel
    public var status: ConsentStatus
    public var source: ConsentSource
    public var effectiveAt: Date
}

/// Which leads a caller sees: the tenant scope, narrowed for a sales consultant to his own
/// leads and the shared pool (open unassigned leads).
public struct LeadScope: Sendable {
    public var tenant: TenantScope
    /// Set for a consultant: only leads he owns, or that wait in the pool.
    public var consultant: UUID?
    /// A consultant key not tied to a staff member sees the pool only.
    public var poolOnly: Bool

    public init(tenant: TenantScope, consultant: UUID? = nil, poolOnly: Bool = false) {
        self.tenant = tenant
        self.consultant = consultant
        self.poolOnly = poolOnly
    }

    func condition() -> PostgresQuery {
        var query = tenant.condition("l.dealer_id")
        // The pool is the open unassigned leads: a lead closed while unassigned (won, lost,
        // merged) is not a consultant's to see.
        let pool: PostgresQuery = "(l.consultant_id IS NULL AND l.status = ANY(\(LeadStatus.openRawValues)::text[]))"
        if let consultant {
            query.append(" AND (l.consultant_id = \(consultant) OR \(fragment: pool))")
        } else if poolOnly {
            query.append(" AND \(fragment: pool)")
        }
        return query
    }
}
