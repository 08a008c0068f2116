public import Foundation

/// When a dealer works: opening hours per weekday and closed days, in the dealer's time zone.
/// SLA clocks that run "in business hours" count only the time inside these hours.
public struct BusinessCalendar: Sendable, Equatable, Codable {
    /// Opening hours of one weekday, minutes after local midnight (`opens` < `closes`).
    public struct Hours: Sendable, Equatable, Codable {
        public var opens: Int
        public var closes: Int

        public init(opens: Int, closes: Int) {
            self.opens = opens
            self.closes = closes
        }

        /// `HH:MM-HH:MM`.
        public init?(_ text: String) {
            let parts = text.split(separator: "-")
            guard parts.count == 2, let opens = Self.minutes(parts[0]), let closes = Self.minutes(parts[1]), opens < closes else {
                return nil
            }
            self.init(opens: opens, closes: closes)
        }

        static func minutes(_ text: Substring) -> Int? {
            let parts = text.split(separator: ":")
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
                (0...24).contains(h), (0..<60).contains(m), h * 60 + m <= 1440
            else { return nil }
            return h * 60 + m
        }

        public var description: String {
            func text(_ minutes: Int) -> String {
                let h = minutes / 60
                let m = minutes % 60
                return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
            }
            return text(opens) + "-" + text(closes)
        }

        // Codable as `HH:MM-HH:MM`.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            guard let hours = Hours(try container.decode(String.self)) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected HH:MM-HH:MM")
            }
            self = hours
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(description)
        }
    }

    /// Opening hours by ISO weekday (1 = Monday ... 7 = Sunday); a missing day is closed.
    public var weekly: [Int: Hours]
    /// Dates the dealer is closed whatever the weekday (public holidays).
    public var closedDays: Set<LocalDate>

    public init(weekly: [Int: Hours], closedDays: Set<LocalDate> = []) {
        self.weekly = weekly
        self.closedDays = closedDays
    }

    /// 4S stores open every day, 08:30 to 18:00, by default.
    public static let standard = BusinessCalendar(weekly: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, Hours(opens: 510, closes: 1080)) }))

    /// The hours of one local date, nil when closed.
    public func hours(on date: LocalDate) -> Hours? {
        guard !closedDays.contains(date) else { return nil }
        return weekly[date.isoWeekday]
    }

    /// Working seconds between two instants (0 when `end` is not after `start`).
    public func workingSeconds(from start: Date, to end: Date, in zone: TimeZone) -> Double {
        guard end > start else { return 0 }
        var total = 0.0
        var day = LocalDate(start, in: zone)
        let last = LocalDate(end, in: zone)
        while day <= last {
            if let hours = hours(on: day) {
                let opens = day.instant(minutes: hours.opens, in: zone)
                let closes = day.instant(minutes: hours.closes, in: zone)
                let from = max(opens, start)
                let to = min(closes, end)
                if to > from { total += to.timeIntervalSince(from) }
            }
            day = day.adding(days: 1)
        }
        return total
    }

    /// The instant `seconds` of working time after `start`. A calendar with no open day at all
    /// within ten years counts the time around the clock (a misconfigured dealer must not stop
    /// every clock).
    public func adding(seconds: Double, to start: Date, in zone: TimeZone) -> Date {
        var remaining = max(0, seconds)
        var day = LocalDate(start, in: zone)
        for _ in 0..<3660 {
            if let hours = hours(on: day) {
                let opens = day.instant(minutes: hours.opens, in: zone)
                let closes = day.instant(minutes: hours.closes, in: zone)
                let from = max(opens, start)
                if closes > from {
                    let available = closes.timeIntervalSince(from)
                    if remaining <= available { return from.addingTimeInterval(remaining) }
                    remaining -= available
                }
            }
            day = day.adding(days: 1)
        }
        return start.addingTimeInterval(max(0, seconds))
    }

    /// The first date after `date` on which the dealer is open (`date` itself excluded).
    public func nextWorkingDay(after date: LocalDate) -> LocalDate {
        var day = date.adding(days: 1)
        for _ in 0..<3660 where hours(on: day) == nil { day = day.adding(days: 1) }
        return day
    }

    // Codable with weekday names (`mon` ... `sun`) as keys.
    static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    enum CodingKeys: String, CodingKey {
        case weekly
        case closedDays = "closed_days"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let named = try container.decodeIfPresent([String: Hours].self, forKey: .weekly) ?? [:]
        var weekly: [Int: Hours] = [:]
        for (name, hours) in named {
            guard let index = Self.dayNames.firstIndex(of: name) else {
                throw DecodingError.dataCorruptedError(forKey: .weekly, in: container, debugDescription: "unknown weekday \(name)")
            }
            weekly[index + 1] = hours
        }
        self.weekly = weekly
        self.closedDays = Set(try container.decodeIfPresent([LocalDate].self, forKey: .closedDays) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(
            Dictionary(uniqueKeysWithValues: weekly.map { (Self.dayNames[$0.key - 1], $0.value) }), forKey: .weekly)
        try container.encode(closedDays.sorted(), forKey: .closedDays)
    }

    /// Checks the hours (weekdays 1-7) and that at most 400 closed days are listed.
    public func validated(field: String) throws(ValidationErrors) -> BusinessCalendar {
        var errors = ValidationErrors()
        if weekly.keys.contains(where: { !(1...7).contains($0) }) { errors.add("\(field).weekly", "has an unknown weekday") }
        if weekly.isEmpty { errors.add("\(field).weekly", "must open on at least one day") }
        if closedDays.count > 400 { errors.add("\(field).closed_days", "at most 400 days") }
        try errors.throwIfAny()
        return self
    }
}

extension LocalDate {
    /// ISO weekday: 1 = Monday ... 7 = Sunday.
    public var isoWeekday: Int {
        // 1970-01-01 was a Thursday (4).
        let value = (daysSinceEpoch % 7 + 7) % 7  // 0 = Thursday
        return (value + 3) % 7 + 1
    }

    /// The instant `minutes` after this date's local midnight in `zone` (a time skipped by a
    /// daylight-saving change falls after it).
    public func instant(minutes: Int, in zone: TimeZone) -> Date {
        let midnightUTC = Date(timeIntervalSince1970: Double(daysSinceEpoch) * 86_400 + Double(minutes) * 60)
        let offset = zone.secondsFromGMT(for: midnightUTC.addingTimeInterval(-Double(zone.secondsFromGMT(for: midnightUTC))))
        return midnightUTC.addingTimeInterval(-Double(offset))
    }
}
