public import Foundation

/// Filters of the complaint list (`GET /v1/complaints`).
public struct ComplaintFilter: Sendable, Equatable {
    public var status: ComplaintStatus?
    /// Only complaints that await handling (or, false, only resolved and closed ones).
    public var open: Bool?
    public var severity: ComplaintSeverity?
    public var category: ComplaintCategory?
    public var channel: ComplaintChannel?
    public var ownerID: UUID?
    public var customerID: UUID?
    /// Escalated at least this far (`oem_group`: the group's escalated list).
    public var minimumEscalation: EscalationLevel?
    /// Open with a deadline passed.
    public var overdue: Bool
    public var createdAfter: Date?
    public var createdBefore: Date?

    public init(
        status: ComplaintStatus? = nil, open: Bool? = nil, severity: ComplaintSeverity? = nil, category: ComplaintCategory? = nil,
        channel: ComplaintChannel? = nil, ownerID: UUID? = nil, customerID: UUID? = nil, minimumEscalation: EscalationLevel? = nil,
        overdue: Bool = false, createdAfter: Date? = nil, createdBefore: Date? = nil
    ) {
        self.status = status
        self.open = open
        self.severity = severity
        self.category = category
        self.channel = channel
        self.ownerID = ownerID
        self.customerID = customerID
        self.minimumEscalation = minimumEscalation
        self.overdue = overdue
        self.createdAfter = createdAfter
        self.createdBefore = createdBefore
    }
}

/// Filters of the callback lists (`GET /v1/callbacks`).
public struct CallbackFilter: Sendable, Equatable {
    public var status: CallbackStatus?
    public var purpose: CallbackPurpose?
    public var assigneeID: UUID?
    public var complaintID: UUID?
    /// Open and due by today (its due date reached).
    public var due: Bool
    /// Open and its window over.
    public var overdue: Bool

    public init(
        status: CallbackStatus? = nil, purpose: CallbackPurpose? = nil, assigneeID: UUID? = nil, complaintID: UUID? = nil,
        due: Bool = false, overdue: Bool = false
    ) {
        self.status = status
        self.purpose = purpose
        self.assigneeID = assigneeID
        self.complaintID = complaintID
        self.due = due
        self.overdue = overdue
    }
}

/// How the complaint report groups its rows.
public enum ComplaintReportGrouping: String, Sendable, CaseIterable {
    case category
    case severity
    case channel
    case owner
    case dealer
}

/// The figures of one row of the complaint report, counted in SQL over the rows.
public struct ComplaintReportCounts: Sendable, Equatable {
    public var key: String?
    public var isTotal: Bool
    /// Taken in within the period.
    public var received: Int
    /// Of those, still awaiting handling now.
    public var open: Int
    /// Of those acknowledged: acknowledged by the deadline.
    public var acknowledged: Int
    public var acknowledgedOnTime: Int
    /// Of those resolved: resolved by the deadline (paused time not counted).
    public var resolved: Int
    public var resolvedOnTime: Int
    /// Median seconds to acknowledge, and to resolve net of the time waiting on the customer.
    public var medianSecondsToAcknowledge: Double?
    public var medianSecondsToResolve: Double?
    /// Complaints escalated at least once, and reopened at least once.
    public var escalated: Int
    public var reopened: Int
    /// Satisfaction callbacks of these complaints that fell due, and those done within their window.
    public var callbacksDue: Int
    public var callbacksOnTime: Int
    /// Surveys of these complaints' callbacks: mean CSI (1-5), NPS answers and their promoters
    /// (9-10) and detractors (0-6).
    public var csiAverage: Double?
    public var npsAnswers: Int
    public var promoters: Int
    public var detractors: Int

    public init(
        key: String?, isTotal: Bool, received: Int, open: Int, acknowledged: Int, acknowledgedOnTime: Int, resolved: Int,
        resolvedOnTime: Int, medianSecondsToAcknowledge: Double?, medianSecondsToResolve: Double?, escalated: Int, reopened: Int,
        callbacksDue: Int, callbacksOnTime: Int, csiAverage: Double?, npsAnswers: Int, promoters: Int, detractors: Int
    ) {
        self.key = key
        self.isTotal = isTotal
        self.received = received
        self.open = open
        self.acknowledged = acknowledged
        self.acknowledgedOnTime = acknowledgedOnTime
        self.resolved = resolved
        self.resolvedOnTime = resolvedOnTime
        self.medianSecondsToAcknowledge = medianSecondsToAcknowledge
        self.medianSecondsToResolve = medianSecondsToResolve
        self.escalated = escalated
        self.reopened = reopened
        self.callbacksDue = callbacksDue
        self.callbacksOnTime = callbacksOnTime
        self.csiAverage = csiAverage
        self.npsAnswers = npsAnswers
        self.promoters = promoters
        self.detractors = detractors
    }

    /// Shares (0-1), nil when their denominator is 0.
    public var acknowledgedOnTimeRate: Double? { LeadReportRates.share(acknowledgedOnTime, of: acknowledged) }
    public var resolvedOnTimeRate: Double? { LeadReportRates.share(resolvedOnTime, of: resolved) }
    public var reopenedRate: Double? { LeadReportRates.share(reopened, of: received) }
    public var callbacksOnTimeRate: Double? { LeadReportRates.share(callbacksOnTime, of: callbacksDue) }
    /// Net promoter score, -100 to 100.
    public var nps: Double? { npsAnswers == 0 ? nil : Double(promoters - detractors) * 100 / Double(npsAnswers) }
}

/// One flagged survey in the integrity report.
public struct FlaggedSurvey: Sendable, Equatable {
    public var surveyID: UUID
    public var dealerID: UUID
    public var callbackID: UUID
    public var customerID: UUID
    public var callerID: UUID?
    public var purpose: CallbackPurpose
    public var recordedAt: Date
    public var flags: [SurveyFlag]

    public init(
        surveyID: UUID, dealerID: UUID, callbackID: UUID, customerID: UUID, callerID: UUID?, purpose: CallbackPurpose, recordedAt: Date,
        flags: [SurveyFlag]
    ) {
        self.surveyID = surveyID
        self.dealerID = dealerID
        self.callbackID = callbackID
        self.customerID = customerID
        self.callerID = callerID
        self.purpose = purpose
        self.recordedAt = recordedAt
        self.flags = flags
    }
}

/// Survey integrity rates of a dealer or one staff member.
public struct SurveyIntegrityRate: Sendable, Equatable {
    public var dealerID: UUID
    /// Nil on a dealer's row.
    public var callerID: UUID?
    public var surveys: Int
    public var flagged: Int
    public var topScores: Int

    public init(dealerID: UUID, callerID: UUID?, surveys: Int, flagged: Int, topScores: Int) {
        self.dealerID = dealerID
        self.callerID = callerID
        self.surveys = surveys
        self.flagged = flagged
        self.topScores = topScores
    }

    public var flaggedRate: Double? { LeadReportRates.share(flagged, of: surveys) }
    public var topScoreRate: Double? { LeadReportRates.share(topScores, of: surveys) }
}
