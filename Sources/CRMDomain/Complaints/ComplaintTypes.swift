/// How a complaint reached the dealer.
public enum ComplaintChannel: String, Sendable, CaseIterable, Codable {
    case showroom
    case dealerHotline = "dealer_hotline"
    /// The OEM's 400 hotline.
    case oemHotline = "oem_hotline"
    case wechat
    case app
    case emailLetter = "email_letter"
    case socialMedia = "social_media"
    /// The consumer association (12315).
    case consumerAssociation = "consumer_association"
    /// Forwarded by the OEM.
    case oemForwarded = "oem_forwarded"
}

/// What the complaint is about.
public enum ComplaintCategory: String, Sendable, CaseIterable, Codable {
    case salesProcess = "sales_process"
    case serviceQuality = "service_quality"
    case repairNotFixed = "repair_not_fixed"
    case partsAvailability = "parts_availability"
    case priceBilling = "price_billing"
    case staffAttitude = "staff_attitude"
    case waitingTime = "waiting_time"
    case vehicleQuality = "vehicle_quality"
    case other
}

public enum ComplaintSeverity: String, Sendable, CaseIterable, Codable {
    case low
    case normal
    case high
    case critical
}

/// Where a complaint is in its handling.
public enum ComplaintStatus: String, Sendable, CaseIterable, Codable {
    case new
    case acknowledged
    case investigating
    /// Waiting for the customer: the resolution clock stands still.
    case waitingOnCustomer = "waiting_on_customer"
    case resolved
    case closed

    /// Not yet resolved: it suppresses marketing to the customer and its clocks may run.
    public var isOpen: Bool {
        switch self {
        case .new, .acknowledged, .investigating, .waitingOnCustomer: return true
        case .resolved, .closed: return false
        }
    }

    /// The open statuses (for SQL conditions).
    public static let open: [ComplaintStatus] = allCases.filter(\.isOpen)
}

/// The remedy offered to the customer.
public enum ComplaintRemedy: String, Sendable, CaseIterable, Codable {
    case apology
    case repair
    case refund
    case goodwillVoucher = "goodwill_voucher"
    case partReplacement = "part_replacement"
    case other
}

/// Who answers for a complaint: its owner, then (one level per missed deadline) the dealer's
/// manager, the dealer's admin, the OEM group.
public enum EscalationLevel: Int, Sendable, CaseIterable, Codable, Comparable {
    case owner = 0
    case dealerManager = 1
    case dealerAdmin = 2
    case oemGroup = 3

    public var name: String {
        switch self {
        case .owner: return "owner"
        case .dealerManager: return "dealer_manager"
        case .dealerAdmin: return "dealer_admin"
        case .oemGroup: return "oem_group"
        }
    }

    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = level
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// One level up (the OEM group is the top).
    public var next: EscalationLevel { EscalationLevel(rawValue: min(rawValue + 1, 3)) ?? .oemGroup }
}

/// What a timeline entry records.
public enum ComplaintEventKind: String, Sendable, CaseIterable, Codable {
    case created
    case statusChanged = "status_changed"
    case assigned
    case comment
    /// A call with the customer.
    case call
    /// The customer answered (resumes a paused clock).
    case customerReply = "customer_reply"
    case resolved
    case reopened
    case slaWarning = "sla_warning"
    case slaBreach = "sla_breach"
    case escalated
    case callbackScheduled = "callback_scheduled"
    case callbackCompleted = "callback_completed"
    case edited
}

/// Which of a complaint's two clocks.
public enum ComplaintClockName: String, Sendable, CaseIterable, Codable {
    case acknowledge
    case resolve
}

extension Permission {
    /// Read complaints, their timelines, callbacks and surveys.
    public static let complaintsRead = Permission("complaintsRead")
    /// Take complaints in, edit them, move them along, comment, log calls, make callbacks.
    public static let complaintsWrite = Permission("complaintsWrite")
    /// Resolve a complaint (root cause, remedy, cost).
    public static let complaintsResolve = Permission("complaintsResolve")
    /// Close a resolved complaint (after its satisfaction callback) or reopen it.
    public static let complaintsClose = Permission("complaintsClose")
    /// The survey integrity report (what an OEM audit uses).
    public static let surveysAudit = Permission("surveysAudit")
    /// Define the questions of a dealer's satisfaction surveys.
    public static let surveysDefine = Permission("surveysDefine")
}
