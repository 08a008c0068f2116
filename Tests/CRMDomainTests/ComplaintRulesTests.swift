import CRMDomain
import Foundation
import Testing

@Suite("Complaint rules: business-hour deadlines, pauses, the workflow, SLA events, callbacks")
struct ComplaintRulesTests {
    static let shanghai = TimeZone(identifier: "Asia/Shanghai")!
    /// 08:30-18:00 every day but Sunday.
    static let calendar = BusinessCalendar(
        weekly: Dictionary(uniqueKeysWithValues: (1...6).map { ($0, BusinessCalendar.Hours(opens: 510, closes: 1080)) }))
    let time = ComplaintRules.DealerTime(calendar: Self.calendar, zone: Self.shanghai)

    /// An instant in Shanghai: `"2026-11-30 17:00"`.
    func at(_ text: String) -> Date {
        let parts = text.split(separator: " ")
        let hm = parts[1].split(separator: ":").compactMap { Int($0) }
        return LocalDate(String(parts[0]))!.instant(minutes: hm[0] * 60 + hm[1], in: Self.shanghai)
    }

    func complaint(_ severity: ComplaintSeverity, at opened: String, policy: ComplaintPolicy = ComplaintPolicy()) throws -> Complaint {
        try ComplaintRules.open(
            ComplaintFields(customerID: UUID(), channel: .showroom, category: .waitingTime, severity: severity, description: "等太久"),
            id: UUID(), dealerID: UUID(), number: "TS-2026-000001", ownerID: nil, policy: policy, time: time, now: at(opened))
    }

    // MARK: Deadlines

    @Test("business hours carry over the dealer's midnight: 8 h from Monday 17:00 is Tuesday 15:30")
    func acrossMidnight() throws {
        // 2026-11-30 is a Monday. Normal: acknowledge 480 business minutes: 1 h on Monday, 7 h on Tuesday.
        let c = try complaint(.normal, at: "2026-11-30 17:00")
        #expect(c.clock.acknowledgeDueAt == at("2026-12-01 15:30"))
        // 80% of 8 h = 6 h 24 min: 1 h Monday + 5 h 24 min from 08:30 Tuesday.
        #expect(c.clock.acknowledgeWarnAt == at("2026-12-01 13:54"))
        // Resolve 2,880 business minutes = 48 h: 1 h Monday, 9.5 h Tuesday to Friday, 9 h Saturday.
        #expect(c.clock.resolveDueAt == at("2026-12-05 17:30"))
    }

    @Test("a complaint taken in at night starts counting at the next opening, Sunday and closed days skipped")
    func nightAndClosedDays() throws {
        // Saturday 23:10: Sunday closed, Monday 2026-12-07 closed for a holiday: counts from Tuesday 08:30.
        var policy = ComplaintPolicy()
        policy.calendar = BusinessCalendar(weekly: Self.calendar.weekly, closedDays: [LocalDate("2026-12-07")!])
        let c = try ComplaintRules.open(
            ComplaintFields(customerID: UUID(), channel: .wechat, category: .other, severity: .high, description: "x"),
            id: UUID(), dealerID: UUID(), number: "n", ownerID: nil, policy: policy,
            time: ComplaintRules.DealerTime(calendar: policy.calendar, zone: Self.shanghai), now: at("2026-12-05 23:10"))
        #expect(c.clock.acknowledgeDueAt == at("2026-12-08 12:30"))
    }

    @Test("critical complaints count around the clock")
    func aroundTheClock() throws {
        let c = try complaint(.critical, at: "2026-11-30 23:00")
        #expect(c.clock.acknowledgeDueAt == at("2026-12-01 01:00"))
        #expect(c.clock.resolveDueAt == at("2026-12-01 23:00"))
        #expect(c.clock.businessHours == false)
    }

    @Test("waiting on the customer stops the resolve clock; his reply resumes it with what was left")
    func pauseAndResume() throws {
        var c = try complaint(.critical, at: "2026-11-30 10:00")  // resolve due 2026-12-01 10:00 (24 h)
        c = try ComplaintRules.move(c, to: .acknowledged, callbackDone: false, time: time, now: at("2026-11-30 10:30")).complaint
        c = try ComplaintRules.move(c, to: .investigating, callbackDone: false, time: time, now: at("2026-11-30 11:00")).complaint
        c = try ComplaintRules.move(c, to: .waitingOnCustomer, callbackDone: false, time: time, now: at("2026-11-30 16:00")).complaint
        #expect(c.clock.resolveDueAt == nil)
        #expect(abs((c.clock.resolveRemaining ?? 0) - 18 * 3600) < 0.001)
        let paused = ComplaintRules.resolveView(c, now: at("2026-12-03 09:00"))
        #expect(paused.paused && paused.dueAt == nil && !paused.overdue)
        #expect(abs((paused.countedSecondsLeft ?? 0) - 18 * 3600) < 0.001)
        // Three days later the customer answers: 18 h left from now.
        c = try ComplaintRules.move(c, to: .investigating, callbackDone: false, time: time, now: at("2026-12-03 09:00")).complaint
        #expect(c.clock.resolveDueAt == at("2026-12-04 03:00"))
        // Active time excludes the pause: 10:00-16:00 (6 h) then from 09:00 on 3 December.
        #expect(ComplaintRules.activeSeconds(c, now: at("2026-12-03 10:00")) == 7 * 3600)
        let resolved = try ComplaintRules.resolve(
            c, with: ComplaintResolution(rootCause: "配件", remedy: .repair, cost: nil, customerAccepted: true, note: nil), time: time,
            now: at("2026-12-04 02:00"))
        #expect(ComplaintRules.resolveView(resolved, now: at("2026-12-05 00:00")).met == true)
        #expect(resolved.clock.activeSeconds == 6 * 3600 + 17 * 3600)
    }

    @Test("a business-hour clock paused overnight resumes with its business time, not wall time")
    func pauseInBusinessHours() throws {
        var c = try complaint(.normal, at: "2026-11-30 09:00")  // resolve: 48 business hours
        c = try ComplaintRules.move(c, to: .acknowledged, callbackDone: false, time: time, now: at("2026-11-30 09:10")).complaint
        c = try ComplaintRules.move(c, to: .investigating, callbackDone: false, time: time, now: at("2026-11-30 09:20")).complaint
        c = try ComplaintRules.move(c, to: .waitingOnCustomer, callbackDone: false, time: time, now: at("2026-11-30 17:00")).complaint
        // 8 business hours used (09:00-17:00): 40 left.
        #expect(abs((c.clock.resolveRemaining ?? 0) - 40 * 3600) < 0.001)
        c = try ComplaintRules.move(c, to: .investigating, callbackDone: false, time: time, now: at("2026-12-02 12:00")).complaint
        // From Wednesday 12:00: 6 h Wednesday, 9.5 h Thu, Fri, Sat (28.5), Sunday closed, 5.5 h Monday -> Monday 14:00.
        #expect(c.clock.resolveDueAt == at("2026-12-07 14:00"))
    }

    // MARK: The workflow

    @Test("illegal moves are refused naming the allowed ones", arguments: [
        (ComplaintStatus.new, ComplaintStatus.investigating, ["acknowledged"]),
        (.new, .closed, ["acknowledged"]),
        (.acknowledged, .waitingOnCustomer, ["investigating"]),
        (.investigating, .acknowledged, ["waiting_on_customer", "resolved"]),
    ])
    func illegalMoves(from: ComplaintStatus, to: ComplaintStatus, allowed: [String]) throws {
        var c = try complaint(.normal, at: "2026-11-30 09:00")
        c.status = from
        let refusal = #expect(throws: RuleViolation.self) {
            try ComplaintRules.move(c, to: to, callbackDone: true, time: time, now: at("2026-11-30 10:00"))
        }
        #expect(refusal?.allowedTransitions == allowed)
    }

    @Test("resolving goes through the resolution; closing needs the callback done; reopening counts and restarts the clock")
    func resolveCloseReopen() throws {
        var c = try complaint(.normal, at: "2026-11-30 09:00")
        c = try ComplaintRules.move(c, to: .acknowledged, callbackDone: false, time: time, now: at("2026-11-30 09:30")).complaint
        c = try ComplaintRules.move(c, to: .investigating, callbackDone: false, time: time, now: at("2026-11-30 10:00")).complaint
        #expect(throws: RuleViolation.self) {
            try ComplaintRules.move(c, to: .resolved, callbackDone: false, time: time, now: at("2026-11-30 11:00"))
        }
        #expect(throws: ValidationErrors.self) {
            try ComplaintRules.resolve(
                c, with: ComplaintResolution(rootCause: " ", remedy: .apology, cost: nil, customerAccepted: true, note: nil), time: time,
                now: at("2026-11-30 11:00"))
        }
        c = try ComplaintRules.resolve(
            c, with: ComplaintResolution(rootCause: "沟通不足", remedy: .apology, cost: nil, customerAccepted: true, note: nil), time: time,
            now: at("2026-11-30 11:00"))
        #expect(c.status == .resolved)
        #expect(throws: RuleViolation.self) {
            try ComplaintRules.move(c, to: .closed, callbackDone: false, time: time, now: at("2026-12-01 11:00"))
        }
        let closed = try ComplaintRules.move(c, to: .closed, callbackDone: true, time: time, now: at("2026-12-01 11:00")).complaint
        #expect(closed.closedAt == at("2026-12-01 11:00"))
        let (reopened, event) = try ComplaintRules.move(closed, to: .investigating, callbackDone: false, time: time, now: at("2026-12-02 09:00"))
        #expect(event == .reopened)
        #expect(reopened.reopenCount == 1 && reopened.resolution == nil && reopened.closedAt == nil)
        // 2 business hours were used (09:00-11:00): 46 h left from Wednesday 09:00.
        #expect(reopened.clock.resolveDueAt == time.adding(46 * 3600, to: at("2026-12-02 09:00"), businessHours: true))
    }

    @Test("the severity changes only before acknowledgement, restarting the clocks from intake")
    func severityEdit() throws {
        let c = try complaint(.low, at: "2026-11-30 09:00")
        var fields = c.fields
        fields.severity = .critical
        let edited = try ComplaintRules.edit(c, to: fields, policy: ComplaintPolicy(), time: time)
        #expect(edited.clock.acknowledgeDueAt == at("2026-11-30 11:00"))
        let acknowledged = try ComplaintRules.move(c, to: .acknowledged, callbackDone: false, time: time, now: at("2026-11-30 10:00")).complaint
        #expect(throws: ValidationErrors.self) { try ComplaintRules.edit(acknowledged, to: fields, policy: ComplaintPolicy(), time: time) }
    }

    // MARK: SLA events

    @Test("warnings at 80%, breaches escalate one level each, and nothing is raised twice")
    func slaEvents() throws {
        var c = try complaint(.critical, at: "2026-11-30 10:00")  // ack due 12:00 (warn 11:36), resolve due 12-01 10:00
        var (after, events) = ComplaintRules.slaEvents(c, time: time, now: at("2026-11-30 11:40"))
        #expect(events.map(\.key) == ["acknowledge.warning"])
        #expect(after.escalation == .owner)
        #expect(after.clock.nextEventAt == at("2026-11-30 12:00"))
        c = after
        (after, events) = ComplaintRules.slaEvents(c, time: time, now: at("2026-11-30 11:50"))
        #expect(events.isEmpty)
        (after, events) = ComplaintRules.slaEvents(c, time: time, now: at("2026-11-30 12:01"))
        #expect(events.map(\.key) == ["acknowledge.breach"])
        #expect(events.first?.escalatedTo == .dealerManager && after.escalation == .dealerManager)
        c = after
        // A day and a half later: the resolve warning and first breach at once; one more level.
        (after, events) = ComplaintRules.slaEvents(c, time: time, now: at("2026-12-01 12:00"))
        #expect(events.map(\.key) == ["resolve.warning.0", "resolve.breach.0.1"])
        #expect(after.escalation == .dealerAdmin)
        c = after
        // Each further resolve SLA (24 h) past the deadline is another breach, up to the OEM group.
        (after, events) = ComplaintRules.slaEvents(c, time: time, now: at("2026-12-03 10:00"))
        #expect(events.map(\.key) == ["resolve.breach.0.2", "resolve.breach.0.3"])
        #expect(after.escalation == .oemGroup)
        #expect(events.last?.escalatedTo == nil)
        #expect(after.clock.nextEventAt == nil)
        #expect(ComplaintRules.slaEvents(after, time: time, now: at("2026-12-30 10:00")).events.isEmpty)
    }

    @Test("a paused complaint raises no resolve event; acknowledging ends the acknowledge events")
    func noEventsWhileStanding() throws {
        var c = try complaint(.critical, at: "2026-11-30 10:00")
        c = try ComplaintRules.move(c, to: .acknowledged, callbackDone: false, time: time, now: at("2026-11-30 10:30")).complaint
        c = try ComplaintRules.move(c, to: .investigating, callbackDone: false, time: time, now: at("2026-11-30 10:40")).complaint
        c = try ComplaintRules.move(c, to: .waitingOnCustomer, callbackDone: false, time: time, now: at("2026-11-30 11:00")).complaint
        #expect(c.clock.nextEventAt == nil)
        #expect(ComplaintRules.slaEvents(c, time: time, now: at("2026-12-10 10:00")).events.isEmpty)
    }

    // MARK: Callbacks and survey integrity

    @Test("the callback is due the next working day; D+1 and D+3 after a delivery")
    func callbackDates() {
        var policy = ComplaintPolicy()
        policy.calendar = Self.calendar
        // Saturday 2026-12-05: Sunday is closed, so Monday.
        #expect(CallbackRules.dueAfterResolution(resolvedOn: LocalDate("2026-12-05")!, policy: policy) == LocalDate("2026-12-07"))
        policy.callbackWorkingDays = 2
        #expect(CallbackRules.dueAfterResolution(resolvedOn: LocalDate("2026-12-05")!, policy: policy) == LocalDate("2026-12-08"))
        #expect(CallbackRules.afterDelivery(LocalDate("2026-12-30")!).map(\.dueDate) == [LocalDate("2026-12-31")!, LocalDate("2027-01-02")!])
    }

    func facts(_ change: (inout SurveyIntegrity.Facts) -> Void = { _ in }) -> SurveyIntegrity.Facts {
        let now = at("2026-12-01 10:00")
        var facts = SurveyIntegrity.Facts(
            thresholds: SurveyIntegrityThresholds(), recordedAt: now, callStartedAt: now.addingTimeInterval(-300),
            callEndedAt: now.addingTimeInterval(-60), questionCount: 3, answered: 3, windowStartsAt: at("2026-12-01 00:00"),
            windowEndsAt: at("2026-12-03 00:00"), phoneChanges: [], staffWithNumber: [], otherCustomersOnNumber: 0,
            callerID: UUID(), servedByID: UUID(), callerSurveys: 10, callerTopScores: 10)
        change(&facts)
        return facts
    }

    @Test("a clean survey has no flag")
    func cleanSurvey() {
        #expect(SurveyIntegrity.flags(facts()).isEmpty)
    }

    @Test("each integrity check raises its own flag with its reason", arguments: SurveyFlag.Kind.allCases)
    func eachFlag(kind: SurveyFlag.Kind) {
        let flags = SurveyIntegrity.flags(
            facts { f in
                switch kind {
                case .phoneChanged: f.phoneChanges = [(f.recordedAt.addingTimeInterval(-3 * 86_400), "staff member 刘洋")]
                case .staffNumber: f.staffWithNumber = ["刘洋"]
                case .sharedNumber: f.otherCustomersOnNumber = 2
                case .shortCall: f.callStartedAt = f.callEndedAt.addingTimeInterval(-29)
                case .outsideWindow: f.recordedAt = f.windowEndsAt
                case .callerServedCustomer: f.servedByID = f.callerID
                case .staffTopScores:
                    f.callerSurveys = 20
                    f.callerTopScores = 19
                }
            })
        #expect(flags.map(\.kind) == [kind])
        #expect(flags.first?.explanation.isEmpty == false)
    }

    @Test("near misses raise nothing: a 30 s call, a question left open, 18 of 20 top scores, 19 surveys")
    func nearMisses() {
        #expect(SurveyIntegrity.flags(facts { $0.callStartedAt = $0.callEndedAt.addingTimeInterval(-30) }).isEmpty)
        #expect(SurveyIntegrity.flags(facts { f in f.callStartedAt = f.callEndedAt.addingTimeInterval(-10); f.answered = 2 }).isEmpty)
        #expect(SurveyIntegrity.flags(facts { f in f.callerSurveys = 20; f.callerTopScores = 18 }).isEmpty)
        #expect(SurveyIntegrity.flags(facts { f in f.callerSurveys = 19; f.callerTopScores = 19 }).isEmpty)
        #expect(SurveyIntegrity.flags(facts { $0.recordedAt = $0.windowStartsAt }).isEmpty)
    }

    @Test("an attempt: reached needs a survey, failed attempts end at the maximum, a done callback takes no more")
    func attempts() throws {
        let now = at("2026-12-01 10:00")
        var callback = Callback(
            id: UUID(), dealerID: UUID(), customerID: UUID(), purpose: .complaintResolution, complaintID: UUID(), leadID: nil,
            serviceVisitID: nil, dueDate: LocalDate("2026-12-01")!, windowStartsAt: now, windowEndsAt: now, assigneeID: nil,
            servedByID: nil, status: .open, attempts: 0, completedAt: nil, createdAt: now, updatedAt: now, version: 1)
        #expect(throws: ValidationErrors.self) { try CallbackRules.record(.reached, surveyed: false, on: callback, maxAttempts: 3, now: now) }
        #expect(throws: ValidationErrors.self) { try CallbackRules.record(.noAnswer, surveyed: true, on: callback, maxAttempts: 3, now: now) }
        callback = try CallbackRules.record(.noAnswer, surveyed: false, on: callback, maxAttempts: 2, now: now)
        #expect(callback.status == .open && callback.attempts == 1)
        callback = try CallbackRules.record(.wrongNumber, surveyed: false, on: callback, maxAttempts: 2, now: now)
        #expect(callback.status == .unreachable && callback.completedAt == now)
        #expect(throws: RuleViolation.self) { try CallbackRules.record(.reached, surveyed: true, on: callback, maxAttempts: 2, now: now) }
        #expect(throws: ValidationErrors.self) {
            try CallbackRules.checkAnswers(["handling": 6], nps: 11, questions: SurveyQuestionSet.standard(purpose: .complaintResolution))
        }
        #expect(throws: ValidationErrors.self) {
            try CallbackRules.checkAnswers(["unknown": 5], nps: nil, questions: SurveyQuestionSet.standard(purpose: .complaintResolution))
        }
    }
}
