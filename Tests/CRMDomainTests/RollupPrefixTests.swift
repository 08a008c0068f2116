import CRMDomain
import Testing

@Suite("Roll-up prefixes")
struct RollupPrefixTests {
    /// Every day's events sit in one day, one month and one year bucket; a prefix through `x` must
    /// count each day up to `x` exactly once and no later day at all.
    @Test("a prefix counts each day up to its end exactly once, across month, year and leap-day ends, early and late in a month")
    func countsEachDayOnce() {
        let ends = ["2024-02-28", "2024-02-29", "2024-03-01", "2024-12-31", "2025-01-01", "2025-01-31", "2026-06-15", "2026-06-16", "2026-11-30", "2026-12-01", "2026-12-17"]
            .map { LocalDate($0)! }
        let first = LocalDate("2022-11-01")!
        for end in ends {
            let prefix = RollupPrefix(through: end)
            for offset in 0..<(first.days(until: end) + 400) {
                let day = first.adding(days: offset)
                let counted = [RollupPrefix.Grain.day, .month, .year]
                    .map { prefix.weight($0, RollupPrefix.bucket(of: day, $0)) }.reduce(0, +)
                #expect(counted == (day <= end ? 1 : 0), "day \(day) in the prefix through \(end)")
            }
        }
    }
}

extension RollupPrefixTests {
    @Test("a prefix reads at most 16 day buckets and one range per grain and sign")
    func bounded() {
        var day = LocalDate("2024-01-01")!
        while day <= LocalDate("2026-12-31")! {
            let prefix = RollupPrefix(through: day)
            let days = prefix.ranges.filter { $0.grain == .day }.map { $0.first!.days(until: $0.last) + 1 }.reduce(0, +)
            #expect(days <= 16, "\(day): \(days) day buckets")
            #expect(prefix.ranges.count <= 3)
            day = day.adding(days: 1)
        }
    }
}
