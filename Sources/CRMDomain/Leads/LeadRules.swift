public import Foundation

/// The lead rules: qualification, temperature, follow-up deadlines, and every change a use case
/// makes to a lead (edit, assignment, claim, follow-up, status, loss, sale, merge), as plain
/// functions from a lead and an input to the changed lead. The services run them inside their
/// transactions and the repository stores what they return; the database mirrors qualification
/// in a generated column and temperature in date bounds (tests check both agree).
public enum LeadRules {
    // MARK: Derived values

    /// The qualification fields the lead lacks; empty means qualified. Gender counts for an
    /// individual only: a company has none.
    public static func missingFields(_ lead: Lead) -> [QualificationField] {
        let f = lead.fields
        var missing: [QualificationField] = []
        if lead.consultantID == nil { missing.append(.consultant) }
        if f.customerType == nil { missing.append(.customerType) }
        // The channel is required on every lead, so it is always present.
        if f.party == nil { missing.append(.party) }
        if f.party != .company, f.gender != .male && f.gender != .female { missing.append(.gender) }
        if f.surname == nil { missing.append(.surname) }
        if f.phone == nil { missing.append(.phone) }
        if f.customerType != .firstPurchase, f.currentBrand == nil || f.currentModel == nil { missing.append(.currentVehicle) }
        if f.intendedPurchaseDate == nil { missing.append(.intendedPurchaseDate) }
        if f.interestSeries == nil || f.interestModel == nil { missing.append(.interestModel) }
        if lead.contact.lastContactResult == nil || lead.contact.nextContactDate == nil { missing.append(.contactPlan) }
        return missing
    }

    /// The last intended purchase date that is still hot, and the last still warm, seen from
    /// `today` in the dealer's calendar: 3 and 12 calendar months later (a month-end clamps: from
    /// 30 November, 3 months is 28 or 29 February).
    public static func temperatureBounds(today: LocalDate) -> (hotUntil: LocalDate, warmUntil: LocalDate) {
        (today.adding(months: 3), today.adding(months: 12))
    }

    /// Hot within 3 months (inclusive, and a date already past is hot), warm within 12, cold
    /// later; nil without an intended purchase date. Never stored: derived from `today`.
    public static func temperature(intended: LocalDate?, today: LocalDate) -> LeadTemperature? {
        guard let intended else { return nil }
        let bounds = temperatureBounds(today: today)
        if intended <= bounds.hotUntil { return .hot }
        if intended <= bounds.warmUntil { return .warm }
        return .cold
    }

    /// Open with a planned contact before today (dealer calendar).
    public static func isOverdue(_ lead: Lead, today: LocalDate) -> Bool {
        guard lead.status.isOpen, let next = lead.contact.nextContactDate else { return false }
        return next < today
    }

    // MARK: The shared pool

    /// When an assigned open lead goes back to the pool if nobody follows it up: `days` after the
    /// latest of its assignment, its last contact, a manager's rejection of its loss (back to
    /// work) and the start of its planned next contact day.
    public static func recycleDeadline(
        assignedAt: Date, lastContactAt: Date?, lossRejectedAt: Date? = nil, nextContactDate: LocalDate?, days: Int,
        timeZone: TimeZone
    ) -> Date {
        var anchor = assignedAt
        if let lastContactAt, lastContactAt > anchor { anchor = lastContactAt }
        if let lossRejectedAt, lossRejectedAt > anchor { anchor = lossRejectedAt }
        if let next = nextContactDate {
            let start = next.startOfDay(in: timeZone)
            if start > anchor { anchor = start }
        }
        return anchor.addingTimeInterval(Double(days) * 86_400)
    }

    /// Whether the lead goes back to the pool at `now`: assigned, being worked (a lead whose loss
    /// awaits approval stays with its consultant), and its recycle deadline passed.
    public static func shouldRecycle(_ lead: Lead, now: Date, days: Int, timeZone: TimeZone) -> Bool {
        guard lead.status.isOpen, lead.status != .lossPending, lead.consultantID != nil, let assignedAt = lead.assignedAt
        else { return false }
        let rejectedAt = lead.loss?.decision == .reject ? lead.loss?.decidedAt : nil
        let deadline = recycleDeadline(
            assignedAt: assignedAt, lastContactAt: lead.contact.lastContactAt, lossRejectedAt: rejectedAt,
            nextContactDate: lead.contact.nextContactDate, days: days, timeZone: timeZone)
        return deadline < now
    }

    /// The earliest assignment time a lead can have and still be due back in the pool at `now`
    /// (every anchor of the deadline is at or after the assignment): a bound for finding the
    /// candidates, not the decision.
    public static func recycleCandidateBound(now: Date, days: Int) -> Date {
        now.addingTimeInterval(-Double(days) * 86_400)
    }

    // MARK: Changes

    /// The lead's editable fields replaced: only while the lead is open.
    public static func edit(_ lead: Lead, to fields: LeadFields, today: LocalDate) throws -> Lead {
        guard lead.status.isOpen else { throw RuleViolation("A \(lead.status.rawValue) lead cannot be edited.") }
        var changed = lead
        changed.fields = try fields.validated(today: today)
        return changed
    }

    /// The lead handed to a consultant (nil: the pool) at `now`: only while it is open.
    public static func assign(_ lead: Lead, to consultant: UUID?, now: Date) throws -> Lead {
        guard lead.status.isOpen else { throw RuleViolation("A \(lead.status.rawValue) lead cannot be assigned.") }
        var changed = lead
        changed.consultantID = consultant
        changed.assignedAt = consultant == nil ? nil : now
        return changed
    }

    /// A consultant takes a lead from the shared pool.
    public static func claim(_ lead: Lead, by consultant: UUID, now: Date) throws -> Lead {
        guard lead.isInPool else {
            throw RuleViolation(
                lead.consultantID == consultant ? "The lead is already yours." : "Only a lead in the shared pool can be claimed.")
        }
        return try assign(lead, to: consultant, now: now)
    }

    /// What a consultant reports about one contact with the prospect.
    public struct FollowUpInput: Sendable {
        /// When the contact happened (default: now); not in the future.
        public var contactedAt: Date?
        public var channel: FollowUpChannel
        public var result: String
        public var notes: String?
        public var nextContactDate: LocalDate?
        public var nextContactAction: String?

        public init(
            contactedAt: Date?, channel: FollowUpChannel, result: String, notes: String?, nextContactDate: LocalDate?,
            nextContactAction: String?
        ) {
            self.contactedAt = contactedAt
            self.channel = channel
            self.result = result
            self.notes = notes
            self.nextContactDate = nextContactDate
            self.nextContactAction = nextContactAction
        }
    }

    /// How far ahead a next contact may be planned: a contact planned years ahead would keep the
    /// lead from the pool for good.
    public static let furthestNextContactMonths = 12

    /// A contact logged on the lead: the record of it, and the lead showing it as its last
    /// contact and plan (a contact logged late never replaces a newer one) with its status moved
    /// up to what the contact shows.
    public static func followUp(
        _ input: FollowUpInput, on lead: Lead, id: UUID, staffID: UUID?, actorKey: UUID?, now: Date, today: LocalDate
    ) throws -> (record: LeadFollowUp, lead: Lead) {
        var errors = ValidationErrors()
        let result = Text.required(input.result, field: "result", maxLength: 500, errors: &errors)
        let notes = Text.optional(input.notes, field: "notes", maxLength: 4000, errors: &errors)
        let action = Text.optional(input.nextContactAction, field: "next_contact_action", maxLength: 200, errors: &errors)
        let contactedAt = input.contactedAt ?? now
        // Five minutes of grace for clocks that run a little ahead of the server's.
        if contactedAt > now.addingTimeInterval(300) { errors.add("contacted_at", "cannot be in the future") }
        if let next = input.nextContactDate {
            if next < today { errors.add("next_contact_date", "cannot be before today (\(today))") }
            let furthest = today.adding(months: furthestNextContactMonths)
            if next > furthest { errors.add("next_contact_date", "must be within \(furthestNextContactMonths) months (by \(furthest))") }
        }
        try errors.throwIfAny()
        guard lead.status.isOpen else { throw RuleViolation("A \(lead.status.rawValue) lead takes no more follow-ups.") }
        let record = LeadFollowUp(
            id: id, leadID: lead.id, contactedAt: contactedAt, channel: input.channel, result: result ?? "", notes: notes,
            nextContactDate: input.nextContactDate, nextContactAction: action, staffID: staffID, actorKey: actorKey,
            recordedAt: now)
        var changed = lead
        if lead.contact.lastContactAt.map({ $0 <= contactedAt }) ?? true {
            changed.contact = ContactPlan(
                lastContactAt: contactedAt, lastContactResult: record.result, nextContactDate: record.nextContactDate,
                nextContactAction: record.nextContactAction)
        }
        changed.status = status(after: input.channel, from: lead.status)
        return (record, changed)
    }

    /// The lead moved forward in the sales process (new -> contacted -> visited / test drive ->
    /// negotiating). Won and lost have their own rules.
    public static func progress(_ lead: Lead, to status: LeadStatus) throws -> Lead {
        guard lead.status.allowedProgress.contains(status) else { throw illegalTransition(from: lead.status, to: status) }
        var changed = lead
        changed.status = status
        return changed
    }

    /// The refusal of a move the workflow does not allow, naming the moves it does.
    public static func illegalTransition(from: LeadStatus, to: LeadStatus) -> RuleViolation {
        let allowed = allowedTransitions(from: from).map(\.rawValue)
        let list = allowed.isEmpty ? "none: it is final" : allowed.joined(separator: ", ")
        return RuleViolation(
            "A \(from.rawValue) lead cannot become \(to.rawValue). Allowed from \(from.rawValue): \(list).",
            allowedTransitions: allowed)
    }

    /// Every status a lead may reach from `status`: forward progress, a sale, a loss declaration.
    public static func allowedTransitions(from status: LeadStatus) -> [LeadStatus] {
        var allowed = status.allowedProgress
        if status.canConvert { allowed.append(.won) }
        if status.canDeclareLoss { allowed.append(.lossPending) }
        return allowed
    }

    /// Why a consultant says a prospect is lost.
    public struct LossDeclaration: Sendable {
        public var reason: LossReason
        /// The competitor's brand and model, required when the prospect bought one.
        public var competitor: String?
        /// Required for reason `other`.
        public var note: String?

        public init(reason: LossReason, competitor: String?, note: String?) {
            self.reason = reason
            self.competitor = competitor
            self.note = note
        }
    }

    /// The lead declared lost, pending a manager's decision.
    public static func declareLoss(_ declaration: LossDeclaration, on lead: Lead, actorKey: UUID?, now: Date) throws -> Lead {
        var errors = ValidationErrors()
        let competitor = Text.optional(declaration.competitor, field: "competitor", maxLength: 200, errors: &errors)
        let note = Text.optional(declaration.note, field: "note", maxLength: 2000, errors: &errors)
        if declaration.reason == .boughtCompetitor, competitor == nil {
            errors.add("competitor", "is required when the prospect bought a competitor's car")
        }
        if declaration.reason == .other, note == nil { errors.add("note", "is required for reason 'other'") }
        try errors.throwIfAny()
        guard lead.status.canDeclareLoss else { throw illegalTransition(from: lead.status, to: .lossPending) }
        var changed = lead
        changed.loss = LeadLoss(
            statusBefore: lead.status, reason: declaration.reason, competitor: competitor, note: note, requestedAt: now,
            requestedByKey: actorKey)
        changed.status = .lossPending
        return changed
    }

    /// A manager's decision on a declared loss: approved, the lead is lost; rejected, it goes back
    /// to the status it had.
    public static func decideLoss(
        _ decision: LossDecision, note: String?, on lead: Lead, actorKey: UUID?, now: Date
    ) throws -> Lead {
        var errors = ValidationErrors()
        let note = Text.optional(note, field: "note", maxLength: 2000, errors: &errors)
        try errors.throwIfAny()
        guard lead.status == .lossPending, var loss = lead.loss else {
            throw RuleViolation(
                "Only a lead whose loss awaits approval (loss_pending) can be decided; this one is \(lead.status.rawValue).")
        }
        var changed = lead
        switch decision {
        case .approve:
            changed.status = .lost
            changed.lostAt = now
        case .reject:
            changed.status = loss.statusBefore ?? .contacted
            changed.lostAt = nil
        }
        loss.statusBefore = nil
        loss.decision = decision
        loss.decidedAt = now
        loss.decidedByKey = actorKey
        loss.decisionNote = note
        changed.loss = loss
        return changed
    }

    /// Whether a sale can be recorded on the lead now.
    public static func checkConvertible(_ lead: Lead) throws {
        guard lead.status.canConvert else { throw illegalTransition(from: lead.status, to: .won) }
    }

    /// The lead won with its sale.
    public static func win(_ lead: Lead, sale: LeadSale) throws -> Lead {
        try checkConvertible(lead)
        var changed = lead
        changed.status = .won
        changed.customerID = sale.customerID
        changed.sale = sale
        return changed
    }

    /// Whether `duplicate` may be merged into `survivor` (a manager's call): two different open
    /// leads of one dealer, neither waiting for a loss decision.
    public static func checkMergeable(_ duplicate: Lead, into survivor: Lead) throws {
        guard survivor.id != duplicate.id else { throw ValidationErrors(field: "duplicate_id", "is the lead itself") }
        guard survivor.dealerID == duplicate.dealerID else {
            throw ValidationErrors(field: "duplicate_id", "belongs to another dealer")
        }
        guard survivor.status.isOpen, duplicate.status.isOpen else { throw RuleViolation("Only two open leads can be merged.") }
        guard survivor.status != .lossPending, duplicate.status != .lossPending else {
            throw RuleViolation("A lead's loss awaits a manager's decision; decide it before merging.")
        }
    }

    /// What a merge makes of two leads: the survivor keeps its values and takes the duplicate's
    /// where it has none (its consultant too, when the survivor waits in the pool), the further
    /// of the two statuses, the later contact, both lists of tags and competitors and both notes
    /// (within the limits a lead's fields have, so the result still validates). The duplicate is
    /// closed as `merged` into the survivor. Its follow-ups, assignments and consents move over.
    public static func merge(_ duplicate: Lead, into survivor: Lead) throws -> (survivor: Lead, duplicate: Lead) {
        try checkMergeable(duplicate, into: survivor)
        let s = survivor.fields
        let d = duplicate.fields
        var merged = survivor
        var fields = s
        fields.surname = s.surname ?? d.surname
        fields.name = s.name ?? d.name
        fields.gender = s.gender.map { $0 == .unknown ? nil : $0 } ?? nil
        if fields.gender == nil { fields.gender = d.gender.map { $0 == .unknown ? nil : $0 } ?? nil }
        if fields.gender == nil { fields.gender = s.gender ?? d.gender }
        fields.phone = s.phone ?? d.phone
        fields.party = s.party ?? d.party
        fields.companyName = s.companyName ?? d.companyName
        fields.customerType = s.customerType ?? d.customerType
        fields.currentBrand = s.currentBrand ?? d.currentBrand
        fields.currentModel = s.currentModel ?? d.currentModel
        fields.interestBrand = s.interestBrand ?? d.interestBrand
        fields.interestSeries = s.interestSeries ?? d.interestSeries
        fields.interestModel = s.interestModel ?? d.interestModel
        fields.competitorModels = Text.union(s.competitorModels, d.competitorModels)
        fields.intendedPurchaseDate = s.intendedPurchaseDate ?? d.intendedPurchaseDate
        fields.campaign = s.campaign ?? d.campaign
        fields.referrerCustomerID = s.referrerCustomerID ?? d.referrerCustomerID
        fields.referrerName = s.referrerName ?? d.referrerName
        fields.tags = Text.union(s.tags, d.tags)
        fields.notes = Text.joined(s.notes, d.notes, maxLength: LeadFields.notesLimit)
        merged.fields = fields
        if survivor.consultantID == nil {
            merged.consultantID = duplicate.consultantID
            merged.assignedAt = duplicate.assignedAt
        }
        merged.customerID = survivor.customerID ?? duplicate.customerID
        if let theirs = duplicate.contact.lastContactAt, theirs > (survivor.contact.lastContactAt ?? .distantPast) {
            merged.contact = duplicate.contact
        }
        merged.status = furthest(survivor.status, duplicate.status)
        var closed = duplicate
        closed.status = .merged
        closed.mergedInto = survivor.id
        return (merged, closed)
    }

    /// The further of two working statuses (what a merged lead keeps).
    public static func furthest(_ a: LeadStatus, _ b: LeadStatus) -> LeadStatus {
        b.rank > a.rank ? b : a
    }

    /// The status after a contact of this kind: a visit shows the prospect visited, a test drive
    /// that he drove; nothing moves a lead backwards, and a lead whose loss awaits approval keeps
    /// its status.
    public static func status(after channel: FollowUpChannel, from current: LeadStatus) -> LeadStatus {
        guard current.isOpen, current != .lossPending else { return current }
        let implied = channel.impliedStatus
        return implied.rank > current.rank ? implied : current
    }
}
