/// Where a lead came from: the eleven channels dealers analyse by volume, share and conversion.
public enum LeadChannel: String, Sendable, CaseIterable, Codable {
    /// Showroom walk-in.
    case showroom
    /// The consultant's own prospecting.
    case ownProspecting = "own_prospecting"
    case telemarketing
    /// Referred by friends or family (a customer or club member).
    case referral
    /// Key account (fleet).
    case keyAccount = "key_account"
    case secondaryDealer = "secondary_dealer"
    case marketingEvent = "marketing_event"
    case advertising
    case brandPartnership = "brand_partnership"
    case purchasedData = "purchased_data"
    /// Website, app, online platforms.
    case online
}

/// Where a lead is in the sales process.
public enum LeadStatus: String, Sendable, CaseIterable, Codable {
    case new
    case contacted
    case visited
    case testDrive = "test_drive"
    case negotiating
    /// Declared lost, waiting for a manager's approval.
    case lossPending = "loss_pending"
    case won
    case lost
    /// Merged into another lead (its history moved there).
    case merged

    /// Still being worked (a consultant owns it or it waits in the pool).
    public var isOpen: Bool {
        switch self {
        case .new, .contacted, .visited, .testDrive, .negotiating, .lossPending: return true
        case .won, .lost, .merged: return false
        }
    }

    /// The open statuses (for SQL conditions).
    public static let open: [LeadStatus] = allCases.filter(\.isOpen)

    /// Progress order of the working statuses (a follow-up never moves a lead backwards).
    var rank: Int {
        switch self {
        case .new: return 0
        case .contacted: return 1
        case .visited: return 2
        case .testDrive: return 3
        case .negotiating: return 4
        case .lossPending, .won, .lost, .merged: return 5
        }
    }

    /// The statuses `POST /v1/leads/{id}/status` may move a lead to from here. Winning goes
    /// through conversion, losing through a loss declaration and its approval.
    public var allowedProgress: [LeadStatus] {
        switch self {
        case .new: return [.contacted, .visited, .testDrive, .negotiating]
        case .contacted: return [.visited, .testDrive, .negotiating]
        case .visited: return [.testDrive, .negotiating]
        case .testDrive: return [.negotiating]
        case .negotiating, .lossPending, .won, .lost, .merged: return []
        }
    }

    /// Whether a sale can be recorded (conversion) from here.
    public var canConvert: Bool { isOpen && self != .lossPending }
    /// Whether a loss can be declared from here.
    public var canDeclareLoss: Bool { isOpen && self != .lossPending }
}

/// The prospect's purchase situation.
public enum LeadCustomerType: String, Sendable, CaseIterable, Codable {
    case firstPurchase = "first_purchase"
    case replacement
    /// An additional car next to the current one.
    case additional
}

/// An individual or a company.
public enum LeadParty: String, Sendable, CaseIterable, Codable {
    case individual
    case company
}

/// How a contact with the prospect happened.
public enum FollowUpChannel: String, Sendable, CaseIterable, Codable {
    case phone
    case visit
    case wechat
    case sms
    case testDrive = "test_drive"

    /// The status a contact of this kind shows the lead has reached at least.
    var impliedStatus: LeadStatus {
        switch self {
        case .visit: return .visited
        case .testDrive: return .testDrive
        case .phone, .wechat, .sms: return .contacted
        }
    }
}

/// Why a lead was lost.
public enum LossReason: String, Sendable, CaseIterable, Codable {
    /// Bought a competitor's car (which one is recorded).
    case boughtCompetitor = "bought_competitor"
    case price
    case postponed
    case unreachable
    case noLongerInterested = "no_longer_interested"
    case financing
    case other
}

/// A manager's decision on a declared loss.
public enum LossDecision: String, Sendable, CaseIterable, Codable {
    case approve
    case reject
}

/// How warm a prospect is, from the intended purchase date.
public enum LeadTemperature: String, Sendable, CaseIterable, Codable {
    /// Intends to buy within 3 months.
    case hot
    /// In 3 to 12 months.
    case warm
    /// Later than 12 months.
    case cold
}

/// Why a lead changed hands.
public enum AssignmentReason: String, Sendable, CaseIterable, Codable {
    /// Assigned when the lead was captured.
    case created
    /// A manager chose the consultant.
    case manual
    /// The dealer's round-robin chose the consultant.
    case roundRobin = "round_robin"
    /// A consultant took it from the shared pool.
    case claimed
    /// Not followed up in time: back to the pool.
    case recycled
    /// Moved by a manager to the pool.
    case released
}
