public import Foundation

/// The attributes of a lead that its owner edits (create input; the merge target of a PATCH).
/// Assignment, status, contacts, loss and sale change through their own use cases.
public struct LeadFields: Sendable, Equatable {
    public var surname: String?
    /// Full name.
    public var name: String?
    public var gender: Gender?
    public var phone: String?
    public var party: LeadParty?
    public var companyName: String?
    public var customerType: LeadCustomerType?
    public var currentBrand: String?
    public var currentModel: String?
    public var interestBrand: String?
    public var interestSeries: String?
    public var interestModel: String?
    /// Competitor models the prospect is also considering.
    public var competitorModels: [String]
    public var intendedPurchaseDate: LocalDate?
    public var channel: LeadChannel
    public var campaign: String?
    /// The customer who referred the prospect (channel `referral`).
    public var referrerCustomerID: UUID?
    /// Who referred the prospect when not (yet) a customer: a club member, a friend.
    public var referrerName: String?
    public var notes: String?
    public var tags: [String]

    public init(
        surname: String? = nil, name: String? = nil, gender: Gender? = nil, phone: String? = nil, party: LeadParty? = nil,
        companyName: String? = nil, customerType: LeadCustomerType? = nil, currentBrand: String? = nil,
        currentModel: String? = nil, interestBrand: String? = nil, interestSeries: String? = nil, interestModel: String? = nil,
        competitorModels: [String] = [], intendedPurchaseDate: LocalDate? = nil, channel: LeadChannel, campaign: String? = nil,
        referrerCustomerID: UUID? = nil, referrerName: String? = nil, notes: String? = nil, tags: [String] = []
    ) {
        self.surname = surname
        self.name = name
        self.gender = gender
        self.phone = phone
        self.party = party
        self.companyName = companyName
        self.customerType = customerType
        self.currentBrand = currentBrand
        self.currentModel = currentModel
        self.interestBrand = interestBrand
        self.interestSeries = interestSeries
        self.interestModel = interestModel
        self.competitorModels = competitorModels
        self.intendedPurchaseDate = intendedPurchaseDate
        self.channel = channel
        self.campaign = campaign
        self.referrerCustomerID = referrerCustomerID
        self.referrerName = referrerName
        self.notes = notes
        self.tags = tags
    }

    /// Checks and normalises (trimmed text, E.164 phone, de-duplicated lists). `today` is the
    /// dealer's calendar date.
    public func validated(today: LocalDate) throws(ValidationErrors) -> LeadFields {
        var errors = ValidationErrors()
        var result = self
        result.surname = Text.optional(surname, field: "surname", maxLength: 50, errors: &errors)
        result.name = Text.optional(name, field: "name", maxLength: 200, errors: &errors)
        result.phone = PhoneNumber.normalized(phone, errors: &errors)
        result.companyName = Text.optional(companyName, field: "company_name", maxLength: 200, errors: &errors)
        if party == .company, result.companyName == nil { errors.add("company_name", "is required for a company") }
        result.currentBrand = Text.optional(currentBrand, field: "current_brand", maxLength: 50, errors: &errors)
        result.currentModel = Text.optional(currentModel, field: "current_model", maxLength: 100, errors: &errors)
        result.interestBrand = Text.optional(interestBrand, field: "interest_brand", maxLength: 50, errors: &errors)
        result.interestSeries = Text.optional(interestSeries, field: "interest_series", maxLength: 100, errors: &errors)
        result.interestModel = Text.optional(interestModel, field: "interest_model", maxLength: 100, errors: &errors)
        result.competitorModels = Text.tags(competitorModels, field: "competitor_models", errors: &errors)
        if let date = intendedPurchaseDate {
            if date.year < 2000 { errors.add("intended_purchase_date", "must be after 2000") }
            if date > today.adding(months: 120) { errors.add("intended_purchase_date", "must be within ten years") }
        }
        result.campaign = Text.optional(campaign, field: "campaign", maxLength: 200, errors: &errors)
        result.referrerName = Text.optional(referrerName, field: "referrer_name", maxLength: 200, errors: &errors)
        result.notes = Text.optional(notes, field: "notes", maxLength: 4000, errors: &errors)
        result.tags = Text.tags(tags, field: "tags", errors: &errors)
        if result.surname == nil, result.name == nil, result.phone == nil, result.companyName == nil, errors.isEmpty {
            errors.add("surname", "a lead needs at least a surname, a name, a phone number or a company name")
        }
        try errors.throwIfAny()
        return result
    }
}

/// The last contact and the plan for the next: what a follow-up leaves on the lead.
public struct ContactPlan: Sendable, Equatable {
    public var lastContactAt: Date?
    public var lastContactResult: String?
    public var nextContactDate: LocalDate?
    public var nextContactAction: String?

    public init(lastContactAt: Date? = nil, lastContactResult: String? = nil, nextContactDate: LocalDate? = nil, nextContactAction: String? = nil) {
        self.lastContactAt = lastContactAt
        self.lastContactResult = lastContactResult
        self.nextContactDate = nextContactDate
        self.nextContactAction = nextContactAction
    }
}

/// A declared loss and the manager's decision on it.
public struct LeadLoss: Sendable, Equatable {
    public var reason: LossReason
    /// The competitor's brand and model, when the prospect bought one.
    public var competitor: String?
    public var note: String?
    public var requestedAt: Date
    public var requestedByKey: UUID?
    public var decision: LossDecision?
    public var decidedAt: Date?
    public var decidedByKey: UUID?
    public var decisionNote: String?

    public init(
        reason: LossReason, competitor: String?, note: String?, requestedAt: Date, requestedByKey: UUID?,
        decision: LossDecision? = nil, decidedAt: Date? = nil, decidedByKey: UUID? = nil, decisionNote: String? = nil
    ) {
        self.reason = reason
        self.competitor = competitor
        self.note = note
        self.requestedAt = requestedAt
        self.requestedByKey = requestedByKey
        self.decision = decision
        self.decidedAt = decidedAt
        self.decidedByKey = decidedByKey
        self.decisionNote = decisionNote
    }
}

/// The car sold when a lead is won.
public struct LeadSale: Sendable, Equatable {
    public var vehicleID: UUID
    public var customerID: UUID
    /// In minor units (fen).
    public var priceMinor: Int64
    public var currency: String
    public var deliveryDate: LocalDate
    public var wonAt: Date

    public init(vehicleID: UUID, customerID: UUID, priceMinor: Int64, currency: String, deliveryDate: LocalDate, wonAt: Date) {
        self.vehicleID = vehicleID
        self.customerID = customerID
        self.priceMinor = priceMinor
        self.currency = currency
        self.deliveryDate = deliveryDate
        self.wonAt = wonAt
    }
}

/// A lead as stored.
public struct Lead: Sendable, Equatable {
    public var id: UUID
    public var dealerID: UUID
    public var fields: LeadFields
    public var status: LeadStatus
    /// The consultant who owns it; nil while it waits in the shared pool.
    public var consultantID: UUID?
    public var assignedAt: Date?
    public var contact: ContactPlan
    /// The customer the prospect already is (a repeat buyer) or became.
    public var customerID: UUID?
    public var loss: LeadLoss?
    public var sale: LeadSale?
    public var lostAt: Date?
    public var mergedInto: UUID?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(
        id: UUID, dealerID: UUID, fields: LeadFields, status: LeadStatus, consultantID: UUID?, assignedAt: Date?,
        contact: ContactPlan, customerID: UUID?, loss: LeadLoss?, sale: LeadSale?, lostAt: Date?, mergedInto: UUID?,
        createdAt: Date, updatedAt: Date, version: Int
    ) {
        self.id = id
        self.dealerID = dealerID
        self.fields = fields
        self.status = status
        self.consultantID = consultantID
        self.assignedAt = assignedAt
        self.contact = contact
        self.customerID = customerID
        self.loss = loss
        self.sale = sale
        self.lostAt = lostAt
        self.mergedInto = mergedInto
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    public var isInPool: Bool { consultantID == nil && status.isOpen }
}

/// The 11 fields that make a lead qualified (BMW China's dealer database standard).
public enum QualificationField: String, Sendable, CaseIterable, Codable {
    /// The assigned sales consultant.
    case consultant
    case customerType = "customer_type"
    case channel
    /// Individual or company.
    case party
    /// Male or female (`unknown` does not count).
    case gender
    case surname
    case phone
    /// Brand and model of the current car (a first purchase has none: satisfied).
    case currentVehicle = "current_vehicle"
    case intendedPurchaseDate = "intended_purchase_date"
    /// Series and model of interest.
    case interestModel = "interest_model"
    /// The last contact's result together with the next contact date.
    case contactPlan = "contact_plan"
}

/// The lead rules: qualification, temperature, follow-up deadlines, status progress. Plain
/// functions of their inputs; the repository mirrors qualification in a generated column and
/// temperature in date bounds (tests check both agree).
public enum LeadRules {
    /// The qualification fields the lead lacks; empty means qualified.
    public static func missingFields(_ lead: Lead) -> [QualificationField] {
        let f = lead.fields
        var missing: [QualificationField] = []
        if lead.consultantID == nil { missing.append(.consultant) }
        if f.customerType == nil { missing.append(.customerType) }
        // The channel is required on every lead, so it is always present.
        if f.party == nil { missing.append(.party) }
        if f.gender != .male && f.gender != .female { missing.append(.gender) }
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

extension LocalDate {
    /// The instant this date begins in a time zone.
    public func startOfDay(in timeZone: TimeZone) -> Date {
        let utcMidnight = Date(timeIntervalSince1970: Double(daysSinceEpoch) * 86_400)
        // The offset at (about) that moment; good to the second away from a DST switch at midnight.
        let offset = timeZone.secondsFromGMT(for: utcMidnight.addingTimeInterval(-Double(timeZone.secondsFromGMT(for: utcMidnight))))
        return utcMidnight.addingTimeInterval(-Double(offset))
    }
}
