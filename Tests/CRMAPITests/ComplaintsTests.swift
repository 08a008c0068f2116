import CRMClient
import CRMDomain
import CRMServices
import CRMStore
import CRMTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresClient
import Testing

@Suite("Complaints: workflow, timeline, SLA escalation, callbacks, survey integrity, KPIs, tenancy")
struct ComplaintsTests {
    static let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    /// An instant in Shanghai: `"2026-11-02 09:00"`.
    static func at(_ text: String) -> Date {
        let parts = text.split(separator: " ")
        let hm = parts[1].split(separator: ":").compactMap { Int($0) }
        return LocalDate(String(parts[0]))!.instant(minutes: hm[0] * 60 + hm[1], in: shanghai)
    }

    @Test("the workflow end to end: 409s name the allowed moves, the reply resumes the clock, closing needs the callback")
    func workflow() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ComplaintDesk.make(app)
            let customer = try await desk.customer(app, 1)
            app.clock.set(Self.at("2026-11-30 17:00"))  // a Monday, one business hour left
            let created = try await desk.complaint(app, customer: customer.id)
            #expect(created.number == "TS-2026-000001")
            #expect(created.status == .new)
            #expect(created.allowedTransitions == [.acknowledged])
            #expect(created.escalationLevel == .owner)
            #expect(created.slaBusinessHours)
            // Normal: acknowledge within 8 business hours, over the dealer's midnight.
            #expect(created.acknowledge.dueAt == Self.at("2026-12-01 15:30"))
            #expect(created.acknowledge.overdue == false)
            #expect(try #require(created.acknowledge.secondsLeft) > 8 * 3600 - 60)
            let advisor = app.api(desk.advisorKey)
            let path = Operations.MoveComplaint.Input.Path(complaintId: created.id)

            // An illegal move is a 409 naming the allowed ones; nothing changes.
            let illegal = try await advisor.moveComplaint(path: path, body: .json(.init(status: .investigating)))
            #expect(try illegal.conflict.problem.allowedTransitions == ["acknowledged"])
            let resolveByMove = try await advisor.moveComplaint(path: path, body: .json(.init(status: .resolved)))
            #expect(status(of: resolveByMove) == .conflict)

            app.clock.advance(by: 3600)
            let acknowledged = try await desk.move(app, created.id, to: .acknowledged)
            #expect(acknowledged.acknowledge.met == true)
            #expect(acknowledged.acknowledgedAt != nil)
            try await desk.move(app, created.id, to: .investigating)
            let waiting = try await desk.move(app, created.id, to: .waitingOnCustomer)
            #expect(waiting.resolve.paused)
            #expect(waiting.resolve.dueAt == nil)
            let left = try #require(waiting.resolve.countedSecondsLeft)

            // Two days later the customer replies: investigating again, with the time it had left.
            app.clock.advance(days: 2)
            let reply = try await advisor.addComplaintNote(
                path: .init(complaintId: created.id), body: .json(.init(kind: .customerReply, note: "客户回电，周六可到店")))
            #expect(status(of: reply) == .created, "\(reply)")
            let replied = try reply.created.body.json
            #expect(replied.complaint.status == .investigating)
            #expect(replied.entry.kind == .customerReply)
            #expect(replied.complaint.resolve.paused == false)
            let due = try #require(replied.complaint.resolve.dueAt)
            let expectedDue = ComplaintRules.DealerTime(calendar: .standard, zone: Self.shanghai)
                .adding(left, to: app.clock.now, businessHours: true)
            #expect(abs(due.timeIntervalSince(expectedDue)) < 5)

            // Resolving is for managers; the advisor is refused.
            let resolution = Components.Schemas.ComplaintResolutionInput(
                rootCause: "更换了张紧器", remedy: .partReplacement, cost: .init(amount: 128_000, currency: "CNY"), customerAccepted: true)
            #expect(
                status(of: try await advisor.resolveComplaint(path: .init(complaintId: created.id), body: .json(resolution))) == .forbidden)
            let resolved = try await app.api(desk.managerKey).resolveComplaint(path: .init(complaintId: created.id), body: .json(resolution))
            let resolvedBody = try resolved.ok.body.json
            #expect(resolvedBody.status == .resolved)
            #expect(resolvedBody.resolve.met == true)
            #expect(resolvedBody.resolution?.cost?.amount == 128_000)
            #expect(resolvedBody.allowedTransitions == [.closed, .investigating])

            // Closing without the satisfaction callback is refused.
            let early = try await app.api(desk.managerKey).moveComplaint(path: path, body: .json(.init(status: .closed)))
            #expect(status(of: early) == .conflict, "\(early)")
            #expect(try early.conflict.problem.detail?.contains("callback") == true)
            let callback = try #require(
                try await app.api(desk.managerKey).listCallbacks(query: .init(complaintId: created.id)).ok.body.json.data.first)
            #expect(callback.purpose == .complaintResolution)
            #expect(callback.servedById == desk.advisor)
            // Resolved on Wednesday 2 December: due the next working day.
            #expect(callback.dueDate == "2026-12-03")
            app.clock.advance(days: 1)
            _ = try await desk.survey(app, callback: callback.id, key: desk.crmKeys[0], number: mobile(1))
            // Closing is a manager's call.
            #expect(status(of: try await advisor.moveComplaint(path: path, body: .json(.init(status: .closed)))) == .forbidden)
            let closed = try await desk.move(app, created.id, to: .closed, key: desk.managerKey)
            #expect(closed.closedAt != nil)
            // Reopen: back to investigating, counted, the clock running.
            let reopened = try await desk.move(app, created.id, to: .investigating, key: desk.managerKey)
            #expect(reopened.reopenCount == 1)
            #expect(reopened.resolution == nil)
            #expect(reopened.resolve.dueAt != nil)

            // The timeline has every action, oldest first, with who did it.
            let timeline = try await advisor.listComplaintTimeline(path: .init(complaintId: created.id)).ok.body.json.data
            #expect(
                timeline.map(\.kind) == [
                    .created, .assigned, .statusChanged, .statusChanged, .statusChanged, .customerReply, .statusChanged, .resolved,
                    .callbackScheduled, .callbackCompleted, .statusChanged, .reopened,
                ])
            #expect(timeline.first?.actorStaffId == desk.advisor)
            #expect(timeline.first(where: { $0.kind == .resolved })?.actorRole == .manager)
            #expect(timeline.first(where: { $0.kind == .callbackCompleted })?.actorStaffId == desk.crm[0])
        }
    }

    @Test("the timeline is append-only: no endpoint edits or deletes an entry, and the database refuses it")
    func appendOnly() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ComplaintDesk.make(app)
            let complaint = try await desk.complaint(app, customer: try await desk.customer(app, 2).id)
            let entry = try #require(
                try await app.api(desk.advisorKey).listComplaintTimeline(path: .init(complaintId: complaint.id)).ok.body.json.data.first)
            for method in [HTTPRequest.Method.put, .patch, .delete] {
                let response = try await app.client.call(method, "/v1/complaints/\(complaint.id)/timeline", key: desk.tenants.keyA, json: [:])
                #expect(response.status == .methodNotAllowed, "\(method) \(response.text)")
                let one = try await app.client.call(
                    method, "/v1/complaints/\(complaint.id)/timeline/\(entry.id)", key: desk.tenants.keyA, json: [:])
                #expect(one.status == .notFound, "\(method) \(one.text)")
            }
            await #expect(throws: PostgresError.self) {
                try await app.pool.execute("UPDATE complaint_events SET note = 'rewritten' WHERE id = \(UUID(uuidString: entry.id)!)")
            }
            await #expect(throws: PostgresError.self) {
                try await app.pool.execute("DELETE FROM complaint_events WHERE id = \(UUID(uuidString: entry.id)!)")
            }
        }
    }

    @Test("escalation: warnings and breaches raised once with two workers and a rerun; the group sees its escalated list")
    func escalationOnce() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ComplaintDesk.make(app)
            let customer = try await desk.customer(app, 3)
            app.clock.set(Self.at("2026-11-30 10:00"))
            var ids: [String] = []
            for _ in 0..<40 { ids.append(try await desk.complaint(app, customer: customer.id, severity: .critical).id) }
            // One is acknowledged in time: its acknowledge clock raises nothing.
            app.clock.advance(by: 600)
            try await desk.move(app, ids[0], to: .acknowledged)

            // Past the acknowledge deadline (2 h), two worker processes scan at once, then again.
            app.clock.set(Self.at("2026-11-30 12:30"))
            let logger = Logger(label: "second worker")
            let configuration = try testConfiguration(databaseURL: app.database.url)
            let secondPool = PostgresPool(configuration: configuration.poolConfiguration(), logger: logger)
            defer { secondPool.shutdownNow() }
            let second = DomainServices(pool: secondPool, logger: logger, clock: app.clock)
            async let one = app.services.complaints.escalate(batch: 7)
            async let two = second.complaints.escalate(batch: 7)
            let raised = try await one + two
            #expect(raised == 39 * 3)
            #expect(try await app.services.complaints.escalate() == 0)
            #expect(try await second.complaints.escalate() == 0)

            func count(_ kind: String) async throws -> Int {
                try await app.pool.queryFirst("SELECT count(*)::int8 FROM complaint_events WHERE kind = \(kind)")?.decode(0, as: Int.self) ?? -1
            }
            #expect(try await count("sla_warning") == 39)
            #expect(try await count("sla_breach") == 39)
            #expect(try await count("escalated") == 39)
            let twice = try await app.pool.queryFirst(
                "SELECT count(*)::int8 FROM (SELECT complaint_id, kind, details FROM complaint_events GROUP BY 1, 2, 3 HAVING count(*) > 1) d")
            #expect(try twice?.decode(0, as: Int.self) == 0)

            // Each further resolve SLA (24 h) passed escalates one more level, up to the OEM group.
            app.clock.set(Self.at("2026-12-02 11:00"))
            async let three = app.services.complaints.escalate(batch: 5)
            async let four = second.complaints.escalate(batch: 5)
            _ = try await three + four
            let manager = app.api(desk.managerKey)
            let escalated = try await manager.getComplaint(path: .init(complaintId: ids[1])).ok.body.json
            #expect(escalated.escalationLevel == .oemGroup)
            let first = try await manager.getComplaint(path: .init(complaintId: ids[0])).ok.body.json
            #expect(first.escalationLevel == .dealerAdmin)
            #expect(first.resolve.overdue)
            let timeline = try await manager.listComplaintTimeline(path: .init(complaintId: ids[1])).ok.body.json.data
            #expect(timeline.filter { $0.kind == .escalated }.compactMap(\.details.level) == ["dealer_manager", "dealer_admin", "oem_group"])
            #expect(timeline.filter { $0.kind == .slaBreach }.allSatisfy { $0.actorKeyId == nil })
            // The time each SLA event fell due is an RFC 3339 timestamp, like every other time.
            let dueTimes = timeline.filter { $0.kind == .slaWarning || $0.kind == .slaBreach }.compactMap(\.details.dueAt)
            #expect(!dueTimes.isEmpty)
            #expect(dueTimes.allSatisfy { (try? Date.ISO8601FormatStyle().parse($0)) != nil }, "\(dueTimes)")
            // Entries stored before (microseconds since 1970) are rewritten by migration 0008, and
            // the timeline is append-only again afterwards.
            try await app.pool.withConnection { connection in
                try await connection.executeScript(
                    """
                    ALTER TABLE complaint_events DISABLE TRIGGER complaint_events_append_only;
                    UPDATE complaint_events SET details = jsonb_set(details, '{due_at}', '"1796021280123456"') WHERE kind = 'sla_breach';
                    ALTER TABLE complaint_events ENABLE TRIGGER complaint_events_append_only;
                    """)
                let migration = try #require(try Migration.bundled().first { $0.version == 8 })
                try await connection.withTransaction { try await $0.connection.executeScript(migration.sql) }
            }
            let rewritten = try await app.pool.query(
                "SELECT DISTINCT details->>'due_at' FROM complaint_events WHERE kind = 'sla_breach'"
            ).map { try $0.decode(0, as: String.self) }
            #expect(rewritten == ["2026-11-30T06:48:00Z"])
            await #expect(throws: PostgresError.self) {
                try await app.pool.execute("UPDATE complaint_events SET details = '{}' WHERE kind = 'sla_breach'")
            }

            // The group key's escalated list: the 39 that reached the OEM group, none of dealer B's.
            let group = app.api(desk.groupKey)
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await group.listComplaints(query: .init(escalated: .oemGroup, limit: 15, cursor: cursor)).ok.body.json
                seen += page.data.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(Set(seen) == Set(ids.dropFirst()))
            #expect(seen.count == 39)
            #expect(try await app.api(desk.tenants.keyB).listComplaints(query: .init(escalated: .owner)).ok.body.json.data.isEmpty)
            let overdue = try await manager.listComplaints(query: .init(overdue: true, limit: 100)).ok.body.json.data
            #expect(overdue.count == 40)
        }
    }

    @Test("the escalated list keeps a plan that reads the escalated complaints' index, whatever level is asked")
    func escalatedListKeepsTheIndex() async throws {
        try await withApp(environment: ["DB_POOL_SIZE": "1", "DB_POOL_MIN": "0"]) { (app: TestApp) in
            // A dealer's worth of complaints, a few escalated as in life (one in 50 to the manager,
            // one in 500 to the OEM group), with statistics.
            let desk = try await ComplaintDesk.withCopiedComplaints(
                app, changing: "'escalation_level', CASE WHEN mod(n, 500) = 0 THEN 3 WHEN mod(n, 50) = 0 THEN 1 ELSE 0 END")
            let manager = app.api(desk.managerKey)
            for _ in 1...10 {
                #expect(try await manager.listComplaints(query: .init(escalated: .oemGroup, limit: 5)).ok.body.json.data.count == 5)
            }
            // What the connection's plan cache now runs for that request. With the level bound,
            // PostgreSQL's generic plan (kept after five executions, costed for a third of the
            // rows) walked the newest-first index and filtered: every complaint read to find the
            // few escalated ones.
            let explained = try await app.keptPlan(
                ofStatementLike: "SELECT %FROM complaints c%escalation_level >=%ORDER BY c.created_at DESC%",
                arguments: ["'\(desk.tenants.dealerA.lowercasedText)'"])
            #expect(explained.contains("\"complaints_escalated\""), "\(explained)")
            // Every level still filters as before: the owner's level is every complaint.
            #expect(try await manager.listComplaints(query: .init(escalated: .owner, limit: 100)).ok.body.json.data.count == 100)
            #expect(try await manager.listComplaints(query: .init(escalated: .dealerManager, limit: 200)).ok.body.json.data.count == 100)
            #expect(try await manager.listComplaints(query: .init(escalated: .oemGroup, limit: 200)).ok.body.json.data.count == 10)
        }
    }

    @Test("the open and overdue lists read the open complaints only, not every complaint the dealer ever had")
    func openListsReadTheOpenIndex() async throws {
        try await withApp(environment: ["DB_POOL_SIZE": "1", "DB_POOL_MIN": "0"]) { (app: TestApp) in
            // Years of complaints, closed but one in 100 still being investigated (none overdue:
            // their deadlines are the original's, still ahead), with statistics.
            let desk = try await ComplaintDesk.withCopiedComplaints(
                app, changing: ComplaintDesk.closing(where: "mod(n, 100) <> 0"))
            let manager = app.api(desk.managerKey)
            for _ in 1...10 {
                #expect(try await manager.listComplaints(query: .init(overdue: true, limit: 5)).ok.body.json.data.isEmpty)
                #expect(try await manager.listComplaints(query: .init(open: true, severity: .critical, limit: 5)).ok.body.json.data.isEmpty)
            }
            // Before, both walked the newest-first index of every complaint and filtered: with
            // nothing overdue (or nothing critical open) they read them all (180 and 189 ms over
            // 300,000, psql, warm; 33 and 23 ms after).
            let dealer = "'\(desk.tenants.dealerA.lowercasedText)'"
            let now = "'\(PostgresTimestamp.format(Date()))'"
            let overdue = try await app.keptPlan(
                ofStatementLike: "SELECT %FROM complaints c%c.acknowledge_due_at <%ORDER BY c.created_at DESC%",
                arguments: [dealer, now, now])
            #expect(overdue.contains("\"complaints_open_created\""), "\(overdue)")
            let critical = try await app.keptPlan(
                ofStatementLike: "SELECT %FROM complaints c%c.severity = 'critical'%ORDER BY c.created_at DESC%", arguments: [dealer])
            #expect(critical.contains("\"complaints_open_created\""), "\(critical)")
            #expect(try await manager.listComplaints(query: .init(open: true, limit: 100)).ok.body.json.data.count == 51)
            #expect(try await manager.listComplaints(query: .init(open: false, limit: 10)).ok.body.json.data.count == 10)
        }
    }

    @Test("a customer's complaints, closed ones included, are read from an index of their own")
    func customerListReadsItsIndex() async throws {
        try await withApp(environment: ["DB_POOL_SIZE": "1", "DB_POOL_MIN": "0"]) { (app: TestApp) in
            // The dealer's other complaints, closed, all of another customer; this customer has two.
            let desk = try await ComplaintDesk.withCopiedComplaints(app, changing: ComplaintDesk.closing(where: "true"))
            let customer = try await desk.customer(app, 4)
            _ = try await desk.complaint(app, customer: customer.id)
            _ = try await desk.complaint(app, customer: customer.id)
            try await app.pool.execute("ANALYZE complaints")
            let manager = app.api(desk.managerKey)
            for _ in 1...10 {
                #expect(try await manager.listComplaints(query: .init(customerId: customer.id, limit: 5)).ok.body.json.data.count == 2)
            }
            let explained = try await app.keptPlan(
                ofStatementLike: "SELECT %FROM complaints c%c.customer_id =%ORDER BY c.created_at DESC%",
                arguments: ["'\(desk.tenants.dealerA.lowercasedText)'", "'\(customer.id)'"])
            #expect(explained.contains("\"complaints_customer\""), "\(explained)")
        }
    }

    @Test("each integrity check flags the survey built for it, and a clean survey is not flagged")
    func integrityFlags() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ComplaintDesk.make(app)
            app.clock.set(Self.at("2026-11-30 09:00"))
            let other = try await desk.customer(app, 100, name: "另一位客户")
            var flagged: [SurveyFlag.Kind?: [Components.Schemas.SurveyFlagKind]] = [:]
            for (index, kind) in ([nil] + SurveyFlag.Kind.allCases.filter { $0 != .staffTopScores }).enumerated() {
                let customer = try await desk.customer(app, 10 + index)
                var number = mobile(10 + index)
                if kind == .phoneChanged {
                    // Staff change the customer's phone shortly before the survey (the audit trail records it).
                    number = mobile(900)
                    let current = try await app.api(desk.tenants.keyA).getCustomer(path: .init(customerId: customer.id))
                    let changed = try await app.api(desk.crmKeys[0]).updateCustomer(
                        path: .init(customerId: customer.id), headers: .init(ifMatch: try current.ok.headers.eTag ?? "*"),
                        body: .json(.init(phone: number)))
                    #expect(status(of: changed) == .ok, "\(changed)")
                }
                if kind == .staffNumber { number = desk.advisorPhone }
                if kind == .sharedNumber { number = mobile(100) }
                let complaint = try await desk.complaint(app, customer: customer.id)
                let callback = try await desk.resolve(app, complaint.id)
                app.clock.advance(days: kind == .outsideWindow ? 4 : 1)
                let detail = try await desk.survey(
                    app, callback: callback.id, key: kind == .callerServedCustomer ? desk.advisorKey : desk.crmKeys[0], number: number,
                    seconds: kind == .shortCall ? 12 : 240)
                flagged[kind] = detail.survey?.flags.map(\.kind) ?? []
                #expect(detail.callback.status == .surveyed)
                #expect(detail.survey?.flags.allSatisfy { !$0.explanation.isEmpty } == true)
            }
            #expect(flagged[nil] == [], "the clean survey")
            #expect(flagged[.phoneChanged] == [.phoneChanged])
            #expect(flagged[.staffNumber] == [.staffNumber])
            #expect(flagged[.sharedNumber] == [.sharedNumber])
            #expect(flagged[.shortCall] == [.shortCall])
            #expect(flagged[.outsideWindow] == [.outsideWindow])
            #expect(flagged[.callerServedCustomer] == [.callerServedCustomer])
            _ = other

            // One CRM member's surveys: 20 within 30 days, all top scores: the 20th is flagged, the 19th not.
            var last: [Components.Schemas.SurveyFlagKind] = []
            for index in 0..<20 {
                let customer = try await desk.customer(app, 200 + index)
                let callback = try await desk.resolve(app, try await desk.complaint(app, customer: customer.id).id)
                app.clock.advance(days: 1)
                let detail = try await desk.survey(app, callback: callback.id, key: desk.crmKeys[1], number: mobile(200 + index), scores: [5, 5, 5], nps: 10)
                let kinds = detail.survey?.flags.map(\.kind) ?? []
                if index == 18 { #expect(kinds == [], "19 surveys") }
                last = kinds
            }
            #expect(last == [.staffTopScores])

            // The audit report: dealer A's flagged surveys with reasons, rates per staff member;
            // the group key sees them, dealer B's key does not; roles without surveysAudit are refused.
            let report = try await app.api(desk.groupKey).getSurveyIntegrityReport(
                query: .init(from: "2026-11-01", to: "2027-01-31", limit: 200)
            ).ok.body.json
            #expect(report.totalFlagged == 7)
            #expect(Set(report.flagged.flatMap { $0.flags.map(\.kind) }) == Set(Components.Schemas.SurveyFlagKind.allCases))
            let dealerRow = try #require(report.rates.first { $0.dealerId == desk.tenants.dealerA.uuidString.lowercased() && $0.callerId == nil })
            #expect(dealerRow.surveys == 27)
            #expect(dealerRow.flagged == 7)
            let topScorer = try #require(report.rates.first { $0.callerId == desk.crm[1] })
            #expect(topScorer.surveys == 20 && topScorer.topScores == 20 && topScorer.flagged == 1)
            let readonly = try await app.api(desk.readonlyKey).getSurveyIntegrityReport(query: .init(from: "2026-11-01", to: "2027-01-31"))
            #expect(try readonly.ok.body.json.totalFlagged == 7)
            #expect(try await app.api(desk.tenants.keyB).getSurveyIntegrityReport(query: .init(from: "2026-11-01", to: "2027-01-31")).ok.body.json.totalFlagged == 0)
            #expect(status(of: try await app.api(desk.advisorKey).getSurveyIntegrityReport(query: .init(from: "2026-11-01", to: "2026-11-30"))) == .forbidden)
        }
    }

    @Test("the complaint report against a hand-counted fixture")
    func report() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ComplaintDesk.make(app)
            let manager = app.api(desk.managerKey)
            let advisor = app.api(desk.advisorKey)
            let customer = try await desk.customer(app, 5)
            func create(_ at: String, _ category: Components.Schemas.ComplaintCategory) async throws -> String {
                app.clock.set(Self.at(at))
                return try await desk.complaint(app, customer: customer.id, category: category).id
            }
            func move(_ id: String, _ status: Components.Schemas.ComplaintStatus, at: String, key: String? = nil) async throws {
                app.clock.set(Self.at(at))
                try await desk.move(app, id, to: status, key: key)
            }
            func resolve(_ id: String, at: String) async throws -> String {
                app.clock.set(Self.at(at))
                let resolved = try await manager.resolveComplaint(
                    path: .init(complaintId: id), body: .json(.init(rootCause: "原因", remedy: .apology, customerAccepted: true)))
                #expect(status(of: resolved) == .ok, "\(resolved)")
                return try #require(try await manager.listCallbacks(query: .init(status: .open, complaintId: id)).ok.body.json.data.first).id
            }
            func survey(_ callback: String, at: String, scores: [Int], nps: Int) async throws {
                app.clock.set(Self.at(at))
                _ = try await desk.survey(app, callback: callback, key: desk.crmKeys[0], number: mobile(5), scores: scores, nps: nps)
            }
            // C1: acknowledged after 30 min, resolved after 4 h, surveyed (CSI 5, NPS 10), closed.
            let c1 = try await create("2026-11-02 09:00", .waitingTime)
            try await move(c1, .acknowledged, at: "2026-11-02 09:30")
            try await move(c1, .investigating, at: "2026-11-02 10:00")
            let b1 = try await resolve(c1, at: "2026-11-02 13:00")
            try await survey(b1, at: "2026-11-03 10:00", scores: [5, 5, 5], nps: 10)
            try await move(c1, .closed, at: "2026-11-03 11:00", key: desk.managerKey)
            // C2: acknowledged a day late, waits on the customer two days, resolved in time; its
            // callback unreachable after three attempts.
            let c2 = try await create("2026-11-02 10:00", .serviceQuality)
            try await move(c2, .acknowledged, at: "2026-11-03 10:00")
            try await move(c2, .investigating, at: "2026-11-03 10:30")
            try await move(c2, .waitingOnCustomer, at: "2026-11-03 11:00")
            app.clock.set(Self.at("2026-11-05 11:00"))
            _ = try await advisor.addComplaintNote(path: .init(complaintId: c2), body: .json(.init(kind: .customerReply, note: "回电")))
            let b2 = try await resolve(c2, at: "2026-11-05 12:00")
            for hour in ["10:00", "14:00", "17:00"] {
                app.clock.set(Self.at("2026-11-06 " + hour))
                let attempt = try await app.api(desk.crmKeys[0]).recordCallbackAttempt(
                    path: .init(callbackId: b2),
                    body: .json(
                        .init(
                            outcome: .noAnswer, numberCalled: mobile(5), startedAt: app.clock.now.addingTimeInterval(-60),
                            endedAt: app.clock.now.addingTimeInterval(-30))))
                #expect(status(of: attempt) == .created)
            }
            // C3: never acknowledged: escalated by the scan.
            let c3 = try await create("2026-11-03 09:00", .priceBilling)
            // C4: acknowledged in 10 min, resolved, surveyed (CSI 4, NPS 6), closed, then reopened.
            let c4 = try await create("2026-11-04 09:00", .staffAttitude)
            try await move(c4, .acknowledged, at: "2026-11-04 09:10")
            try await move(c4, .investigating, at: "2026-11-04 09:20")
            let b4 = try await resolve(c4, at: "2026-11-04 10:00")
            try await survey(b4, at: "2026-11-05 10:00", scores: [3, 4, 5], nps: 6)
            try await move(c4, .closed, at: "2026-11-05 11:00", key: desk.managerKey)
            try await move(c4, .investigating, at: "2026-11-06 09:00", key: desk.managerKey)
            // Outside the period, or another dealer's: not counted.
            _ = try await create("2026-11-09 00:30", .waitingTime)
            _ = try await create("2026-11-01 23:50", .waitingTime)
            app.clock.set(Self.at("2026-11-09 12:00"))
            _ = try await app.services.complaints.escalate()

            let output = try await manager.getComplaintReport(query: .init(from: "2026-11-02", to: "2026-11-08"))
            let report = try output.ok.body.json
            let t = report.totals
            #expect(report.groupBy == .category)
            #expect(t.received == 4)
            #expect(t.open == 2)
            #expect(t.acknowledged == 3 && t.acknowledgedOnTime == 2)
            #expect(abs((t.acknowledgedOnTimeRate ?? 0) - 2.0 / 3) < 1e-9)
            #expect(t.resolved == 2 && t.resolvedOnTime == 2 && t.resolvedOnTimeRate == 1)
            #expect(abs((t.medianSecondsToAcknowledge ?? 0) - 1800) < 5)
            // C1 worked 4 h; C2 25 h then 1 h after the reply (the two days waiting excluded): median 15 h.
            #expect(abs((t.medianSecondsToResolve ?? 0) - 15 * 3600) < 5)
            #expect(t.escalated == 1)
            #expect(t.reopened == 1 && t.reopenedRate == 0.25)
            #expect(t.callbacksDue == 3 && t.callbacksOnTime == 3 && t.callbacksOnTimeRate == 1)
            #expect(t.csiAverage == 4.5)
            #expect(t.npsAnswers == 2 && t.nps == 0)
            #expect(report.rows.map(\.key) == ["price_billing", "service_quality", "staff_attitude", "waiting_time"])
            let billing = try #require(report.rows.first { $0.key == "price_billing" })
            #expect(billing.received == 1 && billing.open == 1 && billing.acknowledged == 0 && billing.escalated == 1)
            #expect(billing.acknowledgedOnTimeRate == nil && billing.csiAverage == nil && billing.nps == nil)
            let waitingTime = try #require(report.rows.first { $0.key == "waiting_time" })
            #expect(waitingTime.csiAverage == 5 && waitingTime.nps == 100)
            let byOwner = try await manager.getComplaintReport(query: .init(from: "2026-11-02", to: "2026-11-08", groupBy: .owner)).ok.body.json
            #expect(byOwner.rows.map(\.key) == [desk.advisor])
            _ = c3
            // Dealer B sees nothing of it; sales may not read complaints.
            #expect(try await app.api(desk.tenants.keyB).getComplaintReport(query: .init(from: "2026-11-02", to: "2026-11-08")).ok.body.json.totals.received == 0)
            #expect(status(of: try await app.api(desk.salesKey).getComplaintReport(query: .init(from: "2026-11-02", to: "2026-11-08"))) == .forbidden)
            let inverted = try await manager.getComplaintReport(query: .init(from: "2026-11-08", to: "2026-11-02"))
            #expect(status(of: inverted) == .unprocessableContent)
        }
    }

    @Test("tenancy and roles: another dealer's complaint is a 404 everywhere; roles hold what the matrix says")
    func tenancyAndRoles() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ComplaintDesk.make(app)
            let customer = try await desk.customer(app, 7)
            let complaint = try await desk.complaint(app, customer: customer.id)
            let callback = try await desk.resolve(app, try await desk.complaint(app, customer: customer.id).id)
            let b = app.api(desk.tenants.keyB)
            let path = Operations.GetComplaint.Input.Path(complaintId: complaint.id)
            func expectNotFound(_ call: String, _ output: some Sendable) {
                #expect(status(of: output) == .notFound, "\(call) gave \(status(of: output)): \(output)")
            }
            expectNotFound("GET", try await b.getComplaint(path: path))
            expectNotFound("PATCH", try await b.updateComplaint(path: .init(complaintId: complaint.id), headers: .init(ifMatch: "*"), body: .json(.init(description: "x"))))
            expectNotFound("status", try await b.moveComplaint(path: .init(complaintId: complaint.id), body: .json(.init(status: .acknowledged))))
            expectNotFound("resolution", try await b.resolveComplaint(path: .init(complaintId: complaint.id), body: .json(.init(rootCause: "x", remedy: .other, customerAccepted: false))))
            expectNotFound("assignment", try await b.assignComplaint(path: .init(complaintId: complaint.id), body: .json(.init(ownerId: nil))))
            expectNotFound("timeline", try await b.listComplaintTimeline(path: .init(complaintId: complaint.id)))
            expectNotFound("note", try await b.addComplaintNote(path: .init(complaintId: complaint.id), body: .json(.init(kind: .comment, note: "x"))))
            expectNotFound("callback", try await b.getCallback(path: .init(callbackId: callback.id)))
            expectNotFound("callback assignment", try await b.assignCallback(path: .init(callbackId: callback.id), body: .json(.init(assigneeId: nil))))
            expectNotFound(
                "attempt",
                try await b.recordCallbackAttempt(
                    path: .init(callbackId: callback.id),
                    body: .json(.init(outcome: .noAnswer, numberCalled: mobile(7), startedAt: app.clock.now.addingTimeInterval(-60), endedAt: app.clock.now))))
            expectNotFound("marketing status", try await b.getCustomerMarketingStatus(path: .init(customerId: customer.id)))
            #expect(try await b.listComplaints().ok.body.json.data.isEmpty)
            #expect(try await b.listCallbacks().ok.body.json.data.isEmpty)
            // Dealer B cannot take a complaint in for A's customer, nor give one to A's staff.
            let bCustomer = try await b.createCustomer(body: .json(.init(kind: .person, name: "B 客户", phone: mobile(8)))).created.body.json
            let foreign = try await b.createComplaint(
                body: .json(.init(customerId: customer.id, channel: .app, category: .other, severity: .low, description: "x")))
            #expect(try foreign.unprocessableContent.problem.fields == ["customer_id"])
            let foreignOwner = try await b.createComplaint(
                body: .json(.init(customerId: bCustomer.id, channel: .app, category: .other, severity: .low, description: "x", ownerId: desk.advisor)))
            #expect(try foreignOwner.unprocessableContent.problem.fields == ["owner_id"])
            // Nor about a service visit that is not B's.
            let foreignVisit = try await b.createComplaint(
                body: .json(.init(customerId: bCustomer.id, serviceVisitId: UUID().uuidString, channel: .app, category: .other, severity: .low, description: "x")))
            #expect(try foreignVisit.unprocessableContent.problem.fields == ["service_visit_id"])

            // Roles: sales neither reads nor writes complaints; readonly reads; the advisor works them.
            let sales = app.api(desk.salesKey)
            #expect(status(of: try await sales.getComplaint(path: path)) == .forbidden)
            #expect(status(of: try await sales.listCallbacks()) == .forbidden)
            let readonly = app.api(desk.readonlyKey)
            #expect(status(of: try await readonly.getComplaint(path: path)) == .ok)
            #expect(status(of: try await readonly.moveComplaint(path: .init(complaintId: complaint.id), body: .json(.init(status: .acknowledged)))) == .forbidden)
            #expect(
                status(of: try await app.api(desk.advisorKey).createSurveyQuestionSet(
                    body: .json(.init(purpose: .complaintResolution, name: "x", questions: [.init(id: "q1", text: "满意吗？")])))) == .forbidden)
            // A group key reads across its dealers and names the dealer to write.
            let group = app.api(desk.groupKey)
            #expect(status(of: try await group.getComplaint(path: path)) == .ok)
            let unnamed = try await group.createComplaint(
                body: .json(.init(customerId: customer.id, channel: .oemForwarded, category: .other, severity: .low, description: "x")))
            #expect(status(of: unnamed) == .unprocessableContent)
            let named = try await group.createComplaint(
                body: .json(
                    .init(
                        customerId: customer.id, channel: .oemForwarded, category: .other, severity: .low, description: "厂家转来",
                        dealerId: desk.tenants.dealerA.uuidString.lowercased())))
            #expect(status(of: named) == .created, "\(named)")
        }
    }

    @Test("an open complaint stops marketing and shows in the 360 view; resolving it lifts the stop")
    func suppressionAnd360() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ComplaintDesk.make(app)
            let customer = try await desk.customer(app, 9)
            let admin = app.api(desk.tenants.keyA)
            // Without a consent on any channel he may not be marketed to; with one he may.
            let unconsented = try await admin.getCustomerMarketingStatus(path: .init(customerId: customer.id)).ok.body.json
            #expect(unconsented.mayMarket == false && unconsented.reasons.map(\.code) == [.noConsent])
            _ = try await admin.changeConsent(path: .init(customerId: customer.id), body: .json(.init(channel: .wechat, status: .granted, source: .wechat)))
            #expect(try await admin.getCustomerMarketingStatus(path: .init(customerId: customer.id)).ok.body.json.mayMarket == true)
            let complaint = try await desk.complaint(app, customer: customer.id)
            let status = try await admin.getCustomerMarketingStatus(path: .init(customerId: customer.id)).ok.body.json
            #expect(status.mayMarket == false)
            #expect(status.reasons.map(\.code) == [.openComplaint])
            #expect(status.reasons.first?.detail == complaint.number)
            let view = try await admin.getCustomer360(path: .init(customerId: customer.id)).ok.body.json
            #expect(view.sections.complaints?.map(\.id) == [complaint.id])
            // Sales has no complaintsRead: the section is left out.
            #expect(try await app.api(desk.salesKey).getCustomer360(path: .init(customerId: customer.id)).ok.body.json.sections.complaints == nil)
            _ = try await desk.resolve(app, complaint.id)
            #expect(try await admin.getCustomerMarketingStatus(path: .init(customerId: customer.id)).ok.body.json.mayMarket == true)
        }
    }

    @Test("erasing a customer blanks his complaints' words; the facts and the timeline's shape stay")
    func erasure() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await ComplaintDesk.make(app)
            let customer = try await desk.customer(app, 11)
            let complaint = try await desk.complaint(app, customer: customer.id)
            _ = try await app.api(desk.advisorKey).addComplaintNote(
                path: .init(complaintId: complaint.id), body: .json(.init(kind: .comment, note: "客户住在碧云路 88 号")))
            let callback = try await desk.resolve(app, complaint.id)
            app.clock.advance(days: 1)
            _ = try await desk.survey(app, callback: callback.id, key: desk.crmKeys[0], number: mobile(11))
            let erased = try await app.api(desk.tenants.keyA).eraseCustomer(path: .init(customerId: customer.id))
            #expect(status(of: erased) == .ok, "\(erased)")
            let after = try await app.api(desk.managerKey).getComplaint(path: .init(complaintId: complaint.id)).ok.body.json
            #expect(after.description == "(erased)")
            #expect(after.status == .resolved)
            let timeline = try await app.api(desk.managerKey).listComplaintTimeline(path: .init(complaintId: complaint.id)).ok.body.json.data
            #expect(timeline.compactMap(\.note).allSatisfy { $0 == "(erased)" })
            #expect(timeline.count >= 6)
            let detail = try await app.api(desk.managerKey).getCallback(path: .init(callbackId: callback.id)).ok.body.json
            #expect(detail.survey?.comments == nil || detail.survey?.comments == "(erased)")
            #expect(detail.survey?.scores.count == 3)
        }
    }

    @Test("a sale schedules the D+1 and D+3 callbacks; due and overdue lists follow the dealer's dates")
    func deliveryCallbacks() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            app.clock.set(Self.at("2026-11-30 15:00"))
            let consultant = app.api(desk.consultantKeys[0])
            let lead = try await consultant.createLead(body: .json(leadBody(phone: mobile(40)))).created.body.json
            let sale = try await consultant.convertLead(
                path: .init(leadId: lead.id),
                body: .json(
                    .init(
                        vehicle: .init(vin: vin(40), brand: "BMW", series: "3系", model: "325Li"), price: .init(amount: 30_000_000, currency: "CNY"),
                        deliveryDate: "2026-11-30")))
            let conversion = try sale.ok.body.json
            #expect(conversion.callbacks.map(\.purpose) == [.deliveryDay1, .deliveryDay3])
            #expect(conversion.callbacks.map(\.dueDate) == ["2026-12-01", "2026-12-03"])
            #expect(conversion.callbacks.allSatisfy { $0.servedById == desk.consultants[0] })
            let admin = app.api(desk.tenants.keyA)
            #expect(try await admin.listCallbacks(query: .init(due: true)).ok.body.json.data.isEmpty)
            app.clock.set(Self.at("2026-12-01 08:00"))
            #expect(try await admin.listCallbacks(query: .init(due: true)).ok.body.json.data.map(\.purpose) == [.deliveryDay1])
            // The D+1 window is two days: on 3 December it is overdue, and the D+3 one is due.
            app.clock.set(Self.at("2026-12-03 09:00"))
            #expect(try await admin.listCallbacks(query: .init(overdue: true)).ok.body.json.data.map(\.purpose) == [.deliveryDay1])
            #expect(try await admin.listCallbacks(query: .init(due: true)).ok.body.json.data.map(\.purpose) == [.deliveryDay1, .deliveryDay3])
            // A retried conversion does not schedule them twice.
            #expect(try await app.pool.queryFirst("SELECT count(*)::int8 FROM callbacks")?.decode(0, as: Int.self) == 2)
        }
    }

    @Test("the dealer's complaint policy is a setting: defaults shown, a partial patch keeps the rest, bad values are 422")
    func policySettings() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let admin = app.api(tenants.keyA)
            let dealer = try await admin.getDealer(path: .init(dealerId: tenants.dealerA.uuidString.lowercased())).ok.body.json
            #expect(dealer.settings.complaints.critical?.acknowledgeMinutes == 120)
            #expect(dealer.settings.complaints.calendar?.weekly?.mon == "08:30-18:00")
            let patched = try await app.client.call(
                .patch, "/v1/dealers/\(tenants.dealerA.uuidString.lowercased())", key: tenants.keyA,
                json: ["settings": ["complaints": ["normal": ["acknowledge_minutes": 60], "calendar": ["weekly": ["mon": "09:00-17:00"], "closed_days": ["2027-01-01"]]]]],
                headers: ["If-Match": "*"])
            #expect(patched.status == .ok, "\(patched.text)")
            let after = try await admin.getDealer(path: .init(dealerId: tenants.dealerA.uuidString.lowercased())).ok.body.json.settings.complaints
            #expect(after.normal?.acknowledgeMinutes == 60)
            #expect(after.normal?.resolveMinutes == 2880)
            #expect(after.critical?.acknowledgeMinutes == 120)
            #expect(after.calendar?.weekly?.mon == "09:00-17:00")
            #expect(after.calendar?.closedDays == ["2027-01-01"])
            let bad = try await app.client.call(
                .patch, "/v1/dealers/\(tenants.dealerA.uuidString.lowercased())", key: tenants.keyA,
                json: ["settings": ["complaints": ["normal": ["acknowledge_minutes": 5000, "resolve_minutes": 60]]]], headers: ["If-Match": "*"])
            #expect(bad.status == .unprocessableContent, "\(bad.text)")
            #expect(bad.fieldErrors.contains("settings.complaints.normal.resolve_minutes"))
        }
    }
}
