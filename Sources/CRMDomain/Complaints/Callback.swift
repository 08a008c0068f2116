public import Foundation

/// Why a satisfaction callback (回访) is made.
public enum CallbackPurpose: String, Sendable, CaseIterable, Codable {
    /// After a complaint was resolved: closing it needs this callback done.
    case complaintResolution = "complaint_resolution"
    /// The day after delivery (D+1).
    case deliveryDay1 = "delivery_day_1"
    /// Three days after delivery (D+3).
    case deliveryDay3 = "delivery_day_3"
    /// After a service visit.
    case postService = "post_service"
}

/// Where a callback stands.
public enum CallbackStatus: String, Sendable, CaseIterable, Codable {
    /// To be made (none or only failed attempts so far).
    case open
    /// The customer was reached and surveyed.
    case surveyed
    /// The customer was reached and declined the survey.
    case refused
    /// The dealer's maximum of failed attempts was used up.
    case unreachable

    /// Done: a complaint waiting on it may be closed.
    public var isDone: Bool { self != .open }
}

/// How one call attempt ended.
public enum CallOutcome: String, Sendable, CaseIterable, Codable {
    case reached
    case noAnswer = "no_answer"
    case wrongNumber = "wrong_number"
    case refused
}

/// A satisfaction callback to make: to whom, about what, when, by whom.
public struct Callback: Sendable, Equatable {
    public var id: UUID
    public var dealerID: UUID
    public var customerID: UUID
    public var purpose: CallbackPurpose
    public var complaintID: UUID?
    public var leadID: UUID?
    public var serviceVisitID: UUID?
    /// The day it is due (dealer calendar), and its window: from the start of that day until
    /// `windowEndsAt` (a survey recorded outside it is flagged).
    public var dueDate: LocalDate
    public var windowStartsAt: Date
    public var windowEndsAt: Date
    /// The CRM team member to make it (nil: anyone of the team).
    public var assigneeID: UUID?
    /// The staff member who served the customer in what is surveyed (the complaint's owner, the
    /// consultant who sold the car, the visit's advisor): he must not make the survey himself.
    public var servedByID: UUID?
    public var status: CallbackStatus
    public var attempts: Int
    public var completedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int

    public init(
        id: UUID, dealerID: UUID, customerID: UUID, purpose: CallbackPurpose, complaintID: UUID?, leadID: UUID?,
        serviceVisitID: UUID?, dueDate: LocalDate, windowStartsAt: Date, windowEndsAt: Date, assigneeID: UUID?, servedByID: UUID?,
        status: CallbackStatus, attempts: Int, completedAt: Date?, createdAt: Date, updatedAt: Date, version: Int
    ) {
        self.id = id
        self.dealerID = dealerID
        self.customerID = customerID
        self.purpose = purpose
        self.complaintID = complaintID
        self.leadID = leadID
        self.serviceVisitID = serviceVisitID
        self.dueDate = dueDate
        self.windowStartsAt = windowStartsAt
        self.windowEndsAt = windowEndsAt
        self.assigneeID = assigneeID
        self.servedByID = servedByID
        self.status = status
        self.attempts = attempts
        self.completedAt = completedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// One call of a callback, with the survey when the customer was reached and answered.
public struct CallAttempt: Sendable, Equatable {
    public var id: UUID
    public var callbackID: UUID
    public var outcome: CallOutcome
    /// The number called (E.164).
    public var numberCalled: String
    public var startedAt: Date
    public var endedAt: Date
    /// The staff member who called.
    public var callerID: UUID?
    public var notes: String?
    public var recordedAt: Date

    public init(
        id: UUID, callbackID: UUID, outcome: CallOutcome, numberCalled: String, startedAt: Date, endedAt: Date, callerID: UUID?,
        notes: String?, recordedAt: Date
    ) {
        self.id = id
        self.callbackID = callbackID
        self.outcome = outcome
        self.numberCalled = numberCalled
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.callerID = callerID
        self.notes = notes
        self.recordedAt = recordedAt
    }
}

/// A dealer's questions for one kind of callback: each answered with a CSI score 1-5.
public struct SurveyQuestionSet: Sendable, Equatable {
    public struct Question: Sendable, Equatable, Codable {
        /// Stable within the set (`q1`, `repair_quality`).
        public var id: String
        public var text: String

        public init(id: String, text: String) {
            self.id = id
            self.text = text
        }
    }

    public var id: UUID
    public var dealerID: UUID
    public var purpose: CallbackPurpose
    public var name: String
    public var questions: [Question]
    public var active: Bool
    public var createdAt: Date

    public init(id: UUID, dealerID: UUID, purpose: CallbackPurpose, name: String, questions: [Question], active: Bool, createdAt: Date) {
        self.id = id
        self.dealerID = dealerID
        self.purpose = purpose
        self.name = name
        self.questions = questions
        self.active = active
        self.createdAt = createdAt
    }

    /// The set a dealer uses until it defines its own.
    public static func standard(purpose: CallbackPurpose) -> [Question] {
        switch purpose {
        case .complaintResolution:
            return [
                Question(id: "handling", text: "您对投诉处理过程是否满意？"), Question(id: "remedy", text: "您对处理结果是否满意？"),
                Question(id: "staff", text: "您对接待人员的态度是否满意？"),
            ]
        case .deliveryDay1, .deliveryDay3:
            return [
                Question(id: "delivery", text: "您对交车过程是否满意？"), Question(id: "consultant", text: "您对销售顾问的服务是否满意？"),
                Question(id: "explanation", text: "车辆功能讲解是否清楚？"),
            ]
        case .postService:
            return [
                Question(id: "repair", text: "您对维修质量是否满意？"), Question(id: "advisor", text: "您对服务顾问的服务是否满意？"),
                Question(id: "time", text: "您对等待时间是否满意？"),
            ]
        }
    }

    public static func validate(name: String, questions: [Question]) throws(ValidationErrors) -> (String, [Question]) {
        var errors = ValidationErrors()
        let clean = Text.required(name, field: "name", maxLength: 100, errors: &errors)
        if questions.isEmpty || questions.count > 20 { errors.add("questions", "must have 1 to 20 questions") }
        var ids = Set<String>()
        var result: [Question] = []
        for (index, question) in questions.enumerated() {
            let id = Text.required(question.id, field: "questions[\(index)].id", maxLength: 40, errors: &errors)
            let text = Text.required(question.text, field: "questions[\(index)].text", maxLength: 500, errors: &errors)
            if let id, !ids.insert(id).inserted { errors.add("questions[\(index)].id", "is given twice") }
            if let id, let text { result.append(Question(id: id, text: text)) }
        }
        try errors.throwIfAny()
        return (clean ?? name, result)
    }
}

/// The customer's answers: a CSI score 1-5 per question of the set (a question may stay
/// unanswered), NPS 0-10, comments.
public struct Survey: Sendable, Equatable {
    public var id: UUID
    public var callbackID: UUID
    public var attemptID: UUID
    public var questionSetID: UUID?
    /// Score 1-5 per question id.
    public var scores: [String: Int]
    public var nps: Int?
    public var comments: String?
    /// Why it looks doctored, if it does (`SurveyIntegrity.flags`).
    public var flags: [SurveyFlag]
    public var recordedAt: Date

    public init(
        id: UUID, callbackID: UUID, attemptID: UUID, questionSetID: UUID?, scores: [String: Int], nps: Int?, comments: String?,
        flags: [SurveyFlag], recordedAt: Date
    ) {
        self.id = id
        self.callbackID = callbackID
        self.attemptID = attemptID
        self.questionSetID = questionSetID
        self.scores = scores
        self.nps = nps
        self.comments = comments
        self.flags = flags
        self.recordedAt = recordedAt
    }

    /// Mean CSI score of the answered questions; nil when none was answered.
    public var csi: Double? { scores.isEmpty ? nil : Double(scores.values.reduce(0, +)) / Double(scores.count) }

    /// Every answered question scored 5.
    public var isTopScore: Bool { !scores.isEmpty && scores.values.allSatisfy { $0 == 5 } }
}

/// One reason a survey looks doctored, with its explanation.
public struct SurveyFlag: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// The customer's phone changed shortly before the survey.
        case phoneChanged = "phone_changed"
        /// The number called is a staff member's phone.
        case staffNumber = "staff_number"
        /// The number called belongs to, or was used to survey, several customers.
        case sharedNumber = "shared_number"
        /// Every question answered in a call too short for it.
        case shortCall = "short_call"
        /// Recorded outside the callback's window.
        case outsideWindow = "outside_window"
        /// Made by the staff member who served the customer.
        case callerServedCustomer = "caller_served_customer"
        /// Made by a staff member whose surveys are almost all top scores.
        case staffTopScores = "staff_top_scores"
    }

    public var kind: Kind
    public var explanation: String

    public init(_ kind: Kind, _ explanation: String) {
        self.kind = kind
        self.explanation = explanation
    }
}

/// The survey integrity checks: which flags a survey gets from the facts around it. The
/// service gathers the facts (audit trail, staff phones, other customers, the caller's record);
/// the decision is here.
public enum SurveyIntegrity {
    /// What is known around one survey when it is recorded.
    public struct Facts: Sendable {
        public var thresholds: SurveyIntegrityThresholds
        public var recordedAt: Date
        public var callStartedAt: Date
        public var callEndedAt: Date
        public var questionCount: Int
        public var answered: Int
        public var windowStartsAt: Date
        public var windowEndsAt: Date
        /// Changes of the customer's phone within `phoneChangeDays` before the survey: when, by
        /// which staff member (or key).
        public var phoneChanges: [(at: Date, by: String)]
        /// Staff of the dealer whose phone is the number called.
        public var staffWithNumber: [String]
        /// Other customers of the group with this phone, or surveyed on this number.
        public var otherCustomersOnNumber: Int
        public var callerID: UUID?
        public var servedByID: UUID?
        /// The caller's surveys within `topScoreDays` (this one included) and how many of them
        /// were all top scores.
        public var callerSurveys: Int
        public var callerTopScores: Int

        public init(
            thresholds: SurveyIntegrityThresholds, recordedAt: Date, callStartedAt: Date, callEndedAt: Date, questionCount: Int,
            answered: Int, windowStartsAt: Date, windowEndsAt: Date, phoneChanges: [(at: Date, by: String)],
            staffWithNumber: [String], otherCustomersOnNumber: Int, callerID: UUID?, servedByID: UUID?, callerSurveys: Int,
            callerTopScores: Int
        ) {
            self.thresholds = thresholds
            self.recordedAt = recordedAt
            self.callStartedAt = callStartedAt
            self.callEndedAt = callEndedAt
            self.questionCount = questionCount
            self.answered = answered
            self.windowStartsAt = windowStartsAt
            self.windowEndsAt = windowEndsAt
            self.phoneChanges = phoneChanges
            self.staffWithNumber = staffWithNumber
            self.otherCustomersOnNumber = otherCustomersOnNumber
            self.callerID = callerID
            self.servedByID = servedByID
            self.callerSurveys = callerSurveys
            self.callerTopScores = callerTopScores
        }
    }

    public static func flags(_ facts: Facts) -> [SurveyFlag] {
        let t = facts.thresholds
        var flags: [SurveyFlag] = []
        if let last = facts.phoneChanges.max(by: { $0.at < $1.at }) {
            let days = Int(facts.recordedAt.timeIntervalSince(last.at) / 86_400)
            flags.append(
                SurveyFlag(
                    .phoneChanged,
                    "the customer's phone was changed \(days) day(s) before the survey, by \(last.by) (\(facts.phoneChanges.count) change(s) within \(t.phoneChangeDays) days)"
                ))
        }
        if !facts.staffWithNumber.isEmpty {
            flags.append(SurveyFlag(.staffNumber, "the number called is the phone of staff member \(facts.staffWithNumber.joined(separator: ", "))"))
        }
        if facts.otherCustomersOnNumber > 0 {
            flags.append(
                SurveyFlag(.sharedNumber, "the number called also belongs to, or surveyed, \(facts.otherCustomersOnNumber) other customer(s)"))
        }
        let seconds = Int(facts.callEndedAt.timeIntervalSince(facts.callStartedAt))
        if seconds < t.shortCallSeconds, facts.questionCount > 0, facts.answered >= facts.questionCount {
            flags.append(
                SurveyFlag(.shortCall, "all \(facts.questionCount) questions answered in a call of \(seconds) s (under \(t.shortCallSeconds) s)"))
        }
        if facts.recordedAt < facts.windowStartsAt || facts.recordedAt >= facts.windowEndsAt {
            flags.append(SurveyFlag(.outsideWindow, "recorded outside the callback's window"))
        }
        if let caller = facts.callerID, caller == facts.servedByID {
            flags.append(SurveyFlag(.callerServedCustomer, "the caller is the staff member who served the customer"))
        }
        if facts.callerSurveys >= t.topScoreMinSurveys,
            Double(facts.callerTopScores) >= t.topScoreShare * Double(facts.callerSurveys)
        {
            flags.append(
                SurveyFlag(
                    .staffTopScores,
                    "the caller's surveys are \(facts.callerTopScores) of \(facts.callerSurveys) top scores within \(t.topScoreDays) days (at least \(Int(t.topScoreShare * 100))% of \(t.topScoreMinSurveys) or more)"
                ))
        }
        return flags
    }
}

/// Callback rules: when one is due, what an attempt does to it.
public enum CallbackRules {
    /// The window of a callback due on `dueDate`: from the start of that day, `windowDays` days.
    public static func window(dueDate: LocalDate, windowDays: Int, zone: TimeZone) -> (starts: Date, ends: Date) {
        (dueDate.startOfDay(in: zone), dueDate.adding(days: windowDays).startOfDay(in: zone))
    }

    /// The date a complaint's satisfaction callback is due: the policy's working days after the
    /// dealer's date of the resolution (its business calendar's closed days skipped).
    public static func dueAfterResolution(resolvedOn: LocalDate, policy: ComplaintPolicy) -> LocalDate {
        var day = resolvedOn
        for _ in 0..<max(1, policy.callbackWorkingDays) { day = policy.calendar.nextWorkingDay(after: day) }
        return day
    }

    /// The post-delivery callbacks of a car delivered on `deliveryDate`: D+1 and D+3, calendar days.
    public static func afterDelivery(_ deliveryDate: LocalDate) -> [(purpose: CallbackPurpose, dueDate: LocalDate)] {
        [(.deliveryDay1, deliveryDate.adding(days: 1)), (.deliveryDay3, deliveryDate.adding(days: 3))]
    }

    /// The post-service callback of a visit closed on `closedOn`: D+1, or nil when its window
    /// is already over on `today` (a DMS loading old visits schedules no callbacks for them).
    public static func afterService(closedOn: LocalDate, windowDays: Int, today: LocalDate) -> LocalDate? {
        let due = closedOn.adding(days: 1)
        return due.adding(days: windowDays) > today ? due : nil
    }

    /// What an attempt makes of the callback: reached with a survey, surveyed; refused, refused;
    /// otherwise still open until `maxAttempts` failed attempts, then unreachable.
    public static func record(_ outcome: CallOutcome, surveyed: Bool, on callback: Callback, maxAttempts: Int, now: Date) throws
        -> Callback
    {
        guard callback.status == .open else { throw RuleViolation("The callback is already done (\(callback.status.rawValue)).") }
        if outcome == .reached, !surveyed { throw ValidationErrors(field: "survey", "is required when the customer was reached") }
        if outcome != .reached, surveyed { throw ValidationErrors(field: "survey", "is only for a call that reached the customer") }
        var changed = callback
        changed.attempts += 1
        switch outcome {
        case .reached: changed.status = .surveyed
        case .refused: changed.status = .refused
        case .noAnswer, .wrongNumber: if changed.attempts >= maxAttempts { changed.status = .unreachable }
        }
        if changed.status.isDone { changed.completedAt = now }
        return changed
    }

    /// A survey's answers checked against its question set: scores 1-5 for questions of the set,
    /// NPS 0-10.
    public static func checkAnswers(_ scores: [String: Int], nps: Int?, questions: [SurveyQuestionSet.Question]) throws(ValidationErrors) {
        var errors = ValidationErrors()
        let known = Set(questions.map(\.id))
        for (id, score) in scores.sorted(by: { $0.key < $1.key }) {
            if !known.contains(id) { errors.add("survey.scores.\(id)", "is not a question of the survey") }
            if !(1...5).contains(score) { errors.add("survey.scores.\(id)", "must be 1 to 5") }
        }
        if let nps, !(0...10).contains(nps) { errors.add("survey.nps", "must be 0 to 10") }
        try errors.throwIfAny()
    }
}
