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

    /// The longest notes a lead keeps.
    public static let notesLimit = 4000

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
        result.notes = Text.optional(notes, field: "notes", maxLength: Self.notesLimit, errors: &errors)
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
    /// The status the lead had when the loss was declared (where a rejection returns it).
    public var statusBefore: LeadStatus?
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
        statusBefore: LeadStatus?, reason: LossReason, competitor: String?, note: String?, requestedAt: Date,
        requestedByKey: UUID?, decision: LossDecision? = nil, decidedAt: Date? = nil, decidedByKey: UUID? = nil,
        decisionNote: String? = nil
    ) {
        self.statusBefore = statusBefore
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
    public var price: Money
    public var deliveryDate: LocalDate
    public var wonAt: Date

    public init(vehicleID: UUID, customerID: UUID, price: Money, deliveryDate: LocalDate, wonAt: Date) {
        self.vehicleID = vehicleID
        self.customerID = customerID
        self.price = price
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

    public init(
        id: UUID, leadID: UUID, fromConsultantID: UUID?, toConsultantID: UUID?, reason: AssignmentReason, actorKey: UUID?,
        at: Date
    ) {
        self.id = id
        self.leadID = leadID
        self.fromConsultantID = fromConsultantID
        self.toConsultantID = toConsultantID
        self.reason = reason
        self.actorKey = actorKey
        self.at = at
    }
}

/// A consent given while a lead; carried over to the customer at conversion.
public struct LeadConsent: Sendable, Equatable {
    public var channel: ConsentChannel
    public var status: ConsentStatus
    public var source: ConsentSource
    public var effectiveAt: Date

    public init(channel: ConsentChannel, status: ConsentStatus, source: ConsentSource, effectiveAt: Date) {
        self.channel = channel
        self.status = status
        self.source = source
        self.effectiveAt = effectiveAt
    }
}

