public import Foundation

/// The complaint rules: intake, the workflow, the SLA clocks and their warnings, breaches and
/// escalations, resolution and closing. Plain functions of a complaint, the dealer's time and
/// the clock's instant; the service runs them in its transactions and stores what they return.
public enum ComplaintRules {
    /// The dealer's time: its business calendar in its zone.
    public struct DealerTime: Sendable {
        public var calendar: BusinessCalendar
        public var zone: TimeZone

        public init(calendar: BusinessCalendar, zone: TimeZone) {
            self.calendar = calendar
            self.zone = zone
        }

        /// The instant `seconds` of counted time after `start`.
        public func adding(_ seconds: Double, to start: Date, businessHours: Bool) -> Date {
            businessHours ? calendar.adding(seconds: seconds, to: start, in: zone) : start.addingTimeInterval(seconds)
        }

        /// Counted seconds between two instants (negative when `end` is before `start`).
        public func counted(from start: Date, to end: Date, businessHours: Bool) -> Double {
            guard businessHours else { return end.timeIntervalSince(start) }
            return end >= start
                ? calendar.workingSeconds(from: start, to: end, in: zone) : -calendar.workingSeconds(from: end, to: start, in: zone)
        }
    }

    /// The share of an SLA after which a warning is raised.
    public static let warningShare = 0.8
    /// Resolve-clock breaches that escalate in one cycle: each one more level up, the later ones
    /// one further resolve SLA after the one before (owner -> manager -> admin -> OEM group).
    public static let maxResolveBreaches = 3

    // MARK: Intake

    /// A new complaint: its clocks start now with its severity's SLA.
    public static func open(
        _ fields: ComplaintFields, id: UUID, dealerID: UUID, number: String, ownerID: UUID?, policy: ComplaintPolicy,
        time: DealerTime, now: Date
    ) throws -> Complaint {
        let clean = try fields.validated()
        let deadlines = policy.deadlines(clean.severity)
        let business = deadlines.businessHours
        let acknowledge = Double(deadlines.acknowledgeMinutes) * 60
        let resolve = Double(deadlines.resolveMinutes) * 60
        var clock = ComplaintClock(
            businessHours: business, acknowledgeSeconds: acknowledge, resolveSeconds: resolve,
            acknowledgeDueAt: time.adding(acknowledge, to: now, businessHours: business),
            acknowledgeWarnAt: time.adding(acknowledge * warningShare, to: now, businessHours: business), acknowledgedAt: nil,
            resolveDueAt: time.adding(resolve, to: now, businessHours: business),
            resolveWarnAt: time.adding(resolve * warningShare, to: now, businessHours: business), resolveRemaining: nil,
            resolvedAt: nil, activeSeconds: 0, activeSince: now, raised: [], nextEventAt: nil)
        var complaint = Complaint(
            id: id, dealerID: dealerID, number: number, fields: clean, status: .new, ownerID: ownerID, escalation: .owner,
            reopenCount: 0, clock: clock, resolution: nil, closedAt: nil, createdAt: now, updatedAt: now, version: 1)
        clock.nextEventAt = nextEvent(complaint, time: time)
        complaint.clock = clock
        return complaint
    }

    /// Intake fields edited while the complaint is open. The severity (and so the SLA) can change
    /// only before the complaint is acknowledged; its clocks then restart from its intake.
    public static func edit(_ complaint: Complaint, to fields: ComplaintFields, policy: ComplaintPolicy, time: DealerTime) throws
        -> Complaint
    {
        guard complaint.status.isOpen else { throw RuleViolation("A \(complaint.status.rawValue) complaint cannot be edited; reopen it first.") }
        var clean = try fields.validated()
        clean.customerID = complaint.fields.customerID
        var changed = complaint
        if clean.severity != complaint.fields.severity {
            guard complaint.status == .new else {
                throw ValidationErrors(field: "severity", "can change only before the complaint is acknowledged")
            }
            let reopened = try open(
                clean, id: complaint.id, dealerID: complaint.dealerID, number: complaint.number, ownerID: complaint.ownerID,
                policy: policy, time: time, now: complaint.createdAt)
            changed.clock = reopened.clock
            changed.clock.raised = complaint.clock.raised
            changed.clock.nextEventAt = nextEvent(changed, time: time)
        }
        changed.fields = clean
        return changed
    }

    // MARK: The workflow

    /// The statuses a complaint may move to from `status` (resolving needs a resolution; moving a
    /// resolved or closed complaint back to `investigating` reopens it).
    public static func allowedMoves(from status: ComplaintStatus) -> [ComplaintStatus] {
        switch status {
        case .new: return [.acknowledged]
        case .acknowledged: return [.investigating]
        case .investigating: return [.waitingOnCustomer, .resolved]
        case .waitingOnCustomer: return [.investigating, .resolved]
        case .resolved: return [.closed, .investigating]
        case .closed: return [.investigating]
        }
    }

    static func refusal(from: ComplaintStatus, to: ComplaintStatus) -> RuleViolation {
        let allowed = allowedMoves(from: from).map(\.rawValue)
        return RuleViolation(
            "A \(from.rawValue) complaint cannot become \(to.rawValue). Allowed from \(from.rawValue): \(allowed.joined(separator: ", ")).",
            allowedTransitions: allowed)
    }

    /// A move of the workflow at `now`: acknowledging stops the acknowledge clock; waiting on the
    /// customer stops the resolve clock and a return to investigating restarts it with what was
    /// left; moving a resolved or closed complaint back to investigating reopens it (counted);
    /// closing needs the satisfaction callback done (`callbackDone`). Resolving goes through
    /// `resolve`.
    public static func move(
        _ complaint: Complaint, to status: ComplaintStatus, callbackDone: Bool, time: DealerTime, now: Date
    ) throws -> (complaint: Complaint, event: ComplaintEventKind) {
        guard allowedMoves(from: complaint.status).contains(status) else { throw refusal(from: complaint.status, to: status) }
        var c = complaint
        var event = ComplaintEventKind.statusChanged
        switch (complaint.status, status) {
        case (_, .resolved):
            throw RuleViolation("A complaint is resolved with its resolution (root cause, remedy, cost, the customer's answer).")
        case (.new, .acknowledged):
            c.clock.acknowledgedAt = now
        case (.investigating, .waitingOnCustomer):
            stopResolveClock(&c, time: time, now: now)
        case (.waitingOnCustomer, .investigating):
            startResolveClock(&c, time: time, now: now)
        case (.resolved, .investigating), (.closed, .investigating):
            c.reopenCount += 1
            c.resolution = nil
            c.closedAt = nil
            c.clock.resolvedAt = nil
            // A new cycle: the resolve clock's warnings and breaches may come again.
            c.clock.raised = c.clock.raised.filter { !$0.hasPrefix("resolve.") }
            startResolveClock(&c, time: time, now: now)
            event = .reopened
        case (.resolved, .closed):
            guard callbackDone else {
                throw RuleViolation("A complaint is closed after its satisfaction callback is done (the customer reached and surveyed, or refused, or unreachable).")
            }
            c.closedAt = now
        default:
            break
        }
        c.status = status
        c.clock.nextEventAt = nextEvent(c, time: time)
        return (c, event)
    }

    /// The complaint resolved with `resolution` at `now`: its resolve clock stops (what it had
    /// left, negative when late, is kept: it was met when that is not negative).
    public static func resolve(_ complaint: Complaint, with resolution: ComplaintResolution, time: DealerTime, now: Date) throws
        -> Complaint
    {
        var errors = ValidationErrors()
        let rootCause = Text.required(resolution.rootCause, field: "root_cause", maxLength: 2000, errors: &errors)
        let note = Text.optional(resolution.note, field: "note", maxLength: 2000, errors: &errors)
        if let cost = resolution.cost {
            if cost.amountMinor < 0 { errors.add("cost.amount", "must not be negative (minor units, e.g. fen)") }
            if cost.currency.count != 3 || !cost.currency.allSatisfy({ $0.isASCII && $0.isUppercase }) {
                errors.add("cost.currency", "must be an ISO 4217 code such as CNY")
            }
        }
        try errors.throwIfAny()
        guard allowedMoves(from: complaint.status).contains(.resolved) else { throw refusal(from: complaint.status, to: .resolved) }
        var c = complaint
        stopResolveClock(&c, time: time, now: now)
        c.clock.resolvedAt = now
        c.resolution = ComplaintResolution(
            rootCause: rootCause ?? resolution.rootCause, remedy: resolution.remedy, cost: resolution.cost,
            customerAccepted: resolution.customerAccepted, note: note)
        c.status = .resolved
        c.clock.nextEventAt = nextEvent(c, time: time)
        return c
    }

    /// Wall seconds the complaint was worked before being resolved (its time to resolve, net of
    /// the time it waited on the customer), or until `now` while it still runs.
    public static func activeSeconds(_ complaint: Complaint, now: Date) -> Double {
        complaint.clock.activeSeconds + (complaint.clock.activeSince.map { now.timeIntervalSince($0) } ?? 0)
    }

    private static func stopResolveClock(_ c: inout Complaint, time: DealerTime, now: Date) {
        if let due = c.clock.resolveDueAt {
            c.clock.resolveRemaining = time.counted(from: now, to: due, businessHours: c.clock.businessHours)
        }
        c.clock.resolveDueAt = nil
        c.clock.resolveWarnAt = nil
        if let since = c.clock.activeSince { c.clock.activeSeconds += now.timeIntervalSince(since) }
        c.clock.activeSince = nil
    }

    private static func startResolveClock(_ c: inout Complaint, time: DealerTime, now: Date) {
        let remaining = c.clock.resolveRemaining ?? c.clock.resolveSeconds
        let business = c.clock.businessHours
        // Overdue when it stopped: due that long ago (in wall time, as near as it matters).
        c.clock.resolveDueAt = remaining >= 0 ? time.adding(remaining, to: now, businessHours: business) : now.addingTimeInterval(remaining)
        let beforeWarning = remaining - c.clock.resolveSeconds * (1 - warningShare)
        c.clock.resolveWarnAt = beforeWarning > 0 ? time.adding(beforeWarning, to: now, businessHours: business) : now
        c.clock.resolveRemaining = nil
        c.clock.activeSince = now
    }

    // MARK: Warnings, breaches, escalation

    /// One SLA event: a clock at 80% (warning) or run out (breach), and the level a breach
    /// escalated the complaint to.
    public struct SLAEvent: Sendable, Equatable {
        public var clock: ComplaintClockName
        public var breach: Bool
        /// The resolve clock's n-th breach in this cycle (1 for the acknowledge clock).
        public var ordinal: Int
        /// When it fell due.
        public var dueAt: Date
        /// The level the complaint rose to, when the breach escalated it.
        public var escalatedTo: EscalationLevel?
        /// Raised once per complaint and cycle: the timeline's deduplication key.
        public var key: String
    }

    /// Candidate events of the complaint's current cycle, in order, raised or not.
    static func candidates(_ c: Complaint, time: DealerTime) -> [SLAEvent] {
        var events: [SLAEvent] = []
        let cycle = c.reopenCount
        if c.clock.acknowledgedAt == nil, c.status.isOpen {
            events.append(
                SLAEvent(clock: .acknowledge, breach: false, ordinal: 1, dueAt: c.clock.acknowledgeWarnAt, escalatedTo: nil, key: "acknowledge.warning"))
            events.append(
                SLAEvent(clock: .acknowledge, breach: true, ordinal: 1, dueAt: c.clock.acknowledgeDueAt, escalatedTo: nil, key: "acknowledge.breach"))
        }
        if c.status.isOpen, let due = c.clock.resolveDueAt {
            if let warn = c.clock.resolveWarnAt {
                events.append(SLAEvent(clock: .resolve, breach: false, ordinal: 1, dueAt: warn, escalatedTo: nil, key: "resolve.warning.\(cycle)"))
            }
            var breachAt = due
            for ordinal in 1...maxResolveBreaches {
                events.append(
                    SLAEvent(clock: .resolve, breach: true, ordinal: ordinal, dueAt: breachAt, escalatedTo: nil, key: "resolve.breach.\(cycle).\(ordinal)"))
                breachAt = time.adding(c.clock.resolveSeconds, to: breachAt, businessHours: c.clock.businessHours)
            }
        }
        return events
    }

    /// When the next event not yet raised falls due; nil when none can.
    public static func nextEvent(_ c: Complaint, time: DealerTime) -> Date? {
        candidates(c, time: time).filter { !c.clock.raised.contains($0.key) }.map(\.dueAt).min()
    }

    /// The events due by `now` and not yet raised, raised: each recorded in the complaint (so it
    /// is raised once, whoever runs the scan how often), each breach escalating the complaint one
    /// level (up to the OEM group).
    public static func slaEvents(_ complaint: Complaint, time: DealerTime, now: Date) -> (complaint: Complaint, events: [SLAEvent]) {
        var c = complaint
        var raised: [SLAEvent] = []
        for var event in candidates(complaint, time: time) where event.dueAt <= now && !c.clock.raised.contains(event.key) {
            c.clock.raised.insert(event.key)
            if event.breach, c.escalation < .oemGroup {
                c.escalation = c.escalation.next
                event.escalatedTo = c.escalation
            }
            raised.append(event)
        }
        c.clock.nextEventAt = nextEvent(c, time: time)
        return (c, raised)
    }

    // MARK: What a response shows

    /// One clock as the API shows it.
    public struct ClockView: Sendable, Equatable {
        /// When it runs (ran) out; nil while it stands.
        public var dueAt: Date?
        /// Wall seconds until it runs out (negative: overdue), while it runs.
        public var secondsLeft: Double?
        /// Counted seconds it had left when it stopped (negative: overdue), while it stands.
        public var countedSecondsLeft: Double?
        public var paused: Bool
        /// Whether it was met, once its step is done.
        public var met: Bool?

        /// Not done and past its deadline (also while it stands after running out).
        public var overdue: Bool { met == nil && ((secondsLeft ?? 0) < 0 || (countedSecondsLeft ?? 0) < 0) }
    }

    public static func acknowledgeView(_ c: Complaint, now: Date) -> ClockView {
        let done = c.clock.acknowledgedAt
        return ClockView(
            dueAt: c.clock.acknowledgeDueAt, secondsLeft: done == nil ? c.clock.acknowledgeDueAt.timeIntervalSince(now) : nil,
            countedSecondsLeft: nil, paused: false, met: done.map { $0 <= c.clock.acknowledgeDueAt })
    }

    public static func resolveView(_ c: Complaint, now: Date) -> ClockView {
        let met: Bool? = c.clock.resolvedAt == nil ? nil : (c.clock.resolveRemaining ?? 0) >= 0
        return ClockView(
            dueAt: c.clock.resolveDueAt, secondsLeft: c.clock.resolveDueAt.map { $0.timeIntervalSince(now) },
            countedSecondsLeft: c.clock.resolveDueAt == nil ? c.clock.resolveRemaining : nil,
            paused: c.status == .waitingOnCustomer, met: met)
    }
}
