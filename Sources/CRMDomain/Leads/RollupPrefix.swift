/// The roll-up buckets whose sum is everything up to and including a day: the whole years before
/// its year, the whole months of its year before its month, and the days of its month up to it.
/// A prefix reads at most (years of history) + 11 + 31 buckets, however long the history; a
/// period's flow is `prefix(to) - prefix(from - 1)`.
public struct RollupPrefix: Sendable, Equatable {
    /// Year buckets (first day of a year) strictly before this.
    public let yearsBefore: LocalDate
    /// Month buckets (first day of a month) from `yearsBefore` up to, not including, this.
    public let monthsBefore: LocalDate
    /// Day buckets from `monthsBefore` through this day.
    public let through: LocalDate

    public init(through day: LocalDate) {
        yearsBefore = LocalDate(year: day.year, month: 1, day: 1)!
        monthsBefore = LocalDate(year: day.year, month: day.month, day: 1)!
        through = day
    }

    public enum Grain: Sendable { case day, month, year }

    /// Whether the bucket of `grain` starting on `bucket` belongs to the prefix.
    public func contains(_ grain: Grain, _ bucket: LocalDate) -> Bool {
        switch grain {
        case .year: return bucket < yearsBefore
        case .month: return bucket >= yearsBefore && bucket < monthsBefore
        case .day: return bucket >= monthsBefore && bucket <= through
        }
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
