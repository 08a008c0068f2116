public import Foundation

/// The reminder rules: when each kind falls due and goes out, and what the scan and the send
/// decide for a candidate (pending, suppressed with its reason, or held back), through which
/// channel. Pure; the scan reads the candidates and their facts in bulk and stores what these
/// return.
public enum ReminderRules {
    /// How long after its due date a first touch may still be created (a scan that missed days
    /// catches up); a birthday greeting after the birthday is pointless.
    public static func graceDays(_ kind: ReminderKind) -> Int { kind == .birthday ? 0 : 14 }

    /// The date a reminder of `kind` due on `due` goes out (touch 2: the follow-up after the due
    /// date).
    public static func sendDate(_ kind: ReminderKind, due: LocalDate, touch: Int, policy: ReminderPolicy) -> LocalDate {
        touch == 2 ? due.adding(days: policy.followUpDays) : due.adding(days: -policy.leadDays(kind))
    }

    /// Whether a scan on `today` creates the reminder: its send date has come, and it is not
    /// stale (a first touch until its due date's grace, a follow-up within 14 days of its own
    /// send date).
    public static func isDue(_ kind: ReminderKind, due: LocalDate, touch: Int, today: LocalDate, policy: ReminderPolicy) -> Bool {
        let send = sendDate(kind, due: due, touch: touch, policy: policy)
        let last = touch == 2 ? send.adding(days: 14) : due.adding(days: graceDays(kind))
        return send <= today && today <= last
    }

    /// A birthday's date in `year`: 29 February is 28 February in a year without it.
    public static func birthday(_ birthday: LocalDate, in year: Int) -> LocalDate {
        let day = min(birthday.day, LocalDate.daysIn(month: birthday.month, year: year))
        return LocalDate(year: year, month: birthday.month, day: day) ?? birthday
    }

    /// The birthday a scan on `today` may remind of: this year's unless it is over, then next
    /// year's.
    public static func nextBirthday(_ birthday: LocalDate, onOrAfter today: LocalDate) -> LocalDate {
        let thisYear = Self.birthday(birthday, in: today.year)
        return thisYear >= today ? thisYear : Self.birthday(birthday, in: today.year + 1)
    }

    /// When a vehicle last seen on `lastSeen` (its last visit, else its delivery) becomes dormant.
    public static func dormantDue(lastSeen: LocalDate, policy: ReminderPolicy) -> LocalDate {
        lastSeen.adding(months: policy.dormantMonths)
    }

    /// What the scan (or the send's re-check) decides for a candidate.
    public struct Decision: Sendable, Equatable {
        public var status: ReminderStatus
        public var reason: SuppressionReason?
        public var channel: ConsentChannel?
    }

    /// The decision: an erased customer is never reached; a vehicle he no longer owns is not his
    /// to be reminded of; marketing yields to his open complaints, the vehicle's open recall (the
    /// recall notice goes instead), a missing consent, a visit since, and the frequency cap; then a
    /// share of marketing reminders is held back as the control group. Otherwise pending, through
    /// the first channel of the dealer's order he consented to (a recall notice without one: a
    /// call).
    public static func decide(_ candidate: ReminderCandidate, policy: ReminderPolicy) -> Decision {
        let facts = candidate.facts
        func suppressed(_ code: SuppressionReason.Code, _ detail: String) -> Decision {
            Decision(status: .suppressed, reason: SuppressionReason(code, detail), channel: nil)
        }
        if facts.erased { return suppressed(.erased, "the customer was erased") }
        if candidate.kind.isAboutVehicle, !facts.ownsVehicle {
            return suppressed(.ownershipEnded, "the vehicle is no longer the customer's")
        }
        let channel = MarketingRules.channel(
            order: policy.channelOrder, granted: facts.granted, serviceCritical: !candidate.kind.isMarketing)
        guard candidate.kind.isMarketing else { return Decision(status: .pending, reason: nil, channel: channel) }
        if let first = MarketingRules.customerReasons(facts, channels: policy.channelOrder).first {
            return Decision(status: .suppressed, reason: first, channel: nil)
        }
        if facts.openRecall, candidate.kind.isAboutVehicle {
            return suppressed(.openRecall, "the vehicle is under an open recall; the recall notice goes instead")
        }
        if let visited = facts.visitedOn, candidate.kind.isAboutVehicle {
            return suppressed(.visited, "visited on \(visited)")
        }
        if facts.recentMarketing >= policy.frequencyCap {
            return suppressed(.frequencyCap, "\(facts.recentMarketing) marketing reminders within 7 days (at most \(policy.frequencyCap))")
        }
        if isHeldBack(candidate, percent: policy.holdbackPercent) {
            return Decision(status: .heldBack, reason: nil, channel: channel)
        }
        return Decision(status: .pending, reason: nil, channel: channel)
    }

    /// The control group: a stable draw per target, kind and due date (the same on every rerun
    /// and in every process), `percent` of 100.
    public static func isHeldBack(_ candidate: ReminderCandidate, percent: Int) -> Bool {
        guard percent > 0, candidate.touch == 1 else { return false }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
        }
        mix(withUnsafeBytes(of: candidate.customerID.uuid) { Array($0) })
        if let vehicle = candidate.vehicleID { mix(withUnsafeBytes(of: vehicle.uuid) { Array($0) }) }
        mix(candidate.kind.rawValue.utf8)
        mix(candidate.dueDate.description.utf8)
        return Int(hash % 100) < percent
    }
}

/// How a call about a reminder ended.
public enum CallTaskOutcome: String, Sendable, CaseIterable, Codable {
    case reached
    /// The customer booked a visit (its date).
    case booked
    case declined
    case noAnswer = "no_answer"
    case wrongNumber = "wrong_number"
}

public enum CallTaskStatus: String, Sendable, CaseIterable, Codable {
    case open
    case done
}

/// A phone reminder: a call for the vehicle's service advisor (or the pool) to make.
public struct CallTask: Sendable, Equatable {
    public var id: UUID
    public var dealerID: UUID
    public var reminderID: UUID
    public var customerID: UUID
    public var vehicleID: UUID?
    public var kind: ReminderKind
    public var advisorID: UUID?
    public var dueDate: LocalDate
    public var status: CallTaskStatus
    public var outcome: CallTaskOutcome?
    public var bookedDate: LocalDate?
    public var attempts: Int
    public var notes: String?
    /// The visit a booking led to.
    public var visitID: UUID?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(
        id: UUID, dealerID: UUID, reminderID: UUID, customerID: UUID, vehicleID: UUID?, kind: ReminderKind, advisorID: UUID?,
        dueDate: LocalDate, status: CallTaskStatus, outcome: CallTaskOutcome?, bookedDate: LocalDate?, attempts: Int, notes: String?,
        visitID: UUID?, createdAt: Date, updatedAt: Date, version: Int
    ) {
        self.id = id
        self.dealerID = dealerID
        self.reminderID = reminderID
        self.customerID = customerID
        self.vehicleID = vehicleID
        self.kind = kind
        self.advisorID = advisorID
        self.dueDate = dueDate
        self.status = status
        self.outcome = outcome
        self.bookedDate = bookedDate
        self.attempts = attempts
        self.notes = notes
        self.visitID = visitID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

public enum CallTaskRules {
    /// Unanswered calls after which a task is given up.
    public static let maxAttempts = 3

    /// Records a call: `booked` needs the booked date (today to 90 days ahead), no other outcome
    /// takes one; no answer leaves the task open until the third, every other outcome closes it.
    public static func record(
        _ outcome: CallTaskOutcome, bookedDate: LocalDate?, notes: String?, on task: CallTask, today: LocalDate
    ) throws -> CallTask {
        guard task.status == .open else { throw RuleViolation("The call task is done (\(task.outcome?.rawValue ?? "closed")).") }
        var errors = ValidationErrors()
        let cleanNotes = Text.optional(notes, field: "notes", maxLength: 2000, errors: &errors)
        if outcome == .booked {
            if let bookedDate {
                if bookedDate < today || bookedDate > today.adding(days: 90) {
                    errors.add("booked_date", "must be between today and 90 days ahead")
                }
            } else {
                errors.add("booked_date", "is required when the customer booked a visit")
            }
        } else if bookedDate != nil {
            errors.add("booked_date", "is only for outcome 'booked'")
        }
        try errors.throwIfAny()
        var changed = task
        changed.attempts += 1
        changed.outcome = outcome
        changed.bookedDate = outcome == .booked ? bookedDate : nil
        changed.notes = cleanNotes ?? task.notes
        changed.status = outcome == .noAnswer && changed.attempts < maxAttempts ? .open : .done
        return changed
    }
}
