/// The roll-up buckets whose signed sum is everything up to and including a day: the whole years
/// before its year, then either the months of its year before its month plus the days of its
/// month up to it, or (later in a month) the months through its month minus the days after it.
/// A prefix reads at most (years of history) + 12 + 16 buckets, however long the history; a
/// period's flow is `prefix(to) - prefix(from - 1)`.
public struct RollupPrefix: Sendable, Equatable {
    public enum Grain: String, Sendable { case day = "d", month = "m", year = "y" }

    /// Buckets of `grain` starting from `first` (nil: unbounded) through `last`, counted `sign`
    /// times (+1 or -1).
    public struct Range: Sendable, Equatable {
        public let grain: Grain
        public let first: LocalDate?
        public let last: LocalDate
        public let sign: Int
    }

    public let ranges: [Range]

    public init(through day: LocalDate) {
        let yearStart = LocalDate(year: day.year, month: 1, day: 1)!
        let monthStart = LocalDate(year: day.year, month: day.month, day: 1)!
        let monthEnd = LocalDate(year: day.year, month: day.month, day: LocalDate.daysIn(month: day.month, year: day.year))!
        var ranges = [Range(grain: .year, first: nil, last: yearStart.adding(days: -1), sign: 1)]
        if day.days(until: monthEnd) < monthStart.days(until: day) {
            ranges.append(Range(grain: .month, first: yearStart, last: monthStart, sign: 1))
            if day < monthEnd { ranges.append(Range(grain: .day, first: day.adding(days: 1), last: monthEnd, sign: -1)) }
        } else {
            if yearStart < monthStart { ranges.append(Range(grain: .month, first: yearStart, last: monthStart.adding(days: -1), sign: 1)) }
            ranges.append(Range(grain: .day, first: monthStart, last: day, sign: 1))
        }
        self.ranges = ranges
    }

    /// How many times the prefix counts the bucket of `grain` starting on `bucket`.
    public func weight(_ grain: Grain, _ bucket: LocalDate) -> Int {
        ranges.filter { $0.grain == grain && ($0.first.map { $0 <= bucket } ?? true) && bucket <= $0.last }.map(\.sign).reduce(0, +)
    }

    /// The bucket of `grain` a day's events are added to.
    public static func bucket(of day: LocalDate, _ grain: Grain) -> LocalDate {
        switch grain {
        case .day: return day
        case .month: return LocalDate(year: day.year, month: day.month, day: 1)!
        case .year: return LocalDate(year: day.year, month: 1, day: 1)!
        }
    }
}
