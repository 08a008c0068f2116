public import CRMDomain
import CRMStore
public import Foundation
import PostgresClient

/// A callback with what was done about it: its attempts, the survey when one was made, and the
/// questions the survey asks.
public struct CallbackDetail: Sendable {
    public var callback: Callback
    public var attempts: [CallAttempt]
    public var survey: Survey?
    public var questions: [SurveyQuestionSet.Question]
    /// The set the questions come from (nil: the standard questions).
    public var questionSetID: UUID?
}

/// Satisfaction callbacks (回访): scheduled after a complaint's resolution and after a delivery,
/// worked by the CRM team (attempts, the survey when the customer is reached), checked for
/// signs of a doctored survey; the dealers' question sets; the survey integrity report.
public final class CallbackService: Sendable {
    let kit: ServiceKit
    let callbacks = CallbackRepository()
    let reports = ComplaintReportRepository()
    let complaints = ComplaintRepository()
    let customers = CustomerRepository()
    let staff = StaffRepository()
    let audit = AuditRepository()

    init(_ kit: ServiceKit) {
        self.kit = kit
    }

    func lock(_ id: UUID) -> (TenantScope, PostgresTransaction) async throws -> Callback? {
        { [callbacks] scope, tx in try await callbacks.lock(id: id, scope: scope, in: tx) }
    }

    // MARK: Scheduling

    /// The callback of the complaint's current cycle, if it has one.
    func latest(for complaint: Complaint, in tx: PostgresTransaction) async throws -> Callback? {
        try await callbacks.latest(complaintID: complaint.id, dealerID: complaint.dealerID, in: tx)
    }

    /// The satisfaction callback after a resolution: due the dealer's callback working days after
    /// today, about this cycle of the complaint (a reopened and again resolved complaint gets a
    /// new one), not to be made by the complaint's owner.
    func scheduleAfterResolution(of complaint: Complaint, in step: UseCase) async throws -> Callback {
        let policy = step.dealer.fields.settings.complaints
        let due = CallbackRules.dueAfterResolution(resolvedOn: step.today, policy: policy)
        return try await schedule(
            .complaintResolution, due: due, customerID: complaint.fields.customerID, complaintID: complaint.id, leadID: nil,
            servedByID: complaint.ownerID, onceKey: "complaint:\(complaint.id.lowercasedText):\(complaint.reopenCount)",
            in: step)
    }

    /// The D+1 and D+3 callbacks after a delivery, not to be made by the consultant who sold the car.
    func scheduleAfterDelivery(leadID: UUID, customerID: UUID, consultantID: UUID?, deliveryDate: LocalDate, in step: UseCase)
        async throws -> [Callback]
    {
        var scheduled: [Callback] = []
        for (purpose, due) in CallbackRules.afterDelivery(deliveryDate) {
            scheduled.append(
                try await schedule(
                    purpose, due: due, customerID: customerID, complaintID: nil, leadID: leadID, servedByID: consultantID,
                    onceKey: "delivery:\(leadID.lowercasedText):\(purpose.rawValue)", in: step))
        }
        return scheduled
    }

    /// The D+1 callback after a service visit closed, not to be made by its advisor (none for a
    /// visit closed too long ago for its window).
    func scheduleAfterService(of visit: ServiceVisit, in step: UseCase) async throws -> Callback? {
        let closedOn = step.dealer.today(at: visit.fields.closedAt ?? step.now)
        guard
            let due = CallbackRules.afterService(
                closedOn: closedOn, windowDays: step.dealer.fields.settings.complaints.callbackWindowDays, today: step.today)
        else { return nil }
        return try await schedule(
            .postService, due: due, customerID: visit.customerID, complaintID: nil,
            leadID: nil, serviceVisitID: visit.id, servedByID: visit.fields.advisorID,
            onceKey: "visit:\(visit.id.lowercasedText)", in: step)
    }

    private func schedule(
        _ purpose: CallbackPurpose, due: LocalDate, customerID: UUID, complaintID: UUID?, leadID: UUID?,
        serviceVisitID: UUID? = nil, servedByID: UUID?, onceKey: String, in step: UseCase
    ) async throws -> Callback {
        let window = CallbackRules.window(
            dueDate: due, windowDays: step.dealer.fields.settings.complaints.callbackWindowDays, zone: step.dealer.timeZone)
        return try await callbacks.schedule(
            Callback(
                id: UUID(), dealerID: step.dealer.id, customerID: customerID, purpose: purpose, complaintID: complaintID,
                leadID: leadID, serviceVisitID: serviceVisitID, dueDate: due, windowStartsAt: window.starts, windowEndsAt: window.ends,
                assigneeID: nil, servedByID: servedByID, status: .open, attempts: 0, completedAt: nil, createdAt: step.now,
                updatedAt: step.now, version: 1),
            onceKey: onceKey, in: step.tx)
    }

    // MARK: Reading

    public func get(_ id: UUID, context: CallContext) async throws -> CallbackDetail {
        try Authorization.require(.complaintsRead, context.principal)
        return try await kit.pool.withTransaction { tx in
            guard let callback = try await callbacks.find(id: id, scope: context.principal.readScope, in: tx) else {
                throw ServiceError.notFound("No such callback.")
            }
            return try await detail(of: callback, in: tx)
        }
    }

    func detail(of callback: Callback, in tx: PostgresTransaction) async throws -> CallbackDetail {
        let survey = try await callbacks.survey(callbackID: callback.id, dealerID: callback.dealerID, in: tx)
        let set: SurveyQuestionSet? =
            if let setID = survey?.questionSetID {
                try await callbacks.questionSet(id: setID, dealerID: callback.dealerID, in: tx)
            } else if survey == nil {
                try await callbacks.activeSet(purpose: callback.purpose, dealerID: callback.dealerID, in: tx)
            } else {
                nil
            }
        return CallbackDetail(
            callback: callback, attempts: try await callbacks.attempts(callbackID: callback.id, dealerID: callback.dealerID, in: tx),
            survey: survey, questions: set?.questions ?? SurveyQuestionSet.standard(purpose: callback.purpose), questionSetID: set?.id)
    }

    /// Callbacks, newest first; `due` and `overdue` lists earliest due first.
    public func list(filter: CallbackFilter, dealerFilter: UUID?, page: PageRequest, context: CallContext) async throws -> Page<Callback> {
        try Authorization.require(.complaintsRead, context.principal)
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        let now = context.clock.now
        let today = try await kit.access.today(ofSingleDealer: scope.singleDealer, at: now, in: kit.pool)
        return try await callbacks.list(scope: scope, filter: filter, today: today, now: now, page: page, in: kit.pool)
    }

    // MARK: Working a callback

    /// Gives the callback to a member of the CRM team (nil: anyone of the team).
    public func assign(_ id: UUID, to assigneeID: UUID?, expectedVersion: Int?, context: CallContext) async throws -> CallbackDetail {
        try await kit.useCases.change(
            .complaintsWrite, expectedVersion: expectedVersion, context: context, notFound: "No such callback.", lock: lock(id)
        ) { current, step in
            guard current.status == .open else { throw RuleViolation("The callback is already done (\(current.status.rawValue)).") }
            if let assigneeID {
                guard let member = try await staff.find(id: assigneeID, scope: .dealer(current.dealerID), in: step.tx), member.fields.active
                else { throw ValidationErrors(field: "assignee_id", "is not an active staff member of this dealer") }
            }
            var changed = current
            changed.assigneeID = assigneeID
            return try await detail(of: try await callbacks.save(changed, now: step.now, in: step.tx), in: step.tx)
        }
    }

    /// One call, as the caller reports it.
    public struct AttemptInput: Sendable {
        public var outcome: CallOutcome
        public var numberCalled: String
        public var startedAt: Date
        public var endedAt: Date
        /// Who called, for a key not tied to a staff member (a call-centre system); a key tied to
        /// a staff member calls as that member.
        public var callerID: UUID?
        public var notes: String?
        public var survey: SurveyInput?

        public init(
            outcome: CallOutcome, numberCalled: String, startedAt: Date, endedAt: Date, callerID: UUID?, notes: String?,
            survey: SurveyInput?
        ) {
            self.outcome = outcome
            self.numberCalled = numberCalled
            self.startedAt = startedAt
            self.endedAt = endedAt
            self.callerID = callerID
            self.notes = notes
            self.survey = survey
        }
    }

    public struct SurveyInput: Sendable {
        public var scores: [String: Int]
        public var nps: Int?
        public var comments: String?

        public init(scores: [String: Int], nps: Int?, comments: String?) {
            self.scores = scores
            self.nps = nps
            self.comments = comments
        }
    }

    /// Records a call of the callback. Reached with a survey: the survey is stored with its
    /// integrity flags and the callback is done; refused: done; otherwise it stays open until the
    /// dealer's maximum of failed attempts. A complaint's callback goes on its timeline.
    public func recordAttempt(_ id: UUID, _ input: AttemptInput, context: CallContext) async throws -> CallbackDetail {
        var errors = ValidationErrors()
        let number = PhoneNumber.normalized(input.numberCalled, field: "number_called", errors: &errors)
        let notes = Text.optional(input.notes, field: "notes", maxLength: 2000, errors: &errors)
        let comments = Text.optional(input.survey?.comments, field: "survey.comments", maxLength: 2000, errors: &errors)
        if input.endedAt < input.startedAt { errors.add("ended_at", "must not be before started_at") }
        if input.endedAt.timeIntervalSince(input.startedAt) > 4 * 3600 { errors.add("ended_at", "a call lasts at most 4 hours") }
        if let staffID = context.principal.staffID, let callerID = input.callerID, callerID != staffID {
            errors.add("caller_id", "a key tied to a staff member records that member's own calls")
        }
        try errors.throwIfAny()
        guard let number else { throw errors }
        return try await kit.useCases.change(
            .complaintsWrite, expectedVersion: nil, context: context, notFound: "No such callback.", lock: lock(id)
        ) { current, step in
            if input.startedAt > step.now { throw ValidationErrors(field: "started_at", "must not be in the future") }
            let callerID = context.principal.staffID ?? input.callerID
            if let callerID, input.callerID != nil,
                try await staff.find(id: callerID, scope: .dealer(current.dealerID), in: step.tx) == nil
            {
                throw ValidationErrors(field: "caller_id", "is not a staff member of this dealer")
            }
            let policy = step.dealer.fields.settings.complaints
            let set = try await callbacks.activeSet(purpose: current.purpose, dealerID: current.dealerID, in: step.tx)
            let questions = set?.questions ?? SurveyQuestionSet.standard(purpose: current.purpose)
            if let survey = input.survey { try CallbackRules.checkAnswers(survey.scores, nps: survey.nps, questions: questions) }
            let changed = try CallbackRules.record(
                input.outcome, surveyed: input.survey != nil, on: current, maxAttempts: policy.callbackMaxAttempts, now: step.now)
            let attempt = CallAttempt(
                id: UUID(), callbackID: current.id, outcome: input.outcome, numberCalled: number, startedAt: input.startedAt,
                endedAt: input.endedAt, callerID: callerID, notes: notes, recordedAt: step.now)
            try await callbacks.insert(attempt, dealerID: current.dealerID, in: step.tx)
            if let answers = input.survey {
                var survey = Survey(
                    id: UUID(), callbackID: current.id, attemptID: attempt.id, questionSetID: set?.id, scores: answers.scores,
                    nps: answers.nps, comments: comments, flags: [], recordedAt: step.now)
                survey.flags = SurveyIntegrity.flags(
                    try await integrityFacts(survey, attempt: attempt, callback: current, questions: questions, in: step))
                try await callbacks.insert(survey, dealerID: current.dealerID, callback: current, attempt: attempt, in: step.tx)
            }
            let saved = try await callbacks.save(changed, now: step.now, in: step.tx)
            if let complaintID = current.complaintID {
                var details = ["callback_id": current.id.lowercasedText, "outcome": input.outcome.rawValue]
                if saved.status.isDone { details["callback_status"] = saved.status.rawValue }
                try await complaints.record(
                    [
                        ComplaintEvent(
                            id: UUID(), complaintID: complaintID, kind: saved.status.isDone ? .callbackCompleted : .call, note: notes,
                            details: details, actor: step.actor, at: step.now)
                    ], dealerID: current.dealerID, onceKeys: [nil], in: step.tx)
            }
            return try await detail(of: saved, in: step.tx)
        }
    }

    /// What is known around a survey when it is recorded (SurveyIntegrity decides what it means).
    func integrityFacts(
        _ survey: Survey, attempt: CallAttempt, callback: Callback, questions: [SurveyQuestionSet.Question], in step: UseCase
    ) async throws -> SurveyIntegrity.Facts {
        let thresholds = step.dealer.fields.settings.complaints.integrity
        let day: TimeInterval = 86_400
        var phoneChanges: [(at: Date, by: String)] = []
        for change in try await audit.changes(
            of: "phone", customerID: callback.customerID, dealerID: callback.dealerID,
            since: step.now.addingTimeInterval(-Double(thresholds.phoneChangeDays) * day), until: step.now, in: step.tx)
        {
            let name = try await change.staffID.asyncMap { try await staff.find(id: $0, scope: .dealer(callback.dealerID), in: step.tx) }??
                .fields.name
            phoneChanges.append(
                (change.at, name.map { "staff member \($0)" } ?? change.keyID.map { "API key \($0.lowercasedText)" } ?? "the system"))
        }
        let record =
            try await attempt.callerID.asyncMap {
                try await callbacks.callerRecord(
                    callerID: $0, dealerID: callback.dealerID,
                    since: step.now.addingTimeInterval(-Double(thresholds.topScoreDays) * day), in: step.tx)
            } ?? (surveys: 0, topScores: 0)
        return SurveyIntegrity.Facts(
            thresholds: thresholds, recordedAt: step.now, callStartedAt: attempt.startedAt, callEndedAt: attempt.endedAt,
            questionCount: questions.count, answered: survey.scores.count, windowStartsAt: callback.windowStartsAt,
            windowEndsAt: callback.windowEndsAt, phoneChanges: phoneChanges,
            staffWithNumber: try await callbacks.staff(withPhone: attempt.numberCalled, dealerID: callback.dealerID, in: step.tx),
            otherCustomersOnNumber: try await callbacks.otherCustomers(
                on: attempt.numberCalled, besides: callback.customerID, groupID: step.dealer.groupID, in: step.tx),
            callerID: attempt.callerID, servedByID: callback.servedByID,
            callerSurveys: attempt.callerID == nil ? 0 : record.surveys + 1,
            callerTopScores: attempt.callerID == nil ? 0 : record.topScores + (survey.isTopScore ? 1 : 0))
    }

    // MARK: Question sets

    /// The dealers' question sets the caller can see, the active ones first.
    public func questionSets(dealerFilter: UUID?, context: CallContext) async throws -> [SurveyQuestionSet] {
        try Authorization.require(.complaintsRead, context.principal)
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        return try await callbacks.questionSets(scope: scope, in: kit.pool)
    }

    /// A new question set for one kind of callback; it replaces the active one (kept, inactive,
    /// for the surveys that used it).
    public func defineQuestionSet(
        purpose: CallbackPurpose, name: String, questions: [SurveyQuestionSet.Question], dealerID: UUID?, context: CallContext
    ) async throws -> SurveyQuestionSet {
        let (cleanName, cleanQuestions) = try SurveyQuestionSet.validate(name: name, questions: questions)
        return try await kit.useCases.create(.surveysDefine, dealer: dealerID, context: context) { step in
            try await callbacks.activate(
                SurveyQuestionSet(
                    id: UUID(), dealerID: step.dealer.id, purpose: purpose, name: cleanName, questions: cleanQuestions, active: true,
                    createdAt: step.now), in: step.tx)
        }
    }

    // MARK: The integrity report

    public struct IntegrityReport: Sendable {
        public var flagged: [FlaggedSurvey]
        public var totalFlagged: Int
        public var rates: [SurveyIntegrityRate]
    }

    /// The flagged surveys of the period with their reasons, and the rates per dealer and per
    /// staff member; a group key sees every dealer of the group.
    public func integrity(from: LocalDate, to: LocalDate, dealerFilter: UUID?, limit: Int, context: CallContext) async throws
        -> IntegrityReport
    {
        try Authorization.require(.surveysAudit, context.principal)
        guard from <= to else { throw ValidationErrors(field: "from", "must not be after 'to'") }
        guard from.days(until: to) <= 3 * 366 else { throw ValidationErrors(field: "to", "a report spans at most three years") }
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        let result = try await reports.integrity(scope: scope, from: from, to: to, limit: limit, in: kit.pool)
        return IntegrityReport(flagged: result.flagged, totalFlagged: result.totalFlagged, rates: result.rates)
    }
}
