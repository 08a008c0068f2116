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

    /// `"0 2 * * *"` and friends; throws `CronSchedule.ParseError` naming the bad field.
    public static func cron(_ expression: String) throws -> Recurrence { .cron(try CronSchedule(expression)) }

    /// The first instant strictly after `date` at which this recurrence fires.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        switch self {
        case .interval(let interval):
            let seconds = interval.seconds
            guard seconds >= 1 else { return nil }
            let periods = (date.timeIntervalSince1970 / seconds).rounded(.down) + 1
            return Date(timeIntervalSince1970: periods * seconds)
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

    /// The first minute strictly after `date` that matches, read in `timeZone`; nil if none within
    /// eight years (an impossible date such as 31 February).
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // The next whole minute after `date`.
        var time = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        let limit = date.addingTimeInterval(8 * 366 * 86_400)
        while time < limit {
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: time)
            guard let year = parts.year, let month = parts.month, let day = parts.day, let hour = parts.hour,
                let minute = parts.minute, let weekday = parts.weekday
            else { return nil }
            if !months.contains(month) {
                guard let next = calendar.date(from: DateComponents(year: month == 12 ? year + 1 : year, month: month % 12 + 1, day: 1))
                else { return nil }
                time = next
                continue
            }
            if !dayMatches(day: day, weekday: weekday - 1) {
                guard let next = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: time)) else { return nil }
                time = next
                continue
            }
            if !hours.contains(hour) {
                // The start of the next hour in absolute time (correct across DST and :30 offsets).
                time = time.addingTimeInterval(Double(3600 - minute * 60))
                continue
            }
            if !minutes.contains(minute) {
                time = time.addingTimeInterval(60)
                continue
            }
            return time
        }
        return nil
    }
}
