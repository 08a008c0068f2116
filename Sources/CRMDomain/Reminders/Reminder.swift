public import Foundation

/// What a reminder is about.
public enum ReminderKind: String, Sendable, CaseIterable, Codable {
    case maintenance
    /// The first service after delivery (首保).
    case firstService = "first_service"
    case birthday
    case insuranceRenewal = "insurance_renewal"
    case annualInspection = "annual_inspection"
    case warrantyExpiry = "warranty_expiry"
    /// No visit for the dealer's dormant months: a free safety check.
    case dormantRecall = "dormant_recall"
    /// The vehicle is under an open recall campaign: service-critical, not marketing.
    case recallNotice = "recall_notice"

    /// Marketing needs consent and yields to complaints, recalls and the frequency cap; the
    /// recall notice does not (it still never reaches an erased customer).
    public var isMarketing: Bool { self != .recallNotice }
    /// About a vehicle (all but the birthday, which is the customer's).
    public var isAboutVehicle: Bool { self != .birthday }
    /// A later visit of the vehicle makes the reminder moot (and counts as its return).
    public var isServiceDue: Bool { self == .maintenance || self == .firstService }
}

/// Where a reminder stands.
public enum ReminderStatus: String, Sendable, CaseIterable, Codable {
    /// Created, waiting for its send time (re-checked then).
    case pending
    /// Not sent, for the recorded reason.
    case suppressed
    /// Left out on purpose: the dealer's control group, to measure what reminders add.
    case heldBack = "held_back"
    /// Due to go out: a message waiting for the messages service, or a call task.
    case queued
    case sent
    /// The customer came back (a visit after it).
    case responded
    /// Its time passed before it could go out.
    case expired
}

/// A dealer's reminder settings (DealerSettings.reminders).
public struct ReminderPolicy: Sendable, Equatable, Codable {
    /// Days before the due date a reminder goes out, per kind.
    public var leadDays: [ReminderKind: Int]
    /// No visit for this many months makes a customer's vehicle dormant.
    public var dormantMonths: Int
    /// Local time of the daily scan (minutes after midnight) and of sending (the re-check).
    public var scanMinute: Int
    public var sendMinute: Int
    /// Used when a vehicle has too few usable odometer readings.
    public var defaultKmPerDay: Double
    /// At most this many marketing reminders per customer within 7 days.
    public var frequencyCap: Int
    /// A visit within this many days after the due date counts as a return.
    public var returnWindowDays: Int
    /// Percent of due marketing reminders held back as a control group (0-50).
    public var holdbackPercent: Int
    /// The channels in the dealer's order of preference.
    public var channelOrder: [ConsentChannel]
    /// A service reminder without a visit gets a second touch this many days after the due
    /// date (0: never).
    public var followUpDays: Int

    public static let defaultLeadDays: [ReminderKind: Int] = [
        .maintenance: 7, .firstService: 7, .birthday: 3, .insuranceRenewal: 30, .annualInspection: 30, .warrantyExpiry: 30,
        .dormantRecall: 0, .recallNotice: 0,
    ]

    public init(
        leadDays: [ReminderKind: Int] = ReminderPolicy.defaultLeadDays, dormantMonths: Int = 12, scanMinute: Int = 120,
        sendMinute: Int = 540, defaultKmPerDay: Double = 35, frequencyCap: Int = 2, returnWindowDays: Int = 30,
        holdbackPercent: Int = 0, channelOrder: [ConsentChannel] = [.wechat, .sms, .phone, .email, .mail], followUpDays: Int = 14
    ) {
        self.leadDays = leadDays
        self.dormantMonths = dormantMonths
        self.scanMinute = scanMinute
        self.sendMinute = sendMinute
        self.defaultKmPerDay = defaultKmPerDay
        self.frequencyCap = frequencyCap
        self.returnWindowDays = returnWindowDays
        self.holdbackPercent = holdbackPercent
        self.channelOrder = channelOrder
        self.followUpDays = followUpDays
    }

    public func leadDays(_ kind: ReminderKind) -> Int { leadDays[kind] ?? Self.defaultLeadDays[kind] ?? 0 }

    enum CodingKeys: String, CodingKey {
        case leadDays = "lead_days"
        case dormantMonths = "dormant_months"
        case scanTime = "scan_time"
        case sendTime = "send_time"
        case defaultKmPerDay = "default_km_per_day"
        case frequencyCap = "frequency_cap"
        case returnWindowDays = "return_window_days"
        case holdbackPercent = "holdback_percent"
        case channelOrder = "channel_order"
        case followUpDays = "follow_up_days"
    }

    /// Missing members keep their defaults; times are `HH:MM`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ReminderPolicy()
        var lead = d.leadDays
        for (name, days) in try c.decodeIfPresent([String: Int].self, forKey: .leadDays) ?? [:] {
            guard let kind = ReminderKind(rawValue: name) else {
                throw DecodingError.dataCorruptedError(forKey: .leadDays, in: c, debugDescription: "unknown reminder kind \(name)")
            }
            lead[kind] = days
        }
        leadDays = lead
        dormantMonths = try c.decodeIfPresent(Int.self, forKey: .dormantMonths) ?? d.dormantMonths
        scanMinute = try Self.minute(c, .scanTime) ?? d.scanMinute
        sendMinute = try Self.minute(c, .sendTime) ?? d.sendMinute
        defaultKmPerDay = try c.decodeIfPresent(Double.self, forKey: .defaultKmPerDay) ?? d.defaultKmPerDay
        frequencyCap = try c.decodeIfPresent(Int.self, forKey: .frequencyCap) ?? d.frequencyCap
        returnWindowDays = try c.decodeIfPresent(Int.self, forKey: .returnWindowDays) ?? d.returnWindowDays
        holdbackPercent = try c.decodeIfPresent(Int.self, forKey: .holdbackPercent) ?? d.holdbackPercent
        channelOrder = try c.decodeIfPresent([ConsentChannel].self, forKey: .channelOrder) ?? d.channelOrder
        followUpDays = try c.decodeIfPresent(Int.self, forKey: .followUpDays) ?? d.followUpDays
    }

    private static func minute(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Int? {
        guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h),
            (0..<60).contains(m)
        else { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "expected HH:MM") }
        return h * 60 + m
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Dictionary(uniqueKeysWithValues: ReminderKind.allCases.map { ($0.rawValue, leadDays($0)) }), forKey: .leadDays)
        try c.encode(dormantMonths, forKey: .dormantMonths)
        try c.encode(Self.text(scanMinute), forKey: .scanTime)
        try c.encode(Self.text(sendMinute), forKey: .sendTime)
        try c.encode(defaultKmPerDay, forKey: .defaultKmPerDay)
        try c.encode(frequencyCap, forKey: .frequencyCap)
        try c.encode(returnWindowDays, forKey: .returnWindowDays)
        try c.encode(holdbackPercent, forKey: .holdbackPercent)
        try c.encode(channelOrder, forKey: .channelOrder)
        try c.encode(followUpDays, forKey: .followUpDays)
    }

    static func text(_ minute: Int) -> String {
        let h = minute / 60
        let m = minute % 60
        return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }

    public func validated() throws(ValidationErrors) -> ReminderPolicy {
        var errors = ValidationErrors()
        let field = "settings.reminders"
        for kind in ReminderKind.allCases where !(0...120).contains(leadDays(kind)) {
            errors.add("\(field).lead_days.\(kind.rawValue)", "must be between 0 and 120")
        }
        if !(3...60).contains(dormantMonths) { errors.add("\(field).dormant_months", "must be between 3 and 60") }
        if !(1...1_000).contains(defaultKmPerDay) { errors.add("\(field).default_km_per_day", "must be between 1 and 1000") }
        if !(1...20).contains(frequencyCap) { errors.add("\(field).frequency_cap", "must be between 1 and 20") }
        if !(1...365).contains(returnWindowDays) { errors.add("\(field).return_window_days", "must be between 1 and 365") }
        if !(0...50).contains(holdbackPercent) { errors.add("\(field).holdback_percent", "must be between 0 and 50") }
        if channelOrder.isEmpty || Set(channelOrder).count != channelOrder.count {
            errors.add("\(field).channel_order", "must list channels once each")
        }
        if !(0...90).contains(followUpDays) { errors.add("\(field).follow_up_days", "must be between 0 and 90") }
        try errors.throwIfAny()
        return self
    }
}

/// A reminder: who is reminded of what, when, through which channel, and why not.
public struct Reminder: Sendable, Equatable {
    public var id: UUID
    public var dealerID: UUID
    public var customerID: UUID
    public var vehicleID: UUID?
    public var kind: ReminderKind
    public var dueDate: LocalDate
    /// 1: before the due date; 2: the follow-up after it when no visit came.
    public var touch: Int
    public var sendDate: LocalDate
    public var channel: ConsentChannel?
    public var status: ReminderStatus
    public var reason: SuppressionReason?
    /// What a message needs (names, plate, dates, km), as strings.
    public var data: [String: String]
    /// The vehicle's service advisor (the last visit's), who gets the call task.
    public var advisorID: UUID?
    public var callTaskID: UUID?
    /// The visit that answered it.
    public var respondedVisitID: UUID?
    public var queuedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: UUID, dealerID: UUID, customerID: UUID, vehicleID: UUID?, kind: ReminderKind, dueDate: LocalDate, touch: Int,
        sendDate: LocalDate, channel: ConsentChannel?, status: ReminderStatus, reason: SuppressionReason?, data: [String: String],
        advisorID: UUID?, callTaskID: UUID?, respondedVisitID: UUID?, queuedAt: Date?, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.dealerID = dealerID
        self.customerID = customerID
        self.vehicleID = vehicleID
        self.kind = kind
        self.dueDate = dueDate
        self.touch = touch
        self.sendDate = sendDate
        self.channel = channel
        self.status = status
        self.reason = reason
        self.data = data
        self.advisorID = advisorID
        self.callTaskID = callTaskID
        self.respondedVisitID = respondedVisitID
        self.queuedAt = queuedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One reminder the scan found due, with the facts its decision needs (read in bulk).
public struct ReminderCandidate: Sendable, Equatable {
    public var customerID: UUID
    public var vehicleID: UUID?
    public var kind: ReminderKind
    public var dueDate: LocalDate
    public var touch: Int
    public var facts: MarketingFacts
    public var advisorID: UUID?
    public var data: [String: String]

    public init(
        customerID: UUID, vehicleID: UUID?, kind: ReminderKind, dueDate: LocalDate, touch: Int, facts: MarketingFacts, advisorID: UUID?,
        data: [String: String]
    ) {
        self.customerID = customerID
        self.vehicleID = vehicleID
        self.kind = kind
        self.dueDate = dueDate
        self.touch = touch
        self.facts = facts
        self.advisorID = advisorID
        self.data = data
    }
}
