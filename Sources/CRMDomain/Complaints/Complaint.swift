public import Foundation

/// What a complaint is about, as taken in (and edited while it is open).
public struct ComplaintFields: Sendable, Equatable {
    public var customerID: UUID
    public var vehicleID: UUID?
    /// The service visit (repair order) it is about.
    public var serviceVisitID: UUID?
    /// The lead (sales process) it is about.
    public var leadID: UUID?
    public var channel: ComplaintChannel
    public var category: ComplaintCategory
    public var severity: ComplaintSeverity
    /// The complaint concerns safety (brakes, airbags...).
    public var safetyRelated: Bool
    /// The customer threatens media or public exposure.
    public var mediaRisk: Bool
    public var description: String
    /// What the customer asks for.
    public var customerRequest: String?

    public init(
        customerID: UUID, vehicleID: UUID? = nil, serviceVisitID: UUID? = nil, leadID: UUID? = nil, channel: ComplaintChannel,
        category: ComplaintCategory, severity: ComplaintSeverity, safetyRelated: Bool = false, mediaRisk: Bool = false,
        description: String, customerRequest: String? = nil
    ) {
        self.customerID = customerID
        self.vehicleID = vehicleID
        self.serviceVisitID = serviceVisitID
        self.leadID = leadID
        self.channel = channel
        self.category = category
        self.severity = severity
        self.safetyRelated = safetyRelated
        self.mediaRisk = mediaRisk
        self.description = description
        self.customerRequest = customerRequest
    }

    public func validated() throws(ValidationErrors) -> ComplaintFields {
        var errors = ValidationErrors()
        var result = self
        result.description = Text.required(description, field: "description", maxLength: 4000, errors: &errors) ?? description
        result.customerRequest = Text.optional(customerRequest, field: "customer_request", maxLength: 2000, errors: &errors)
        try errors.throwIfAny()
        return result
    }
}

/// How a complaint was resolved.
public struct ComplaintResolution: Sendable, Equatable {
    public var rootCause: String
    public var remedy: ComplaintRemedy
    /// What the remedy cost the dealer (fen), if anything.
    public var cost: Money?
    public var customerAccepted: Bool
    public var note: String?

    public init(rootCause: String, remedy: ComplaintRemedy, cost: Money?, customerAccepted: Bool, note: String?) {
        self.rootCause = rootCause
        self.remedy = remedy
        self.cost = cost
        self.customerAccepted = customerAccepted
        self.note = note
    }
}

/// A complaint's two SLA clocks: acknowledge within, resolve within, counted in the dealer's
/// business hours or around the clock (the policy of its severity when it was taken in). The
/// resolve clock stands while the complaint waits on the customer and between its resolution
/// and a reopening; what is left of it is kept and it runs on from there.
public struct ComplaintClock: Sendable, Equatable {
    /// Counted in the dealer's business hours (else around the clock).
    public var businessHours: Bool
    /// The SLAs, in counted seconds.
    public var acknowledgeSeconds: Double
    public var resolveSeconds: Double
    public var acknowledgeDueAt: Date
    /// When 80% of the acknowledge SLA has passed.
    public var acknowledgeWarnAt: Date
    public var acknowledgedAt: Date?
    /// While the resolve clock runs: when it runs out, and when 80% of its SLA has passed (or,
    /// resumed with less than 20% left, the moment it resumed). Nil while it stands.
    public var resolveDueAt: Date?
    public var resolveWarnAt: Date?
    /// While the resolve clock stands: the counted seconds it had left (negative: overdue).
    public var resolveRemaining: Double?
    public var resolvedAt: Date?
    /// Wall seconds the complaint spent being worked (not waiting, not resolved) before
    /// `activeSince`; with the running stretch, the time to acknowledge or resolve net of pauses.
    public var activeSeconds: Double
    public var activeSince: Date?
    /// The SLA events already raised in the current cycle (see `ComplaintRules.slaEvents`).
    public var raised: Set<String>
    /// When the next SLA event (a warning, a breach) falls due; nil when none can.
    public var nextEventAt: Date?

    public init(
        businessHours: Bool, acknowledgeSeconds: Double, resolveSeconds: Double, acknowledgeDueAt: Date, acknowledgeWarnAt: Date,
        acknowledgedAt: Date?, resolveDueAt: Date?, resolveWarnAt: Date?, resolveRemaining: Double?, resolvedAt: Date?,
        activeSeconds: Double, activeSince: Date?, raised: Set<String>, nextEventAt: Date?
    ) {
        self.businessHours = businessHours
        self.acknowledgeSeconds = acknowledgeSeconds
        self.resolveSeconds = resolveSeconds
        self.acknowledgeDueAt = acknowledgeDueAt
        self.acknowledgeWarnAt = acknowledgeWarnAt
        self.acknowledgedAt = acknowledgedAt
        self.resolveDueAt = resolveDueAt
        self.resolveWarnAt = resolveWarnAt
        self.resolveRemaining = resolveRemaining
        self.resolvedAt = resolvedAt
        self.activeSeconds = activeSeconds
        self.activeSince = activeSince
        self.raised = raised
        self.nextEventAt = nextEventAt
    }
}

/// A complaint as stored.
public struct Complaint: Sendable, Equatable {
    public var id: UUID
    public var dealerID: UUID
    /// Readable per dealer and year: `TS-2026-000123`.
    public var number: String
    public var fields: ComplaintFields
    public var status: ComplaintStatus
    /// The staff member handling it.
    public var ownerID: UUID?
    public var escalation: EscalationLevel
    public var reopenCount: Int
    public var clock: ComplaintClock
    public var resolution: ComplaintResolution?
    public var closedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(
        id: UUID, dealerID: UUID, number: String, fields: ComplaintFields, status: ComplaintStatus, ownerID: UUID?,
        escalation: EscalationLevel, reopenCount: Int, clock: ComplaintClock, resolution: ComplaintResolution?, closedAt: Date?,
        createdAt: Date, updatedAt: Date, version: Int
    ) {
        self.id = id
        self.dealerID = dealerID
        self.number = number
        self.fields = fields
        self.status = status
        self.ownerID = ownerID
        self.escalation = escalation
        self.reopenCount = reopenCount
        self.clock = clock
        self.resolution = resolution
        self.closedAt = closedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// One entry of a complaint's timeline (append-only): who did what, when.
public struct ComplaintEvent: Sendable, Equatable {
    public var id: UUID
    public var complaintID: UUID
    public var kind: ComplaintEventKind
    public var fromStatus: ComplaintStatus?
    public var toStatus: ComplaintStatus?
    public var note: String?
    /// Kind-specific details (`owner_id`, `level`, `clock`...), as text.
    public var details: [String: String]
    public var actor: Actor
    public var at: Date

    public init(
        id: UUID, complaintID: UUID, kind: ComplaintEventKind, fromStatus: ComplaintStatus? = nil, toStatus: ComplaintStatus? = nil,
        note: String? = nil, details: [String: String] = [:], actor: Actor, at: Date
    ) {
        self.id = id
        self.complaintID = complaintID
        self.kind = kind
        self.fromStatus = fromStatus
        self.toStatus = toStatus
        self.note = note
        self.details = details
        self.actor = actor
        self.at = at
    }
}

/// A dealer's complaint handling policy: the SLA per severity, the business calendar the clocks
/// count in, the satisfaction callback after a resolution, and the thresholds of the survey
/// integrity checks.
public struct ComplaintPolicy: Sendable, Equatable, Codable {
    /// One severity's SLA.
    public struct Deadlines: Sendable, Equatable, Codable {
        public var acknowledgeMinutes: Int
        public var resolveMinutes: Int
        /// Counted in business hours (else around the clock).
        public var businessHours: Bool

        public init(acknowledgeMinutes: Int, resolveMinutes: Int, businessHours: Bool) {
            self.acknowledgeMinutes = acknowledgeMinutes
            self.resolveMinutes = resolveMinutes
            self.businessHours = businessHours
        }

        enum CodingKeys: String, CodingKey {
            case acknowledgeMinutes = "acknowledge_minutes"
            case resolveMinutes = "resolve_minutes"
            case businessHours = "business_hours"
        }
    }

    public var critical: Deadlines
    public var high: Deadlines
    public var normal: Deadlines
    public var low: Deadlines
    public var calendar: BusinessCalendar
    /// The satisfaction callback is due this many working days after the resolution.
    public var callbackWorkingDays: Int
    /// A callback's window: from its due date for this many days.
    public var callbackWindowDays: Int
    /// Failed attempts (no answer, wrong number) after which a callback counts as done
    /// (unreachable).
    public var callbackMaxAttempts: Int
    public var integrity: SurveyIntegrityThresholds

    public init(
        critical: Deadlines = .init(acknowledgeMinutes: 120, resolveMinutes: 1440, businessHours: false),
        high: Deadlines = .init(acknowledgeMinutes: 240, resolveMinutes: 1440, businessHours: true),
        normal: Deadlines = .init(acknowledgeMinutes: 480, resolveMinutes: 2880, businessHours: true),
        low: Deadlines = .init(acknowledgeMinutes: 960, resolveMinutes: 4800, businessHours: true),
        calendar: BusinessCalendar = .standard, callbackWorkingDays: Int = 1, callbackWindowDays: Int = 2,
        callbackMaxAttempts: Int = 3, integrity: SurveyIntegrityThresholds = SurveyIntegrityThresholds()
    ) {
        self.critical = critical
        self.high = high
        self.normal = normal
        self.low = low
        self.calendar = calendar
        self.callbackWorkingDays = callbackWorkingDays
        self.callbackWindowDays = callbackWindowDays
        self.callbackMaxAttempts = callbackMaxAttempts
        self.integrity = integrity
    }

    public func deadlines(_ severity: ComplaintSeverity) -> Deadlines {
        switch severity {
        case .critical: return critical
        case .high: return high
        case .normal: return normal
        case .low: return low
        }
    }

    enum CodingKeys: String, CodingKey {
        case critical, high, normal, low, calendar, integrity
        case callbackWorkingDays = "callback_working_days"
        case callbackWindowDays = "callback_window_days"
        case callbackMaxAttempts = "callback_max_attempts"
    }

    /// Missing members take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ComplaintPolicy()
        critical = try c.decodeIfPresent(Deadlines.self, forKey: .critical) ?? d.critical
        high = try c.decodeIfPresent(Deadlines.self, forKey: .high) ?? d.high
        normal = try c.decodeIfPresent(Deadlines.self, forKey: .normal) ?? d.normal
        low = try c.decodeIfPresent(Deadlines.self, forKey: .low) ?? d.low
        calendar = try c.decodeIfPresent(BusinessCalendar.self, forKey: .calendar) ?? d.calendar
        callbackWorkingDays = try c.decodeIfPresent(Int.self, forKey: .callbackWorkingDays) ?? d.callbackWorkingDays
        callbackWindowDays = try c.decodeIfPresent(Int.self, forKey: .callbackWindowDays) ?? d.callbackWindowDays
        callbackMaxAttempts = try c.decodeIfPresent(Int.self, forKey: .callbackMaxAttempts) ?? d.callbackMaxAttempts
        integrity = try c.decodeIfPresent(SurveyIntegrityThresholds.self, forKey: .integrity) ?? d.integrity
    }

    public func validated() throws(ValidationErrors) -> ComplaintPolicy {
        var errors = ValidationErrors()
        for (name, deadlines) in [("critical", critical), ("high", high), ("normal", normal), ("low", low)] {
            if !(1...100_000).contains(deadlines.acknowledgeMinutes) {
                errors.add("settings.complaints.\(name).acknowledge_minutes", "must be between 1 and 100000")
            }
            if !(1...1_000_000).contains(deadlines.resolveMinutes) {
                errors.add("settings.complaints.\(name).resolve_minutes", "must be between 1 and 1000000")
            }
            if deadlines.resolveMinutes < deadlines.acknowledgeMinutes {
                errors.add("settings.complaints.\(name).resolve_minutes", "cannot be shorter than acknowledge_minutes")
            }
        }
        do {
            _ = try calendar.validated(field: "settings.complaints.calendar")
        } catch {
            errors.merge(error)
        }
        if !(1...30).contains(callbackWorkingDays) { errors.add("settings.complaints.callback_working_days", "must be between 1 and 30") }
        if !(1...30).contains(callbackWindowDays) { errors.add("settings.complaints.callback_window_days", "must be between 1 and 30") }
        if !(1...20).contains(callbackMaxAttempts) { errors.add("settings.complaints.callback_max_attempts", "must be between 1 and 20") }
        do {
            _ = try integrity.validated()
        } catch {
            errors.merge(error)
        }
        try errors.throwIfAny()
        return self
    }
}

/// When a survey looks doctored (seeds: staff falsify surveys and change customers' phone
/// numbers to pass OEM audits).
public struct SurveyIntegrityThresholds: Sendable, Equatable, Codable {
    /// The customer's phone changed within this many days before the survey.
    public var phoneChangeDays: Int
    /// A call shorter than this, yet every question answered.
    public var shortCallSeconds: Int
    /// One staff member's surveys with top scores at this share or more...
    public var topScoreShare: Double
    /// ... over at least this many surveys ...
    public var topScoreMinSurveys: Int
    /// ... within this many days.
    public var topScoreDays: Int

    public init(phoneChangeDays: Int = 30, shortCallSeconds: Int = 30, topScoreShare: Double = 0.95, topScoreMinSurveys: Int = 20, topScoreDays: Int = 30) {
        self.phoneChangeDays = phoneChangeDays
        self.shortCallSeconds = shortCallSeconds
        self.topScoreShare = topScoreShare
        self.topScoreMinSurveys = topScoreMinSurveys
        self.topScoreDays = topScoreDays
    }

    enum CodingKeys: String, CodingKey {
        case phoneChangeDays = "phone_change_days"
        case shortCallSeconds = "short_call_seconds"
        case topScoreShare = "top_score_share"
        case topScoreMinSurveys = "top_score_min_surveys"
        case topScoreDays = "top_score_days"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SurveyIntegrityThresholds()
        phoneChangeDays = try c.decodeIfPresent(Int.self, forKey: .phoneChangeDays) ?? d.phoneChangeDays
        shortCallSeconds = try c.decodeIfPresent(Int.self, forKey: .shortCallSeconds) ?? d.shortCallSeconds
        topScoreShare = try c.decodeIfPresent(Double.self, forKey: .topScoreShare) ?? d.topScoreShare
        topScoreMinSurveys = try c.decodeIfPresent(Int.self, forKey: .topScoreMinSurveys) ?? d.topScoreMinSurveys
        topScoreDays = try c.decodeIfPresent(Int.self, forKey: .topScoreDays) ?? d.topScoreDays
    }

    public func validated() throws(ValidationErrors) -> SurveyIntegrityThresholds {
        var errors = ValidationErrors()
        let field = "settings.complaints.integrity"
        if !(1...365).contains(phoneChangeDays) { errors.add("\(field).phone_change_days", "must be between 1 and 365") }
        if !(1...600).contains(shortCallSeconds) { errors.add("\(field).short_call_seconds", "must be between 1 and 600") }
        if !(0.5...1.0).contains(topScoreShare) { errors.add("\(field).top_score_share", "must be between 0.5 and 1") }
        if !(1...1000).contains(topScoreMinSurveys) { errors.add("\(field).top_score_min_surveys", "must be between 1 and 1000") }
        if !(1...365).contains(topScoreDays) { errors.add("\(field).top_score_days", "must be between 1 and 365") }
        try errors.throwIfAny()
        return self
    }
}
