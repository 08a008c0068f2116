public import Foundation
import Synchronization

/// Where business time comes from. Services take "now" from the clock in their call context
/// and pass it into SQL as a parameter; calendar dates come from it in the dealer's time zone.
/// Production runs on `SystemClock`; tests set and move a `SettableClock` instead of moving
/// rows back in time.
public protocol BusinessClock: Sendable {
    var now: Date { get }
}

/// The computer's clock: the one place business code reads the wall clock.
public struct SystemClock: BusinessClock {
    public init() {}
    public var now: Date { Date.now }
}

/// A clock that runs like the system clock from a point a test (or a demo, or a backfill) sets,
/// and jumps when moved: `set` puts it at an instant, `advance` moves it on; in between it flows
/// at the real rate, so records written one after the other still get increasing times.
public final class SettableClock: BusinessClock {
    private struct Origin {
        var instant: Date
        var since: ContinuousClock.Instant
    }
    private let origin: Mutex<Origin>

    public init(_ start: Date) { origin = Mutex(Origin(instant: start, since: .now)) }

    public var now: Date {
        origin.withLock { origin in
            let elapsed = ContinuousClock.now - origin.since
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return origin.instant.addingTimeInterval(seconds)
        }
    }

    public func set(_ date: Date) { origin.withLock { $0 = Origin(instant: date, since: .now) } }

    public func advance(by interval: TimeInterval) { origin.withLock { $0.instant = $0.instant.addingTimeInterval(interval) } }

    public func advance(days: Int) { advance(by: Double(days) * 86_400) }
}
