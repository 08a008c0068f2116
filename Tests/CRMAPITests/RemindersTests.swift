import CRMClient
import CRMDomain
import CRMServices
import CRMTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresClient
import Testing

/// A dealer (A of `Tenants`) with a service advisor (a key tied to him), a manager key and keys
/// of other roles; helpers that make customers with consents, vehicles, readings and visits.
struct ServiceDesk: Sendable {
    let tenants: Tenants
    let advisor: String
    let advisorKey: String
    let managerKey: String
    let salesKey: String
    let crmKey: String
    static let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    static func make(_ app: TestApp) async throws -> ServiceDesk {
        let tenants = try await Tenants.make(app.services)
        let advisor = try await app.api(tenants.keyA).createStaff(body: .json(.init(name: "刘洋", function: .service))).created.body.json.id
        func key(_ role: Role, _ staff: String? = nil) async throws -> String {
            try await Tenants.key(
                app.services, group: tenants.groupID, dealer: tenants.dealerA, role: role, staff: staff.flatMap(UUID.init(uuidString:)))
        }
        return ServiceDesk(
            tenants: tenants, advisor: advisor, advisorKey: try await key(.service, advisor), managerKey: try await key(.manager),
            salesKey: try await key(.sales), crmKey: try await key(.crm))
    }

    static func at(_ text: String) -> Date {
        let parts = text.split(separator: " ")
        let hm = parts[1].split(separator: ":").compactMap { Int($0) }
        return LocalDate(String(parts[0]))!.instant(minutes: hm[0] * 60 + hm[1], in: shanghai)
    }

    /// A customer with the given granted consents.
    func customer(
        _ app: TestApp, _ seed: Int, consents: [Components.Schemas.ConsentChannel] = [.sms], birthday: String? = nil, key: String? = nil
    ) async throws -> String {
        let created = try await app.api(key ?? tenants.keyA).createCustomer(
            body: .json(
                .init(
                    kind: .person, name: "客户\(seed)", phone: mobile(seed), birthday: birthday,
                    consents: consents.map { .init(channel: $0, status: .granted, source: .showroomForm) })))
        #expect(status(of: created) == .created, "\(created)")
        return try created.created.body.json.id
    }

    /// A vehicle owned by `owner`.
    func vehicle(
        _ app: TestApp, _ seed: Int, owner: String, delivered: String? = nil, insurance: String? = nil, inspection: String? = nil,
        warranty: String? = nil, openRecall: Bool = false, key: String? = nil
    ) async throws -> String {
        let created = try await app.api(key ?? tenants.keyA).createVehicle(
            body: .json(
                .init(
                    vin: vin(seed), brand: "BMW", series: "3系", deliveryDate: delivered, warrantyEnd: warranty, insuranceExpiry: insurance,
                    inspectionDue: inspection, openRecall: openRecall, owner: .init(customerId: owner))))
        #expect(status(of: created) == .created, "\(created)")
        return try created.created.body.json.id
    }

    func reading(_ app: TestApp, vehicle: String, on date: String, km: Int) async throws {
        let added = try await app.api(tenants.keyA).addOdometerReading(
            path: .init(vehicleId: vehicle), body: .json(.init(km: km, readOn: date, source: .serviceVisit)))
        #expect(status(of: added) == .created, "\(added)")
    }

    /// Records a visit through the advisor's key.
    @discardableResult
    func visit(
        _ app: TestApp, vehicle: String, number: String, type: Components.Schemas.ServiceVisitType = .maintenance, opened: Date,
        closed: Date? = nil, km: Int? = nil
    ) async throws -> Components.Schemas.ServiceVisit {
        let recorded = try await app.api(advisorKey).recordServiceVisit(
            body: .json(
                .init(
                    vehicleId: vehicle, repairOrderNumber: number, _type: type, openedAt: opened, closedAt: closed, odometerKm: km,
                    lineItems: [.init(description: "保养", labourMinor: 30_000, partsMinor: 50_000)], advisorId: advisor)))
        switch recorded {
        case .created(let created): return try created.body.json
        case .ok(let ok): return try ok.body.json
        default:
            Issue.record("visit not recorded: \(recorded)")
            throw CancellationError()
        }
    }

    func reminders(_ app: TestApp, _ query: Operations.ListReminders.Input.Query = .init(limit: 200)) async throws
        -> [Components.Schemas.Reminder]
    {
        try await app.api(managerKey).listReminders(query: query).ok.body.json.data
    }
}

@Suite("Service reminders: visits, forecasts, the daily scan, suppression, call tasks, return rate")
struct RemindersTests {
    @Test("visits: a DMS resending a repair order updates it; readings, recalls and the post-service callback follow")
    func visits() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ServiceDesk.make(app)
            app.clock.set(ServiceDesk.at("2026-11-30 10:00"))
            let owner = try await desk.customer(app, 1)
            let car = try await desk.vehicle(app, 1, owner: owner, delivered: "2025-06-01", openRecall: true)
            let first = try await desk.visit(app, vehicle: car, number: "RO-1", type: .recallCampaign, opened: ServiceDesk.at("2026-11-30 09:00"), km: 12_000)
            #expect(first.customerId == owner)
            #expect(first.totalMinor == 80_000)
            #expect(first.odometerNote == nil)
            // The same repair order again (the DMS retries, now closed): the same visit, updated.
            let again = try await desk.visit(
                app, vehicle: car, number: "RO-1", type: .recallCampaign, opened: ServiceDesk.at("2026-11-30 09:00"),
                closed: ServiceDesk.at("2026-11-30 09:50"), km: 12_000)
            #expect(again.id == first.id)
            #expect(again.version == 2)
            #expect(try await app.api(desk.managerKey).listServiceVisits(query: .init(vehicleId: car)).ok.body.json.data.count == 1)
            // The reading was recorded once; the recall is closed; the D+1 callback is scheduled.
            let readings = try await app.api(desk.managerKey).listOdometerReadings(path: .init(vehicleId: car)).ok.body.json.data
            #expect(readings.map(\.km) == [12_000])
            let vehicle = try await app.api(desk.managerKey).getVehicle(path: .init(vehicleId: car)).ok.body.json
            #expect(vehicle.openRecall == false && vehicle.recallOpenedOn == nil)
            let callbacks = try await app.api(desk.managerKey).listCallbacks(query: .init(purpose: .postService)).ok.body.json.data
            #expect(callbacks.map(\.dueDate) == ["2026-12-01"])
            #expect(callbacks.first?.servedById == desk.advisor)
            // A figure below the history is kept on the visit, not as a reading, and said why.
            let backwards = try await desk.visit(app, vehicle: car, number: "RO-2", type: .repair, opened: ServiceDesk.at("2026-11-30 10:00"), km: 9_000)
            #expect(backwards.odometerNote?.contains("12000") == true || backwards.odometerNote?.contains("12,000") == true, "\(backwards.odometerNote ?? "-")")
            // PATCH with If-Match.
            let patched = try await app.client.call(
                .patch, "/v1/service-visits/\(backwards.id)", key: desk.advisorKey, json: ["notes": "更换刹车片"], headers: ["If-Match": "\"1\""])
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched["notes"] as? String == "更换刹车片")
            // The 360 view shows them.
            let view = try await app.api(desk.managerKey).getCustomer360(path: .init(customerId: owner)).ok.body.json
            #expect(view.sections.serviceVisits?.count == 2)
        }
    }

    @Test("the forecast endpoint explains itself")
    func forecastEndpoint() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ServiceDesk.make(app)
            app.clock.set(ServiceDesk.at("2026-11-30 10:00"))
            let owner = try await desk.customer(app, 2)
            let car = try await desk.vehicle(app, 2, owner: owner, delivered: "2026-06-01")
            try await desk.reading(app, vehicle: car, on: "2026-07-01", km: 1_000)
            try await desk.reading(app, vehicle: car, on: "2026-10-29", km: 4_600)
            let forecast = try await app.api(desk.managerKey).getServiceForecast(path: .init(vehicleId: car)).ok.body.json
            #expect(forecast.step == .firstService)
            #expect(forecast.rateSource == .readings)
            #expect(forecast.kmPerDay == 30)
            #expect(forecast.dueKm == 5_000)
            #expect(forecast.dueByTime == "2026-12-01")
            #expect(forecast.dueByMileage == "2026-11-12")
            #expect(forecast.dueDate == "2026-11-12" && forecast.basis == .mileage)
            #expect(forecast.forecastKmToday == 5_560)
            #expect(forecast.used.count == 2 && forecast.ignored.isEmpty)
            #expect(forecast.schedule.firstKm == 5_000)
            #expect(status(of: try await app.api(desk.tenants.keyB).getServiceForecast(path: .init(vehicleId: car))) == .notFound)
        }
    }

    @Test("the scan: every kind on its lead time, each scan-time suppression reason, nothing twice (rerun, two workers)")
    func scan() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ServiceDesk.make(app)
            app.clock.set(ServiceDesk.at("2026-11-30 10:00"))  // today is 30 November in Shanghai
            // First service due by time on 5 December (hardly driven).
            let c1 = try await desk.customer(app, 11)
            let v1 = try await desk.vehicle(app, 11, owner: c1, delivered: "2026-06-05")
            try await desk.reading(app, vehicle: v1, on: "2026-06-10", km: 100)
            try await desk.reading(app, vehicle: v1, on: "2026-11-20", km: 2_100)
            // Maintenance due 4 December: 12 months after the last one.
            let c2 = try await desk.customer(app, 12)
            let v2 = try await desk.vehicle(app, 12, owner: c2, delivered: "2024-06-01")
            app.clock.set(ServiceDesk.at("2025-12-04 10:00"))
            try await desk.visit(app, vehicle: v2, number: "RO-M", opened: ServiceDesk.at("2025-12-04 09:00"), km: 15_000)
            app.clock.set(ServiceDesk.at("2026-11-30 10:00"))
            try await desk.reading(app, vehicle: v2, on: "2026-11-01", km: 20_000)
            // Birthday on 2 December.
            let c3 = try await desk.customer(app, 13, birthday: "1990-12-02")
            // Insurance, inspection, warranty.
            let c4 = try await desk.customer(app, 14)
            let v4 = try await desk.vehicle(app, 14, owner: c4, insurance: "2026-12-20")
            let c5 = try await desk.customer(app, 15)
            let v5 = try await desk.vehicle(app, 15, owner: c5, inspection: "2026-12-15")
            let c6 = try await desk.customer(app, 16)
            let v6 = try await desk.vehicle(app, 16, owner: c6, warranty: "2026-12-25")
            // Dormant: last seen 25 November 2025.
            let c7 = try await desk.customer(app, 17)
            let v7 = try await desk.vehicle(app, 17, owner: c7, delivered: "2024-01-01")
            app.clock.set(ServiceDesk.at("2025-11-25 10:00"))
            try await desk.visit(app, vehicle: v7, number: "RO-D", type: .repair, opened: ServiceDesk.at("2025-11-25 09:00"), km: 30_000)
            app.clock.set(ServiceDesk.at("2026-11-30 10:00"))
            // An open recall: the notice goes; its insurance reminder is suppressed.
            let c8 = try await desk.customer(app, 18)
            let v8 = try await desk.vehicle(app, 18, owner: c8, insurance: "2026-12-21", openRecall: true)
            // Suppressed: an open complaint, no consent, opted out, erased, the frequency cap.
            let c9 = try await desk.customer(app, 19)
            let v9 = try await desk.vehicle(app, 19, owner: c9, insurance: "2026-12-20")
            _ = try await app.api(desk.tenants.keyA).createComplaint(
                body: .json(.init(customerId: c9, channel: .showroom, category: .waitingTime, severity: .normal, description: "等太久")))
            let c10 = try await desk.customer(app, 20, consents: [])
            let v10 = try await desk.vehicle(app, 20, owner: c10, insurance: "2026-12-20")
            let c11 = try await desk.customer(app, 21)
            let v11 = try await desk.vehicle(app, 21, owner: c11, insurance: "2026-12-20")
            _ = try await app.api(desk.tenants.keyA).changeConsent(
                path: .init(customerId: c11), body: .json(.init(channel: .sms, status: .withdrawn, source: .customerRequest)))
            let c12 = try await desk.customer(app, 22)
            let v12 = try await desk.vehicle(app, 22, owner: c12, insurance: "2026-12-20")
            _ = try await app.api(desk.tenants.keyA).eraseCustomer(path: .init(customerId: c12))
            let c13 = try await desk.customer(app, 23)
            var capped: [String] = []
            for n in 0..<3 { capped.append(try await desk.vehicle(app, 30 + n, owner: c13, insurance: "2026-12-2\(n)")) }

            // Two workers scan at once, then a rerun.
            let configuration = try testConfiguration(databaseURL: app.database.url)
            let secondPool = PostgresPool(configuration: configuration.poolConfiguration(), logger: Logger(label: "second"))
            defer { secondPool.shutdownNow() }
            let second = DomainServices(pool: secondPool, logger: Logger(label: "second"), clock: app.clock)
            async let one = app.services.reminders.scan(dealerID: desk.tenants.dealerA)
            async let two = second.reminders.scan(dealerID: desk.tenants.dealerA)
            let (a, b) = try await (one, two)
            let all = try await desk.reminders(app)
            #expect(a.created + b.created == all.count)
            #expect(try await app.services.reminders.scan(dealerID: desk.tenants.dealerA).created == 0)
            #expect(try await desk.reminders(app).count == all.count)

            func find(_ kind: Components.Schemas.ReminderKind, vehicle: String? = nil, customer: String? = nil) -> [Components.Schemas.Reminder] {
                all.filter { $0.kind == kind && (vehicle == nil || $0.vehicleId == vehicle) && (customer == nil || $0.customerId == customer) }
            }
            #expect(find(.firstService, vehicle: v1).map(\.dueDate) == ["2026-12-05"])
            #expect(find(.firstService, vehicle: v1).first?.sendDate == "2026-11-28")
            #expect(find(.maintenance, vehicle: v2).map(\.dueDate) == ["2026-12-04"])
            #expect(find(.birthday, customer: c3).map(\.dueDate) == ["2026-12-02"])
            #expect(find(.insuranceRenewal, vehicle: v4).map(\.status) == [.pending])
            #expect(find(.annualInspection, vehicle: v5).map(\.dueDate) == ["2026-12-15"])
            #expect(find(.warrantyExpiry, vehicle: v6).map(\.dueDate) == ["2026-12-25"])
            let dormant = try #require(find(.dormantRecall, vehicle: v7).first)
            #expect(dormant.dueDate == "2026-11-25")
            #expect(dormant.data.lastSeen == "2025-11-25")
            #expect(dormant.data.kmSinceLastVisit != nil)
            #expect(find(.recallNotice, vehicle: v8).map(\.status) == [.pending])
            func reason(_ vehicle: String) -> Components.Schemas.MarketingSuppressionCode? {
                find(.insuranceRenewal, vehicle: vehicle).first?.reason?.code
            }
            #expect(reason(v8) == .openRecall)
            #expect(reason(v9) == .openComplaint)
            #expect(reason(v10) == .noConsent)
            #expect(reason(v11) == .optedOut)
            #expect(reason(v12) == .erased)
            #expect(capped.map(reason) == [nil, nil, .frequencyCap])
            #expect(find(.insuranceRenewal, vehicle: v4).first?.channel == .sms)
            // Nothing else: e.g. no maintenance reminder for the dormant car (its first service is long past its grace).
            #expect(find(.firstService, vehicle: v7).isEmpty && find(.maintenance, vehicle: v7).isEmpty)
            // The list filters by reason.
            #expect(try await desk.reminders(app, .init(reason: .noConsent)).map(\.vehicleId) == [v10])
        }
    }

    @Test("the send re-checks: a complaint opened, a car sold or a visit since the scan stops the reminder; phone makes a call task")
    func recheckAndCallTasks() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ServiceDesk.make(app)
            app.clock.set(ServiceDesk.at("2026-11-30 02:00"))
            let c1 = try await desk.customer(app, 41)
            let v1 = try await desk.vehicle(app, 41, owner: c1, insurance: "2026-12-20")
            let c2 = try await desk.customer(app, 42)
            let v2 = try await desk.vehicle(app, 42, owner: c2, insurance: "2026-12-20")
            let buyer = try await desk.customer(app, 43)
            let c3 = try await desk.customer(app, 44)
            let v3 = try await desk.vehicle(app, 44, owner: c3, delivered: "2024-06-01")
            app.clock.set(ServiceDesk.at("2025-12-04 10:00"))
            try await desk.visit(app, vehicle: v3, number: "RO-3", opened: ServiceDesk.at("2025-12-04 09:00"), km: 15_000)
            let c4 = try await desk.customer(app, 45, consents: [.phone])
            let v4 = try await desk.vehicle(app, 45, owner: c4, delivered: "2024-06-01")
            try await desk.visit(app, vehicle: v4, number: "RO-4", opened: ServiceDesk.at("2025-12-04 09:30"), km: 18_000)
            app.clock.set(ServiceDesk.at("2026-11-30 02:00"))
            // Both hardly driven since: their maintenance is due by time, on 4 December.
            try await desk.reading(app, vehicle: v3, on: "2026-11-01", km: 20_000)
            try await desk.reading(app, vehicle: v4, on: "2026-11-01", km: 22_000)
            let scanned = try await app.services.reminders.scan(dealerID: desk.tenants.dealerA)
            #expect(scanned.created == 4)
            // Between the scan and the send: a complaint, a sale, a visit.
            app.clock.set(ServiceDesk.at("2026-11-30 08:00"))
            _ = try await app.api(desk.tenants.keyA).createComplaint(
                body: .json(.init(customerId: c1, channel: .wechat, category: .priceBilling, severity: .low, description: "多收费")))
            _ = try await app.api(desk.tenants.keyA).transferOwnership(path: .init(vehicleId: v2), body: .json(.init(customerId: buyer)))
            app.clock.set(ServiceDesk.at("2026-11-30 08:40"))
            try await desk.visit(app, vehicle: v3, number: "RO-3b", opened: ServiceDesk.at("2026-11-30 08:30"), km: 24_000)
            app.clock.set(ServiceDesk.at("2026-11-30 09:00"))
            let sent = try await app.services.reminders.dispatch(dealerID: desk.tenants.dealerA)
            #expect(sent.suppressed == 3 && sent.queued == 1 && sent.callTasks == 1)
            let all = try await desk.reminders(app)
            func first(_ vehicle: String) -> Components.Schemas.Reminder? { all.first { $0.vehicleId == vehicle } }
            #expect(first(v1)?.reason?.code == .openComplaint)
            #expect(first(v2)?.reason?.code == .ownershipEnded)
            #expect(first(v3)?.reason?.code == .visited)
            let phoned = try #require(first(v4))
            #expect(phoned.status == .queued && phoned.channel == .phone)

            // The advisor of the car's last visit gets the call task; other advisors do not see it.
            let advisor = app.api(desk.advisorKey)
            let tasks = try await advisor.listCallTasks(query: .init(due: true)).ok.body.json.data
            let task = try #require(tasks.first)
            #expect(tasks.count == 1 && task.advisorId == desk.advisor && task.reminderId == phoned.id)
            let other = try await app.api(desk.tenants.keyA).createStaff(body: .json(.init(name: "王芳", function: .service))).created.body.json.id
            let otherKey = try await Tenants.key(
                app.services, group: desk.tenants.groupID, dealer: desk.tenants.dealerA, role: .service, staff: UUID(uuidString: other))
            #expect(try await app.api(otherKey).listCallTasks(query: .init(due: true)).ok.body.json.data.isEmpty)
            #expect(status(of: try await app.api(otherKey).getCallTask(path: .init(callTaskId: task.id))) == .notFound)
            // Outcomes: no answer keeps it open; booked needs its date and closes it.
            let path = Operations.RecordCallTaskOutcome.Input.Path(callTaskId: task.id)
            let noAnswer = try await advisor.recordCallTaskOutcome(path: path, body: .json(.init(outcome: .noAnswer)))
            #expect(try noAnswer.ok.body.json.status == .open)
            let missingDate = try await advisor.recordCallTaskOutcome(path: path, body: .json(.init(outcome: .booked)))
            #expect(try missingDate.unprocessableContent.problem.fields == ["booked_date"])
            let booked = try await advisor.recordCallTaskOutcome(path: path, body: .json(.init(outcome: .booked, bookedDate: "2026-12-03")))
            let done = try booked.ok.body.json
            #expect(done.status == .done && done.attempts == 2 && done.bookedDate == "2026-12-03")
            #expect(status(of: try await advisor.recordCallTaskOutcome(path: path, body: .json(.init(outcome: .reached)))) == .conflict)
            // The booked visit comes: the task links it, the reminder is answered.
            app.clock.set(ServiceDesk.at("2026-12-03 09:00"))
            let came = try await desk.visit(app, vehicle: v4, number: "RO-4b", opened: ServiceDesk.at("2026-12-03 08:45"), km: 28_000)
            #expect(try await advisor.getCallTask(path: .init(callTaskId: task.id)).ok.body.json.visitId == came.id)
            #expect(try await app.api(desk.managerKey).getReminder(path: .init(reminderId: phoned.id)).ok.body.json.status == .responded)
        }
    }

    @Test("a service reminder without a visit gets one follow-up touch after the due date, and never a third")
    func followUpTouch() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ServiceDesk.make(app)
            // Two cars whose maintenance is due by time on 4 December (a year after the last one).
            var cars: [String] = []
            for seed in [51, 52] {
                let owner = try await desk.customer(app, seed)
                let car = try await desk.vehicle(app, seed, owner: owner, delivered: "2024-06-01")
                app.clock.set(ServiceDesk.at("2025-12-04 10:00"))
                try await desk.visit(app, vehicle: car, number: "RO-\(seed)", opened: ServiceDesk.at("2025-12-04 09:00"), km: 15_000)
                app.clock.set(ServiceDesk.at("2026-11-30 02:00"))
                try await desk.reading(app, vehicle: car, on: "2026-11-01", km: 20_000)
                cars.append(car)
            }
            let (quiet, visited) = (cars[0], cars[1])
            app.clock.set(ServiceDesk.at("2026-11-30 09:00"))
            #expect(try await app.services.reminders.scan(dealerID: desk.tenants.dealerA).created == 2)
            #expect(try await app.services.reminders.dispatch(dealerID: desk.tenants.dealerA).queued == 2)
            // One of them comes in after the reminder; the other does not.
            app.clock.set(ServiceDesk.at("2026-12-10 10:00"))
            try await desk.visit(app, vehicle: visited, number: "RO-52b", opened: ServiceDesk.at("2026-12-10 09:00"), km: 21_000)

            func maintenance(_ car: String) async throws -> [Components.Schemas.Reminder] {
                try await desk.reminders(app, .init(kind: .maintenance, limit: 200)).filter { $0.vehicleId == car }.sorted { $0.touch < $1.touch }
            }
            // The day before the follow-up date: nothing new.
            app.clock.set(ServiceDesk.at("2026-12-17 09:00"))
            _ = try await app.services.reminders.scan(dealerID: desk.tenants.dealerA)
            #expect(try await maintenance(quiet).count == 1)
            // 14 days after the due date: the follow-up for the car that did not come, none for the other.
            app.clock.set(ServiceDesk.at("2026-12-18 09:00"))
            _ = try await app.services.reminders.scan(dealerID: desk.tenants.dealerA)
            let touches = try await maintenance(quiet)
            #expect(touches.map(\.touch) == [1, 2])
            #expect(touches.last?.dueDate == "2026-12-04" && touches.last?.sendDate == "2026-12-18")
            #expect(try await maintenance(visited).map(\.touch) == [1])
            #expect(try await maintenance(visited).first?.status == .responded)
            _ = try await app.services.reminders.dispatch(dealerID: desk.tenants.dealerA)
            #expect(try await maintenance(quiet).map(\.status) == [.queued, .queued])
            // Later scans add no third touch, whatever the day.
            for day in ["2026-12-19", "2027-01-05", "2027-02-01"] {
                app.clock.set(ServiceDesk.at("\(day) 09:00"))
                _ = try await app.services.reminders.scan(dealerID: desk.tenants.dealerA)
                #expect(try await maintenance(quiet).map(\.touch) == [1, 2], "\(day)")
            }
        }
    }

    @Test("a group's due call tasks follow each dealer's own date, not one zone for all")
    func groupDueCallTasksPerDealerZone() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ServiceDesk.make(app)
            let tenants = desk.tenants
            let moved = try await app.client.call(
                .patch, "/v1/dealers/\(tenants.dealerB.uuidString.lowercased())", key: tenants.keyB,
                json: ["time_zone": "America/Los_Angeles"], headers: ["If-Match": "*"])
            #expect(moved.status == .ok, "\(moved.text)")
            // 1 December 12:00 UTC: 20:00 in Shanghai, 04:00 in Los Angeles, the same date in both.
            app.clock.set(Date(timeIntervalSince1970: 1_796_126_400))
            var tasks: [UUID: String] = [:]
            for (dealer, key, seed) in [(tenants.dealerA, tenants.keyA, 61), (tenants.dealerB, tenants.keyB, 62)] {
                let owner = try await desk.customer(app, seed, consents: [.phone], key: key)
                _ = try await desk.vehicle(app, seed, owner: owner, insurance: "2026-12-31", key: key)
                _ = try await app.services.reminders.scan(dealerID: dealer)
                #expect(try await app.services.reminders.dispatch(dealerID: dealer).callTasks == 1)
                let list = try await app.api(key).listCallTasks(query: .init(due: true)).ok.body.json.data
                #expect(list.map(\.dueDate) == ["2026-12-01"])
                tasks[dealer] = list.first?.id
            }
            let groupKey = try await Tenants.key(app.services, group: tenants.groupID, dealer: nil, role: .manager)
            func due() async throws -> Set<String> {
                Set(try await app.api(groupKey).listCallTasks(query: .init(due: true)).ok.body.json.data.map(\.id))
            }
            #expect(try await due() == Set(tasks.values))
            // 1 December 06:00 UTC: 14:00 on 1 December in Shanghai, 22:00 on 30 November in Los Angeles.
            app.clock.set(Date(timeIntervalSince1970: 1_796_104_800))
            #expect(try await due() == [tasks[tenants.dealerA]!])
        }
    }

    @Test("the return rate against a hand count, with the control group")
    func returnRate() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ServiceDesk.make(app)
            // Half of the due marketing reminders are held back.
            let patched = try await app.client.call(
                .patch, "/v1/dealers/\(desk.tenants.dealerA.uuidString.lowercased())", key: desk.tenants.keyA,
                json: ["settings": ["reminders": ["holdback_percent": 50]]], headers: ["If-Match": "*"])
            #expect(patched.status == .ok, "\(patched.text)")
            app.clock.set(ServiceDesk.at("2026-11-30 10:00"))
            struct Car {
                let customer: String
                let vehicle: String
                let due: String
                let held: Bool
            }
            var cars: [Car] = []
            for n in 0..<12 {
                let due = LocalDate("2026-12-10")!.adding(days: n)
                let customer = try await desk.customer(app, 60 + n, consents: n == 11 ? [.phone] : [.sms])
                let vehicle = try await desk.vehicle(app, 60 + n, owner: customer, insurance: due.description)
                let held = ReminderRules.isHeldBack(
                    ReminderCandidate(
                        customerID: UUID(uuidString: customer)!, vehicleID: UUID(uuidString: vehicle)!, kind: .insuranceRenewal, dueDate: due,
                        touch: 1, facts: MarketingFacts(), advisorID: nil, data: [:]), percent: 50)
                cars.append(Car(customer: customer, vehicle: vehicle, due: due.description, held: held))
            }
            // Two more suppressed: no consent, an open complaint.
            let noConsent = try await desk.customer(app, 80, consents: [])
            _ = try await desk.vehicle(app, 80, owner: noConsent, insurance: "2026-12-15")
            let complaining = try await desk.customer(app, 81)
            _ = try await desk.vehicle(app, 81, owner: complaining, insurance: "2026-12-16")
            _ = try await app.api(desk.tenants.keyA).createComplaint(
                body: .json(.init(customerId: complaining, channel: .app, category: .other, severity: .low, description: "x")))
            let run = try await app.api(desk.managerKey).runReminderScan(body: .json(.init())).ok.body.json
            #expect(run.created == 14)
            // The phone car's call task is booked (if it was reminded).
            if !cars[11].held {
                let task = try #require(try await app.api(desk.managerKey).listCallTasks(query: .init(due: true)).ok.body.json.data.first)
                _ = try await app.api(desk.advisorKey).recordCallTaskOutcome(
                    path: .init(callTaskId: task.id), body: .json(.init(outcome: .booked, bookedDate: "2026-12-20")))
            }
            // Visits: cars 0-5 within the window (mid December), car 6 too late (more than 30 days after its due date).
            for n in 0..<6 {
                app.clock.set(ServiceDesk.at("2026-12-18 10:00"))
                try await desk.visit(app, vehicle: cars[n].vehicle, number: "RO-R\(n)", type: .repair, opened: ServiceDesk.at("2026-12-18 09:00"))
            }
            app.clock.set(ServiceDesk.at("2027-02-20 10:00"))
            try await desk.visit(app, vehicle: cars[6].vehicle, number: "RO-R6", type: .repair, opened: ServiceDesk.at("2027-02-20 09:00"))
            app.clock.set(ServiceDesk.at("2027-03-01 10:00"))

            let reminded = cars.filter { !$0.held }
            let held = cars.filter(\.held)
            let returnedIndexes = Set(0..<6)
            let expectedReturned = cars.indices.filter { !cars[$0].held && returnedIndexes.contains($0) }.count
            let expectedHeldReturned = cars.indices.filter { cars[$0].held && returnedIndexes.contains($0) }.count
            let report = try await app.api(desk.managerKey).getReminderReport(query: .init(from: "2026-12-01", to: "2026-12-31")).ok.body.json
            let t = report.totals
            #expect(t.reminded == reminded.count)
            #expect(t.returned == expectedReturned)
            #expect(t.heldBack == held.count)
            #expect(t.heldBackReturned == expectedHeldReturned)
            #expect(t.booked == (cars[11].held ? 0 : 1))
            #expect(t.suppressed.map(\.reason).sorted { $0.rawValue < $1.rawValue } == [.noConsent, .openComplaint])
            #expect(t.suppressed.allSatisfy { $0.count == 1 })
            let returnRate: Double = Double(expectedReturned) / Double(max(1, reminded.count))
            let controlRate: Double = Double(expectedHeldReturned) / Double(max(1, held.count))
            if reminded.count > 0 {
                let measured: Double = t.returnRate ?? -1
                #expect(abs(measured - returnRate) < 1e-9)
            }
            if held.count > 0, reminded.count > 0 {
                let lift: Double = t.lift ?? -9
                #expect(abs(lift - (returnRate - controlRate)) < 1e-9)
            }
            #expect(report.rows.map(\.key) == ["insurance_renewal"])
            let byMonth = try await app.api(desk.managerKey).getReminderReport(
                query: .init(from: "2026-12-01", to: "2026-12-31", groupBy: .month)).ok.body.json
            #expect(byMonth.rows.map(\.key) == ["2026-12"])
            #expect(try await app.api(desk.tenants.keyB).getReminderReport(query: .init(from: "2026-12-01", to: "2026-12-31")).ok.body.json.totals.reminded == 0)
        }
    }

    @Test("the pending reminders are read from an index of their own, not after every reminder ever sent")
    func pendingListReadsItsIndex() async throws {
        try await withApp(environment: ["DB_POOL_SIZE": "1", "DB_POOL_MIN": "0"]) { (app: TestApp) in
            let desk = try await ServiceDesk.make(app)
            let customer = try #require(UUID(uuidString: try await desk.customer(app, 11)))
            // Fourteen years of a customer's reminders, one a day, sent; the last 20 pending.
            try await app.pool.execute(
                """
                INSERT INTO reminders (dealer_id, id, customer_id, target_id, kind, due_date, send_date, channel, status, created_at,
                                       updated_at)
                SELECT c.dealer_id, gen_random_uuid(), c.id, c.id, 'birthday', current_date - 4980 + n, current_date - 4987 + n, 'sms',
                       CASE WHEN n > 4980 THEN 'pending' ELSE 'sent' END, now(), now()
                FROM customers c, generate_series(1, 5000) AS n WHERE c.id = \(customer)
                """)
            try await app.pool.execute("ANALYZE reminders")
            for _ in 1...10 {
                #expect(try await desk.reminders(app, .init(status: .pending, limit: 5)).count == 5)
            }
            // The list is by due date, earliest first: without the index it walked every reminder
            // ever sent before it reached the pending ones.
            let explained = try await app.keptPlan(
                ofStatementLike: "SELECT %FROM reminders r%r.status =%ORDER BY r.due_date, r.id LIMIT%",
                arguments: ["'\(desk.tenants.dealerA.lowercasedText)'"])
            #expect(explained.contains("\"reminders_status_due\""), "\(explained)")
            #expect(try await desk.reminders(app, .init(status: .pending, limit: 50)).count == 20)
        }
    }

    @Test("tenancy and roles")
    func tenancyAndRoles() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ServiceDesk.make(app)
            app.clock.set(ServiceDesk.at("2026-11-30 10:00"))
            let owner = try await desk.customer(app, 90)
            let car = try await desk.vehicle(app, 90, owner: owner, insurance: "2026-12-20")
            let visit = try await desk.visit(app, vehicle: car, number: "RO-T", opened: ServiceDesk.at("2026-11-30 09:00"))
            _ = try await app.api(desk.managerKey).runReminderScan(body: .json(.init()))
            let reminder = try #require(try await desk.reminders(app).first)
            let b = app.api(desk.tenants.keyB)
            #expect(status(of: try await b.getServiceVisit(path: .init(visitId: visit.id))) == .notFound)
            #expect(status(of: try await b.getReminder(path: .init(reminderId: reminder.id))) == .notFound)
            #expect(status(of: try await b.getServiceForecast(path: .init(vehicleId: car))) == .notFound)
            #expect(try await b.listReminders().ok.body.json.data.isEmpty)
            #expect(try await b.listServiceVisits().ok.body.json.data.isEmpty)
            // Dealer B cannot record a visit of A's vehicle.
            let foreign = try await b.recordServiceVisit(
                body: .json(.init(vehicleId: car, repairOrderNumber: "RO-X", _type: .repair, openedAt: ServiceDesk.at("2026-11-30 09:00"))))
            #expect(try foreign.unprocessableContent.problem.fields.contains("vehicle_id"))
            // Roles: sales reads visits but not reminders; the CRM team may not record visits; only managers run the scan.
            let sales = app.api(desk.salesKey)
            #expect(status(of: try await sales.getServiceVisit(path: .init(visitId: visit.id))) == .ok)
            #expect(status(of: try await sales.listReminders()) == .forbidden)
            let crm = app.api(desk.crmKey)
            #expect(status(of: try await crm.listReminders()) == .ok)
            #expect(
                status(of: try await crm.recordServiceVisit(
                    body: .json(.init(vehicleId: car, repairOrderNumber: "RO-C", _type: .repair, openedAt: ServiceDesk.at("2026-11-30 09:00")))))
                    == .forbidden)
            #expect(status(of: try await app.api(desk.advisorKey).runReminderScan(body: .json(.init()))) == .forbidden)
            #expect(
                status(of: try await app.api(desk.advisorKey).putMaintenanceSchedule(
                    body: .json(.init(firstKm: 5_000, firstMonths: 6, intervalKm: 10_000, intervalMonths: 12)))) == .forbidden)
            let schedule = try await app.api(desk.managerKey).putMaintenanceSchedule(
                body: .json(.init(brand: "BMW", series: "3系", firstKm: 3_000, firstMonths: 3, intervalKm: 8_000, intervalMonths: 6)))
            #expect(try schedule.ok.body.json.firstKm == 3_000)
            let bad = try await app.api(desk.managerKey).putMaintenanceSchedule(
                body: .json(.init(series: "3系", firstKm: 3_000, firstMonths: 3, intervalKm: 8_000, intervalMonths: 6)))
            #expect(try bad.unprocessableContent.problem.fields == ["series"])
        }
    }
}
