public import Foundation

/// Why a customer (or a reminder to him) may not receive marketing now. The one place that
/// answers for a customer is `MarketingSuppression` in CRMServices; the reminder scan decides
/// with the same rule (`MarketingRules`) over facts it reads in bulk.
public struct SuppressionReason: Sendable, Equatable, Codable {
    public enum Code: String, Sendable, CaseIterable, Codable {
        /// A complaint of his awaits handling.
        case openComplaint = "open_complaint"
        /// The vehicle is under an open recall: the recall notice goes instead.
        case openRecall = "open_recall"
        /// No granted consent on any channel the dealer uses.
        case noConsent = "no_consent"
        /// He withdrew every consent he had given.
        case optedOut = "opted_out"
        /// He was erased.
        case erased
        /// The vehicle is no longer his (sold, ownership ended).
        case ownershipEnded = "ownership_ended"
        /// A visit (or a booked appointment) came after the reminder was created.
        case visited
        /// He already had the dealer's maximum of marketing reminders within 7 days.
        case frequencyCap = "frequency_cap"
    }

    public var code: Code
    /// The record or figure behind it (a complaint's number, a visit's date, the count).
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}

/// What is known about a customer (and, for a reminder, its vehicle) when marketing to him is
/// decided.
public struct MarketingFacts: Sendable, Equatable {
    public var erased: Bool
    /// Numbers of his complaints awaiting handling.
    public var openComplaints: [String]
    /// Channels with a granted consent, and channels whose consent he withdrew.
    public var granted: Set<ConsentChannel>
    public var withdrawn: Set<ConsentChannel>
    /// Marketing reminders queued or sent to him within the last 7 days.
    public var recentMarketing: Int
    /// For a vehicle: whether it is under an open recall, and whether he owns it now.
    public var openRecall: Bool
    public var ownsVehicle: Bool
    /// A visit (or appointment) of the vehicle (or of his, for a customer reminder) since the
    /// reminder was created: its date.
    public var visitedOn: LocalDate?

    public init(
        erased: Bool = false, openComplaints: [String] = [], granted: Set<ConsentChannel> = [], withdrawn: Set<ConsentChannel> = [],
        recentMarketing: Int = 0, openRecall: Bool = false, ownsVehicle: Bool = true, visitedOn: LocalDate? = nil
    ) {
        self.erased = erased
        self.openComplaints = openComplaints
        self.granted = granted
        self.withdrawn = withdrawn
        self.recentMarketing = recentMarketing
        self.openRecall = openRecall
        self.ownsVehicle = ownsVehicle
        self.visitedOn = visitedOn
    }
}

/// The marketing rule (DOMAIN.md "Permission marketing", Basic 11 item 4): who may be contacted,
/// through which channel, and if not, why.
public enum MarketingRules {
    /// The reasons a customer may not receive marketing now, most fundamental first (empty: he
    /// may): erased; his open complaints; opted out or without consent on any of `channels`.
    public static func customerReasons(_ facts: MarketingFacts, channels: [ConsentChannel]) -> [SuppressionReason] {
        if facts.erased { return [SuppressionReason(.erased, "the customer was erased")] }
        var reasons = facts.openComplaints.map { SuppressionReason(.openComplaint, $0) }
        if channels.first(where: facts.granted.contains) == nil {
            if !facts.withdrawn.isEmpty, facts.granted.isEmpty {
                reasons.append(
                    SuppressionReason(.optedOut, "withdrew consent on " + facts.withdrawn.map(\.rawValue).sorted().joined(separator: ", ")))
            } else {
                reasons.append(SuppressionReason(.noConsent, "no granted consent on " + channels.map(\.rawValue).joined(separator: ", ")))
            }
        }
        return reasons
    }

    /// The channel to use: the first of the dealer's `order` with a granted consent; for a
    /// service-critical message without one, the phone (the advisor calls).
    public static func channel(order: [ConsentChannel], granted: Set<ConsentChannel>, serviceCritical: Bool) -> ConsentChannel? {
        order.first(where: granted.contains) ?? (serviceCritical ? .phone : nil)
    }
}
