public import Foundation

/// When a periodic job is due: a fixed interval, or a cron expression read in a time zone (the
/// dealer's, for "every day at 02:00 dealer local time").
public enum Recurrence: Sendable, Equatable, CustomStringConvertible {
    /// Every `interval`, at whole multiples of it since the Unix epoch ("every 5 minutes" fires at
    /// :00, :05, ... whatever the time zone).
    case interval(Duration)
    /// A five-field cron expression (minute hour day-of-month month day-of-week).
    case cron(CronSchedule)

    public static func every(_ interval: Duration) -> Recurrence { .interval(interval) }

    /// On the hour, in the scope's local time (`0 * * * *`).
    public static let hourly: Recurrence = .cron(
        CronSchedule(
            expression: "0 * * * *", minutes: [0], hours: Set(0...23), daysOfMonth: Set(1...31), months: Set(1...12),
            daysOfWeek: Set(0...6), dayOfMonthRestricted: false, dayOfWeekRestricted: false))

    /// `"0 2 * * *"` and friends; throws `CronSchedule.ParseError` naming the bad field.
    public static func cron(_ expression: String) throws -> Recurrence { .cron(try CronSchedule(expression)) }

    /// The first instant strictly after `date` at which this recurrence fires.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        switch self {
        case .interval(let interval):
            // Whole milliseconds: floating-point periods could round back onto `date` itself.
            let step = interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000
            guard step >= 1000 else { return nil }
            let now = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
            let periods = now >= 0 ? now / step : -((-now + step - 1) / step)
            let next = (periods + 1) * step
            return Date(timeIntervalSince1970: Double(next) / 1000)
        case .cron(let schedule):
            return schedule.next(after: date, in: timeZone)
        }
    }

    public var description: String {
        switch self {
        case .interval(let interval): return "every \(interval)"
        case .cron(let schedule): return schedule.expression
        }
    }
}

/// A cron schedule: `minute hour day-of-month month day-of-week`, each field `*`, a number, a
/// range `a-b`, a list `a,b`, or a step `*/n` / `a-b/n`. Day of week is 0-7 (0 and 7 are Sunday).
/// As in classic cron, when both day fields are restricted a day matching either one fires.
public struct CronSchedule: Sendable, Equatable {
    public let expression: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let expression: String
        public let problem: String
        public var description: String { "cron expression '\(expression)': \(problem)" }
    }

    init(
        expression: String, minutes: Set<Int>, hours: Set<Int>, daysOfMonth: Set<Int>, months: Set<Int>,
        daysOfWeek: Set<Int>, dayOfMonthRestricted: Bool, dayOfWeekRestricted: Bool
    ) {
        self.expression = expression
        self.minutes = minutes
        self.hours = hours
        self.daysOfMonth = daysOfMonth
        self.months = months
        self.daysOfWeek = daysOfWeek
        self.dayOfMonthRestricted = dayOfMonthRestricted
        self.dayOfWeekRestricted = dayOfWeekRestricted
    }

    public init(_ expression: String) throws {
        let fields = expression.split(whereSeparator: \.isWhitespace).map(String.init)
        func fail(_ problem: String) -> ParseError { ParseError(expression: expression, problem: problem) }
        guard fields.count == 5 else { throw fail("expected 5 fields (minute hour day month weekday), found \(fields.count)") }
        func parse(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws -> Set<Int> {
            var values = Set<Int>()
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
                guard pieces.count <= 2 else { throw fail("\(name) field '\(part)' has more than one '/'") }
                var step = 1
                if pieces.count == 2 {
                    guard let value = Int(pieces[1]), value >= 1 else { throw fail("\(name) step '\(pieces[1])' is not a positive number") }
                    step = value
                }
                let bounds: ClosedRange<Int>
                if pieces[0] == "*" {
                    bounds = range
                } else {
                    let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                    guard (1...2).contains(ends.count), let low = Int(ends[0]), let high = Int(ends[ends.count - 1]) else {
                        throw fail("\(name) field '\(part)' is not a number, range or '*'")
                    }
                    guard range.contains(low), range.contains(high), low <= high else {
                        throw fail("\(name) field '\(part)' is outside \(range.lowerBound)-\(range.upperBound)")
                    }
                    // "5/15" means from 5 to the end in steps of 15.
                    bounds = (ends.count == 1 && pieces.count == 2) ? low...range.upperBound : low...high
                }
                values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
            }
            return values
        }
        self.expression = expression
        minutes = try parse(fields[0], "minute", 0...59)
        hours = try parse(fields[1], "hour", 0...23)
        daysOfMonth = try parse(fields[2], "day-of-month", 1...31)
        months = try parse(fields[3], "month", 1...12)
        daysOfWeek = Set(try parse(fields[4], "day-of-week", 0...7).map { $0 % 7 })
        dayOfMonthRestricted = fields[2] != "*"
        dayOfWeekRestricted = fields[4] != "*"
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        let byMonth = daysOfMonth.contains(day)
        let byWeek = daysOfWeek.contains(weekday)
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return byMonth || byWeek
        case (true, false): return byMonth
        case (false, true): return byWeek
        case (false, false): return true
        }
    }

    /// The first matching minute strictly after `date`, read in `timeZone`; nil if none within
    /// eight years (an impossible date such as 31 February).
    ///
    /// Candidates are local wall-clock times, day by day, each turned into an instant by the
    /// calendar: across daylight saving a local time that does not exist (02:30 on the spring
    /// day) runs once, just after the clocks jump, and one that exists twice (the autumn hour)
    /// runs once, at its first occurrence.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let sortedHours = hours.sorted()
        let sortedMinutes = minutes.sorted()
        let start = calendar.dateComponents([.year, .month, .day, .hour], from: date)
        // On the first day, hours well before `date` cannot be after it (an hour of slack for
        // a clock change): skipping them keeps frequent schedules cheap.
        let firstHour = (start.hour ?? 0) - 1
        var isFirstDay = true
        // Noon: a day's noon always exists, whatever the clocks do at night.
        guard var day = calendar.date(from: DateComponents(year: start.year, month: start.month, day: start.day, hour: 12))
        else { return nil }
        for _ in 0..<(8 * 366) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            guard let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday
            else { return nil }
            if months.contains(month), dayMatches(day: dayOfMonth, weekday: weekday - 1) {
                // The earliest candidate instant of the day after `date` (candidates shifted by a
                // DST gap may come out of order, so all of the day's are compared).
                var best: Date?
                for hour in sortedHours where !isFirstDay || hour >= firstHour {
                    for minute in sortedMinutes {
                        guard
                            let instant = calendar.date(
                                from: DateComponents(year: year, month: month, day: dayOfMonth, hour: hour, minute: minute)),
                            instant > date
                        else { continue }
                        if best.map({ instant < $0 }) ?? true { best = instant }
                    }
                }
                if let best { return best }
            }
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = next
            isFirstDay = false
        }
        return nil
    }
}
