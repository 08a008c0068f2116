import CRMDomain
import Foundation
import Testing

@Suite("Service forecast and reminder rules: mileage and time, lead times, birthdays, suppression, holdback, call tasks")
struct ReminderRulesTests {
    func d(_ text: String) -> LocalDate { LocalDate(text)! }
    func reading(_ date: String, _ km: Int) -> ServiceForecast.Reading { .init(readOn: d(date), km: km) }
    let schedule = MaintenanceSchedule.standard(dealerID: UUID())

    // MARK: The forecast

    @Test("two readings give the rate; the mileage date comes first when the car drives a lot")
    func twoReadings() {
        // Delivered 2026-01-01; 3,000 km by 2026-02-01, 6,000 by 2026-03-03 (30 days, 100 km/day).
        let f = ServiceForecasting.forecast(
            readings: [reading("2026-02-01", 3_000), reading("2026-03-03", 6_000)], delivery: d("2026-01-01"), lastMaintenance: nil,
            schedule: schedule, defaultKmPerDay: 35, today: d("2026-03-10"))
        #expect(f.step == .firstService)
        #expect(f.rateSource == .readings)
        #expect(f.kmPerDay == 100)
        #expect(f.dueKm == 5_000)
        // 5,000 km was passed before the newest reading: due in the past, where the rate puts it.
        #expect(f.dueByMileage == d("2026-02-21"))
        #expect(f.dueByTime == d("2026-07-01"))
        #expect(f.dueDate == d("2026-02-21") && f.basis == .mileage)
        #expect(f.forecastKmToday == 6_700)
        #expect(f.confidence == .medium)
    }

    @Test("time comes first for a car that is hardly driven")
    func timeFirst() {
        let f = ServiceForecasting.forecast(
            readings: [reading("2026-01-01", 10_000), reading("2026-03-02", 10_600)], delivery: d("2025-01-01"),
            lastMaintenance: (d("2026-01-01"), 10_000), schedule: schedule, defaultKmPerDay: 35, today: d("2026-03-10"))
        #expect(f.step == .maintenance)
        #expect(f.kmPerDay == 10)
        #expect(f.dueKm == 20_000)
        #expect(f.dueByTime == d("2027-01-01"))
        #expect(f.dueByMileage == d("2028-09-27"))  // 9,400 km at 10 km a day from the reading of 2 March
        #expect(f.dueDate == d("2027-01-01") && f.basis == .time)
    }

    @Test("readings that go backwards or imply over 1,000 km a day are ignored and reported")
    func outliers() {
        let f = ServiceForecasting.forecast(
            readings: [
                reading("2026-01-01", 1_000), reading("2026-01-05", 900), reading("2026-01-06", 9_000), reading("2026-01-31", 2_500),
            ], delivery: d("2025-12-01"), lastMaintenance: nil, schedule: schedule, defaultKmPerDay: 35, today: d("2026-02-01"))
        #expect(f.used.map(\.km) == [1_000, 2_500])
        #expect(f.ignored.map(\.reason) == [.backwards, .implausibleRate])
        #expect(f.ignored.map(\.reading.km) == [900, 9_000])
        #expect(f.kmPerDay == 50)
    }

    @Test("without two usable readings a week apart the dealer's default rate counts from the delivery at 0 km")
    func noReadings() {
        let none = ServiceForecasting.forecast(
            readings: [], delivery: d("2026-01-01"), lastMaintenance: nil, schedule: schedule, defaultKmPerDay: 40, today: d("2026-01-10"))
        #expect(none.rateSource == .dealerDefault && none.confidence == .low)
        #expect(none.dueByMileage == d("2026-05-06"))  // 5,000 km at 40 km/day: 125 days
        #expect(none.dueByTime == d("2026-07-01"))
        #expect(none.dueDate == d("2026-05-06"))
        #expect(none.forecastKmToday == 360)
        let close = ServiceForecasting.forecast(
            readings: [reading("2026-01-01", 100), reading("2026-01-05", 400)], delivery: d("2025-12-20"), lastMaintenance: nil,
            schedule: schedule, defaultKmPerDay: 40, today: d("2026-01-10"))
        #expect(close.rateSource == .dealerDefault)
        #expect(close.used.count == 2)
        // Projected from the newest reading at the default rate.
        #expect(close.dueByMileage == d("2026-01-05").adding(days: 115))
    }

    @Test("the schedule of the vehicle's series, else its brand, else the dealer's, else the standard")
    func scheduleChoice() {
        let dealer = UUID()
        func s(_ brand: String?, _ series: String?, _ km: Int) -> MaintenanceSchedule {
            MaintenanceSchedule(
                id: UUID(), dealerID: dealer, brand: brand, series: series, firstKm: km, firstMonths: 6, intervalKm: km, intervalMonths: 12,
                updatedAt: Date())
        }
        let all = [s(nil, nil, 8_000), s("BMW", nil, 12_000), s("BMW", "X5", 15_000)]
        #expect(MaintenanceSchedule.applying(to: "bmw", series: "X5", among: all, dealerID: dealer).firstKm == 15_000)
        #expect(MaintenanceSchedule.applying(to: "BMW", series: "3系", among: all, dealerID: dealer).firstKm == 12_000)
        #expect(MaintenanceSchedule.applying(to: "Toyota", series: nil, among: all, dealerID: dealer).firstKm == 8_000)
        #expect(MaintenanceSchedule.applying(to: "Toyota", series: nil, among: [], dealerID: dealer).firstKm == 5_000)
    }

    // MARK: Dates

    @Test("lead times: a reminder goes out its kind's days before the due date, and not after its grace", arguments: [
        (ReminderKind.maintenance, "2026-12-08", "2026-12-01", true),
        (.maintenance, "2026-12-09", "2026-12-01", false),
        (.maintenance, "2026-11-17", "2026-12-01", true),  // 14 days of grace
        (.maintenance, "2026-11-16", "2026-12-01", false),
        (.birthday, "2026-12-04", "2026-12-01", true),
        (.birthday, "2026-12-05", "2026-12-01", false),
        (.birthday, "2026-11-30", "2026-12-01", false),  // after the birthday: pointless
        (.insuranceRenewal, "2026-12-31", "2026-12-01", true),
        (.recallNotice, "2026-12-01", "2026-12-01", true),
    ])
    func leadTimes(kind: ReminderKind, due: String, today: String, expected: Bool) {
        #expect(ReminderRules.isDue(kind, due: d(due), touch: 1, today: d(today), policy: ReminderPolicy()) == expected)
    }

    @Test("the dealer's today decides: 23:59 and 00:01 in Shanghai fall on two dates")
    func dealerMidnight() {
        let shanghai = TimeZone(identifier: "Asia/Shanghai")!
        let before = d("2026-11-30").instant(minutes: 23 * 60 + 59, in: shanghai)
        let after = before.addingTimeInterval(120)
        let due = d("2026-12-08")
        #expect(!ReminderRules.isDue(.maintenance, due: due, touch: 1, today: LocalDate(before, in: shanghai), policy: ReminderPolicy()))
        #expect(ReminderRules.isDue(.maintenance, due: due, touch: 1, today: LocalDate(after, in: shanghai), policy: ReminderPolicy()))
        // In UTC both instants are still 30 November afternoon: the dealer's zone is what counts.
        #expect(LocalDate(after, in: .gmt) == d("2026-11-30"))
    }

    @Test("29 February birthdays fall on 28 February in other years")
    func leapBirthdays() {
        let born = d("1992-02-29")
        #expect(ReminderRules.birthday(born, in: 2027) == d("2027-02-28"))
        #expect(ReminderRules.birthday(born, in: 2028) == d("2028-02-29"))
        #expect(ReminderRules.nextBirthday(born, onOrAfter: d("2027-02-26")) == d("2027-02-28"))
        #expect(ReminderRules.nextBirthday(born, onOrAfter: d("2027-03-01")) == d("2028-02-29"))
        #expect(ReminderRules.nextBirthday(d("1990-12-31"), onOrAfter: d("2026-12-31")) == d("2026-12-31"))
    }

    @Test("the follow-up touch goes out follow_up_days after the due date")
    func followUp() {
        let policy = ReminderPolicy()
        #expect(ReminderRules.sendDate(.maintenance, due: d("2026-12-01"), touch: 2, policy: policy) == d("2026-12-15"))
        #expect(ReminderRules.isDue(.maintenance, due: d("2026-12-01"), touch: 2, today: d("2026-12-15"), policy: policy))
        #expect(!ReminderRules.isDue(.maintenance, due: d("2026-12-01"), touch: 2, today: d("2026-12-14"), policy: policy))
    }

    // MARK: Decisions

    func candidate(_ kind: ReminderKind = .maintenance, _ change: (inout MarketingFacts) -> Void = { _ in }) -> ReminderCandidate {
        var facts = MarketingFacts(granted: [.sms, .phone])
        change(&facts)
        return ReminderCandidate(
            customerID: UUID(), vehicleID: kind.isAboutVehicle ? UUID() : nil, kind: kind, dueDate: d("2026-12-08"), touch: 1, facts: facts,
            advisorID: nil, data: [:])
    }

    @Test("a clean candidate is pending through the first consented channel of the dealer's order")
    func clean() {
        let decision = ReminderRules.decide(candidate(), policy: ReminderPolicy())
        #expect(decision.status == .pending && decision.reason == nil && decision.channel == .sms)
        var phoneFirst = ReminderPolicy()
        phoneFirst.channelOrder = [.phone, .sms]
        #expect(ReminderRules.decide(candidate(), policy: phoneFirst).channel == .phone)
    }

    @Test("each suppression reason", arguments: SuppressionReason.Code.allCases)
    func suppression(code: SuppressionReason.Code) {
        let decision = ReminderRules.decide(
            candidate(.maintenance) { f in
                switch code {
                case .erased: f.erased = true
                case .ownershipEnded: f.ownsVehicle = false
                case .openComplaint: f.openComplaints = ["TS-2026-000001"]
                case .noConsent: f.granted = []
                case .optedOut:
                    f.granted = []
                    f.withdrawn = [.sms]
                case .openRecall: f.openRecall = true
                case .visited: f.visitedOn = LocalDate("2026-12-02")
                case .frequencyCap: f.recentMarketing = 2
                }
            }, policy: ReminderPolicy())
        #expect(decision.status == .suppressed)
        #expect(decision.reason?.code == code)
        #expect(decision.reason?.detail.isEmpty == false)
    }

    @Test("the recall notice is service-critical: it ignores complaints, consent and the cap, but never reaches the erased")
    func recallNotice() {
        let notice = candidate(.recallNotice) { f in
            f.openComplaints = ["TS-1"]
            f.granted = []
            f.recentMarketing = 9
            f.openRecall = true
        }
        let decision = ReminderRules.decide(notice, policy: ReminderPolicy())
        #expect(decision.status == .pending && decision.channel == .phone)
        #expect(ReminderRules.decide(candidate(.recallNotice) { $0.erased = true }, policy: ReminderPolicy()).reason?.code == .erased)
    }

    @Test("the control group: the same draw every time, about the dealer's share")
    func holdback() {
        var policy = ReminderPolicy()
        policy.holdbackPercent = 10
        let candidates = (0..<5_000).map { _ in candidate() }
        let held = candidates.filter { ReminderRules.decide($0, policy: policy).status == .heldBack }
        #expect((350...650).contains(held.count), "\(held.count) of 5,000")
        #expect(held.allSatisfy { ReminderRules.isHeldBack($0, percent: 10) })
        #expect(candidates.allSatisfy { !ReminderRules.isHeldBack($0, percent: 0) })
    }

    @Test("customer reasons: erased first, then complaints and consent")
    func customerReasons() {
        #expect(MarketingRules.customerReasons(MarketingFacts(granted: [.sms]), channels: [.sms]).isEmpty)
        #expect(MarketingRules.customerReasons(MarketingFacts(granted: [.email]), channels: [.sms]).map(\.code) == [.noConsent])
        let both = MarketingRules.customerReasons(MarketingFacts(openComplaints: ["TS-1"], granted: []), channels: [.sms])
        #expect(both.map(\.code) == [.openComplaint, .noConsent])
        #expect(MarketingRules.customerReasons(MarketingFacts(erased: true, openComplaints: ["TS-1"]), channels: [.sms]).map(\.code) == [.erased])
    }

    @Test("a closed visit's satisfaction callback is due the next day, unless its window is already over (old visits loaded)")
    func postServiceCallback() {
        #expect(CallbackRules.afterService(closedOn: d("2026-11-30"), windowDays: 2, today: d("2026-11-30")) == d("2026-12-01"))
        #expect(CallbackRules.afterService(closedOn: d("2026-11-28"), windowDays: 2, today: d("2026-11-30")) == d("2026-11-29"))
        #expect(CallbackRules.afterService(closedOn: d("2026-11-27"), windowDays: 2, today: d("2026-11-30")) == nil)
        #expect(CallbackRules.afterService(closedOn: d("2024-05-01"), windowDays: 2, today: d("2026-11-30")) == nil)
    }

    // MARK: Call tasks

    @Test("call outcomes: booked needs its date, no answer stays open until the third, the others close")
    func callTasks() throws {
        let today = d("2026-12-01")
        let open = CallTask(
            id: UUID(), dealerID: UUID(), reminderID: UUID(), customerID: UUID(), vehicleID: UUID(), kind: .maintenance, advisorID: nil,
            dueDate: today, status: .open, outcome: nil, bookedDate: nil, attempts: 0, notes: nil, visitID: nil, createdAt: Date(),
            updatedAt: Date(), version: 1)
        #expect(throws: ValidationErrors.self) { try CallTaskRules.record(.booked, bookedDate: nil, notes: nil, on: open, today: today) }
        #expect(throws: ValidationErrors.self) {
            try CallTaskRules.record(.booked, bookedDate: d("2026-11-30"), notes: nil, on: open, today: today)
        }
        #expect(throws: ValidationErrors.self) {
            try CallTaskRules.record(.declined, bookedDate: d("2026-12-03"), notes: nil, on: open, today: today)
        }
        let booked = try CallTaskRules.record(.booked, bookedDate: d("2026-12-03"), notes: "周三上午", on: open, today: today)
        #expect(booked.status == .done && booked.bookedDate == d("2026-12-03"))
        #expect(throws: RuleViolation.self) { try CallTaskRules.record(.reached, bookedDate: nil, notes: nil, on: booked, today: today) }
        var task = open
        for attempt in 1...3 {
            task = try CallTaskRules.record(.noAnswer, bookedDate: nil, notes: nil, on: task, today: today)
            #expect(task.status == (attempt < 3 ? .open : .done))
        }
    }
}
