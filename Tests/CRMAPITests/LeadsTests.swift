import CRMDomain
import CRMServices
import CRMTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import JobQueue
import PostgresClient
import Testing

@Suite("Leads: capture, duplicates, assignment and the pool, follow-ups, loss approval, conversion")
struct LeadsTests {
    @Test("capture: temperature, qualification and its missing fields, repeat buyers linked; the stored flag agrees with the rules")
    func capture() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            let client = app.client
            // A consultant captures a lead: it is his.
            let lead = try await client.call(.post, "/v1/leads", key: desk.consultantKeys[0], json: leadBody(phone: mobile(1), intended: shanghaiDate(days: 30)))
            #expect(lead.status == .created, "\(lead.text)")
            #expect(lead["consultant_id"] as? String == desk.consultants[0])
            #expect(lead["status"] as? String == "new")
            #expect(lead["temperature"] as? String == "hot")
            #expect(lead["qualified"] as? Bool == false)
            #expect(lead["missing_fields"] as? [String] == ["contact_plan"])
            #expect(lead["in_pool"] as? Bool == false)
            #expect(lead.etag == "\"1\"")

            // A contact with a plan completes the 11 fields.
            let followUp = try await client.call(
                .post, "/v1/leads/\(lead.id)/follow-ups", key: desk.consultantKeys[0],
                json: ["channel": "phone", "result": "约了周六试驾", "next_contact_date": shanghaiDate(days: 2), "next_contact_action": "试驾"])
            #expect(followUp.status == .created, "\(followUp.text)")
            let after = followUp["lead"] as? [String: Any] ?? [:]
            #expect(after["qualified"] as? Bool == true)
            #expect(after["missing_fields"] as? [String] == [])
            #expect(after["status"] as? String == "contacted")
            #expect(after["last_contact_result"] as? String == "约了周六试驾")

            // A manager captures without a consultant at a dealer that assigns by hand: the pool.
            let pooled = try await client.call(.post, "/v1/leads", key: desk.manager, json: leadBody(phone: mobile(2), intended: shanghaiDate(days: 200)))
            #expect(pooled.status == .created)
            #expect(pooled["in_pool"] as? Bool == true)
            #expect(pooled["consultant_id"] == nil)
            #expect(pooled["temperature"] as? String == "warm")
            #expect((pooled["missing_fields"] as? [String])?.contains("consultant") == true)
            let cold = try await client.call(.post, "/v1/leads", key: desk.manager, json: ["surname": "刘", "channel": "online", "intended_purchase_date": shanghaiDate(days: 400)])
            #expect(cold["temperature"] as? String == "cold")
            #expect(cold["missing_fields"] as? [String] == ["consultant", "customer_type", "party", "gender", "phone", "current_vehicle", "interest_model", "contact_plan"])

            // A phone that is already a customer's links the lead to him (a repeat buyer).
            let customer = try await client.call(.post, "/v1/customers", key: desk.manager, json: ["kind": "person", "name": "老客户", "phone": mobile(3)])
            let repeatLead = try await client.call(.post, "/v1/leads", key: desk.consultantKeys[1], json: leadBody(phone: mobile(3), extra: ["customer_type": "additional"]))
            #expect(repeatLead["customer_id"] as? String == customer.id)
            // ...and the customer's 360 view lists it, to those who may read it.
            func section(_ key: String) async throws -> [String]? {
                let view = try await client.call(.get, "/v1/customers/\(customer.id)/360", key: key)
                #expect(view.status == .ok)
                return ((view["sections"] as? [String: Any])?["leads"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            }
            #expect(try await section(desk.manager) == [repeatLead.id])
            #expect(try await section(desk.consultantKeys[1]) == [repeatLead.id])
            // Another consultant does not see it there either; a service advisor has no lead section.
            #expect(try await section(desk.consultantKeys[0]) == [])
            let advisor = try await Tenants.key(app.services, group: desk.tenants.groupID, dealer: desk.tenants.dealerA, role: .service)
            #expect(try await section(advisor) == nil)

            // A lead with everything but the gender is not qualified, and is listed as such.
            var genderless = leadBody(phone: mobile(4))
            genderless.removeValue(forKey: "gender")
            let noGender = try await client.call(.post, "/v1/leads", key: desk.consultantKeys[2], json: genderless)
            #expect(noGender.status == .created, "\(noGender.text)")
            _ = try await client.call(
                .post, "/v1/leads/\(noGender.id)/follow-ups", key: desk.consultantKeys[2],
                json: ["channel": "phone", "result": "ok", "next_contact_date": shanghaiDate(days: 3)])
            #expect(try await client.call(.get, "/v1/leads/\(noGender.id)", key: desk.manager)["missing_fields"] as? [String] == ["gender"])
            #expect(try await client.call(.get, "/v1/leads?qualified=false", key: desk.consultantKeys[2]).ids.contains(noGender.id))

            // The qualified flag the KPIs count (a generated column) agrees with the rules.
            for id in [lead.id, pooled.id, cold.id, repeatLead.id, noGender.id] {
                let api = try await client.call(.get, "/v1/leads/\(id)", key: desk.manager)
                let stored = try await app.pool.queryFirst("SELECT qualified FROM leads WHERE id = \(UUID(uuidString: id)!)")?.decode(0, as: Bool.self)
                #expect(stored == api["qualified"] as? Bool, "\(id)")
            }

            // Bad input is a 422 naming the field, and nothing is stored.
            let before = try await app.pool.queryFirst("SELECT count(*)::int8 FROM leads")?.decode(0, as: Int64.self)
            let noChannel = try await client.call(.post, "/v1/leads", key: desk.manager, json: ["surname": "赵"])
            #expect(noChannel.status == .unprocessableContent)
            let badPhone = try await client.call(.post, "/v1/leads", key: desk.manager, json: ["surname": "赵", "channel": "online", "phone": "12"])
            #expect(badPhone.status == .unprocessableContent)
            #expect(badPhone.fieldErrors == ["phone"])
            let nobody = try await client.call(.post, "/v1/leads", key: desk.manager, json: ["channel": "online", "notes": "?"])
            #expect(nobody.status == .unprocessableContent)
            let notAConsultant = try await client.call(.post, "/v1/leads", key: desk.manager, json: ["surname": "赵", "channel": "online", "consultant_id": UUID().uuidString])
            #expect(notAConsultant.fieldErrors == ["consultant_id"])
            #expect(try await app.pool.queryFirst("SELECT count(*)::int8 FROM leads")?.decode(0, as: Int64.self) == before)

            // Edits: a merge patch with If-Match; a stale one is a 412 and changes nothing.
            let patched = try await client.call(
                .patch, "/v1/leads/\(cold.id)", key: desk.manager, json: ["gender": "female", "intended_purchase_date": NSNull()],
                headers: ["If-Match": "\"1\""])
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(patched["gender"] as? String == "female")
            #expect(patched["temperature"] == nil)
            let badReferrer = try await client.call(
                .patch, "/v1/leads/\(cold.id)", key: desk.manager, json: ["referrer_customer_id": UUID().uuidString],
                headers: ["If-Match": "\"2\""])
            #expect(badReferrer.status == .unprocessableContent)
            #expect(badReferrer.fieldErrors == ["referrer_customer_id"])
            let stale = try await client.call(.patch, "/v1/leads/\(cold.id)", key: desk.manager, json: ["surname": "x"], headers: ["If-Match": "\"1\""])
            #expect(stale.status == .preconditionFailed)
            #expect(try await client.call(.get, "/v1/leads/\(cold.id)", key: desk.manager)["surname"] as? String == "刘")
        }
    }

    @Test("one open lead per phone: the 409 names the lead and its consultant; a lost lead frees the number")
    func duplicatePhone() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            let first = try await app.client.call(.post, "/v1/leads", key: desk.consultantKeys[0], json: leadBody(phone: "139-0000-1111"))
            let second = try await app.client.call(.post, "/v1/leads", key: desk.consultantKeys[1], json: leadBody(phone: "+86 13900001111"))
            #expect(second.status == .conflict)
            #expect(second["existing_id"] as? String == first.id)
            #expect(second["existing_consultant_id"] as? String == desk.consultants[0])
            // Changing another lead's phone onto it is refused the same way.
            let other = try await app.client.call(.post, "/v1/leads", key: desk.consultantKeys[1], json: leadBody(phone: mobile(9)))
            let clash = try await app.client.call(
                .patch, "/v1/leads/\(other.id)", key: desk.consultantKeys[1], json: ["phone": "13900001111"], headers: ["If-Match": "\"1\""])
            #expect(clash.status == .conflict)
            #expect(clash["existing_id"] as? String == first.id)
            // Another dealer has its own prospects.
            #expect(try await app.client.call(.post, "/v1/leads", key: desk.tenants.keyB, json: leadBody(phone: "13900001111")).status == .created)
            // Once the first is lost, the number can be captured again.
            _ = try await app.client.call(.post, "/v1/leads/\(first.id)/loss", key: desk.consultantKeys[0], json: ["reason": "postponed"])
            let approved = try await app.client.call(.post, "/v1/leads/\(first.id)/loss-decision", key: desk.manager, json: ["decision": "approve"])
            #expect(approved["status"] as? String == "lost")
            #expect(try await app.client.call(.post, "/v1/leads", key: desk.consultantKeys[1], json: leadBody(phone: "13900001111")).status == .created)
        }
    }

    @Test("round robin over the active consultants, recorded in the assignment history")
    func roundRobin() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app, names: ["A 顾问", "B 顾问", "C 顾问", "D 顾问"])
            let client = app.client
            let dealer = try await client.call(.get, "/v1/dealers/\(desk.tenants.dealerA)", key: desk.tenants.keyA)
            let switched = try await client.call(
                .patch, "/v1/dealers/\(desk.tenants.dealerA)", key: desk.tenants.keyA,
                json: ["settings": ["lead_assignment": "round_robin"]], headers: ["If-Match": dealer.etag ?? ""])
            #expect(switched.status == .ok, "\(switched.text)")
            // C leaves: no more leads for him.
            let c = try await client.call(.patch, "/v1/staff/\(desk.consultants[2])", key: desk.tenants.keyA, json: ["active": false], headers: ["If-Match": "\"1\""])
            #expect(c.status == .ok)
            var owners: [String] = []
            for seed in 0..<6 {
                let lead = try await client.call(.post, "/v1/leads", key: desk.manager, json: leadBody(phone: mobile(100 + seed)))
                owners.append(lead["consultant_id"] as? String ?? "-")
            }
            let (a, b, d) = (desk.consultants[0], desk.consultants[1], desk.consultants[3])
            #expect(owners == [a, b, d, a, b, d])
            // A consultant's own capture stays his; the turn does not move.
            let own = try await client.call(.post, "/v1/leads", key: desk.consultantKeys[3], json: leadBody(phone: mobile(200)))
            #expect(own["consultant_id"] as? String == d)
            let next = try await client.call(.post, "/v1/leads", key: desk.manager, json: leadBody(phone: mobile(201)))
            #expect(next["consultant_id"] as? String == a)
            let history = try await client.call(.get, "/v1/leads/\(next.id)/assignments", key: desk.manager)
            #expect(history.items.map { $0["reason"] as? String } == ["round_robin"])
            #expect(history.items.first?["to_consultant_id"] as? String == a)
            // A manager reassigns explicitly, or to the next in turn.
            let manual = try await client.call(.post, "/v1/leads/\(next.id)/assignments", key: desk.manager, json: ["target": "consultant", "consultant_id": d])
            #expect(manual["consultant_id"] as? String == d)
            let turn = try await client.call(.post, "/v1/leads/\(next.id)/assignments", key: desk.manager, json: ["target": "round_robin"])
            #expect(turn["consultant_id"] as? String == b)
            let reasons = try await client.call(.get, "/v1/leads/\(next.id)/assignments", key: desk.manager).items.map { $0["reason"] as? String }
            #expect(reasons == ["round_robin", "manual", "round_robin"])
            // B, who got the last lead in turn, leaves: the turn goes on after him (D), not back to A.
            let leaving = try await client.call(.patch, "/v1/staff/\(b)", key: desk.tenants.keyA, json: ["active": false], headers: ["If-Match": "\"1\""])
            #expect(leaving.status == .ok)
            let afterLeaving = try await client.call(.post, "/v1/leads", key: desk.manager, json: leadBody(phone: mobile(301)))
            #expect(afterLeaving["consultant_id"] as? String == d)

            // Consultants may not assign; an inactive consultant cannot receive. (B's key stopped
            // working when he was deactivated: the active D tries instead.)
            #expect(try await client.call(.post, "/v1/leads/\(next.id)/assignments", key: desk.consultantKeys[3], json: ["target": "pool"]).status == .forbidden)
            #expect(try await client.call(.post, "/v1/leads/\(next.id)/assignments", key: desk.consultantKeys[1], json: ["target": "pool"]).status == .unauthorized)
            let toInactive = try await client.call(.post, "/v1/leads/\(next.id)/assignments", key: desk.manager, json: ["target": "consultant", "consultant_id": desk.consultants[2]])
            #expect(toInactive.fieldErrors == ["consultant_id"])
        }
    }

    @Test("the periodic job returns leads nobody followed up to the pool; a consultant claims one")
    func poolRecycling() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            let client = app.client
            let key = desk.consultantKeys[0]
            // Four days ago for the first three and the rejected one; two days for the next (the
            // dealer allows three): the clock business time comes from is set back, not the rows.
            let now = app.clock.now
            app.clock.set(now.addingTimeInterval(-4 * 86_400))
            let stale = try await client.call(.post, "/v1/leads", key: key, json: leadBody(phone: mobile(1)))
            let planned = try await client.call(.post, "/v1/leads", key: key, json: leadBody(phone: mobile(2)))
            _ = try await client.call(
                .post, "/v1/leads/\(planned.id)/follow-ups", key: key,
                json: ["channel": "phone", "result": "下周再联系", "next_contact_date": shanghaiDate(days: 5, from: app.clock.now)])
            let pendingLoss = try await client.call(.post, "/v1/leads", key: key, json: leadBody(phone: mobile(3)))
            _ = try await client.call(.post, "/v1/leads/\(pendingLoss.id)/loss", key: key, json: ["reason": "price"])
            // A loss declared long ago and rejected today: the consultant gets his days again.
            let rejected = try await client.call(.post, "/v1/leads", key: key, json: leadBody(phone: mobile(5)))
            _ = try await client.call(.post, "/v1/leads/\(rejected.id)/loss", key: key, json: ["reason": "price"])
            app.clock.set(now.addingTimeInterval(-2 * 86_400))
            let recent = try await client.call(.post, "/v1/leads", key: key, json: leadBody(phone: mobile(4)))
            app.clock.set(now)
            _ = try await client.call(.post, "/v1/leads/\(rejected.id)/loss-decision", key: desk.manager, json: ["decision": "reject"])

            // The service's own schedule enqueues the job for each dealer (on its next hour), and a
            // worker with the service's job kinds runs it.
            let work = BackgroundWork(
                services: app.services, pool: app.pool, retention: .init(completed: .seconds(86_400), discarded: .seconds(86_400)))
            let scheduler = PeriodicScheduler(queue: app.services.queue, pool: app.pool, jobs: work.schedules, logger: TestDatabase.logger)
            try await scheduler.tick(now: Date())
            try await scheduler.tick(now: Date().addingTimeInterval(3_700))
            let recycleJobs = try await app.pool.queryFirst("SELECT count(*)::int8 FROM jobs WHERE kind = 'leads.recycle_pool'")?.decode(0, as: Int64.self)
            #expect(recycleJobs == 2)  // one per dealer
            try await runJobs(app, work: work, until: "SELECT count(*) = 0 FROM jobs WHERE kind = 'leads.recycle_pool' AND state <> 'completed'")

            let afterStale = try await client.call(.get, "/v1/leads/\(stale.id)", key: desk.manager)
            #expect(afterStale["in_pool"] as? Bool == true)
            #expect(afterStale["consultant_id"] == nil)
            for lead in [planned, pendingLoss, recent, rejected] {
                #expect(try await client.call(.get, "/v1/leads/\(lead.id)", key: desk.manager)["consultant_id"] as? String == desk.consultants[0])
            }
            let history = try await client.call(.get, "/v1/leads/\(stale.id)/assignments", key: desk.manager).items
            #expect(history.first?["reason"] as? String == "recycled")
            #expect(history.first?["from_consultant_id"] as? String == desk.consultants[0])
            // The pool, as a consultant sees it.
            let pool = try await client.call(.get, "/v1/leads?pool=true", key: desk.consultantKeys[1])
            #expect(pool.ids == [stale.id])

            // Another consultant claims it; claiming what is not in the pool is a 409.
            let claimed = try await client.call(.post, "/v1/leads/\(stale.id)/claim", key: desk.consultantKeys[1])
            #expect(claimed.status == .ok, "\(claimed.text)")
            #expect(claimed["consultant_id"] as? String == desk.consultants[1])
            #expect(try await client.call(.post, "/v1/leads/\(stale.id)/claim", key: desk.consultantKeys[2]).status == .notFound)
            #expect(try await client.call(.post, "/v1/leads/\(stale.id)/claim", key: desk.consultantKeys[1]).status == .conflict)
            let unbound = try await Tenants.key(app.services, group: desk.tenants.groupID, dealer: desk.tenants.dealerA, role: .sales)
            #expect(try await client.call(.post, "/v1/leads/\(recent.id)/claim", key: unbound).status == .forbidden)
            let reasons = try await client.call(.get, "/v1/leads/\(stale.id)/assignments", key: desk.manager).items.map { $0["reason"] as? String }
            #expect(reasons == ["claimed", "recycled", "created"])
        }
    }

    @Test("follow-ups are listed newest first; overdue lists for a consultant and a manager")
    func followUpsAndOverdue() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            let client = app.client
            let mine = try await client.call(.post, "/v1/leads", key: desk.consultantKeys[0], json: leadBody(phone: mobile(1)))
            let theirs = try await client.call(.post, "/v1/leads", key: desk.consultantKeys[1], json: leadBody(phone: mobile(2)))
            let fine = try await client.call(.post, "/v1/leads", key: desk.consultantKeys[0], json: leadBody(phone: mobile(3)))
            let earlier = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-7200))
            let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3600))
            let visit = try await client.call(
                .post, "/v1/leads/\(mine.id)/follow-ups", key: desk.consultantKeys[0],
                json: ["channel": "visit", "result": "到店看车", "contacted_at": later, "next_contact_date": shanghaiDate(days: 1)])
            #expect((visit["lead"] as? [String: Any])?["status"] as? String == "visited")
            // A call logged afterwards but made earlier does not replace the latest contact.
            let call = try await client.call(
                .post, "/v1/leads/\(mine.id)/follow-ups", key: desk.consultantKeys[0],
                json: ["channel": "phone", "result": "首次电话", "contact_at": earlier])
            #expect(call.status == .unprocessableContent)  // unknown member
            let realCall = try await client.call(
                .post, "/v1/leads/\(mine.id)/follow-ups", key: desk.consultantKeys[0],
                json: ["channel": "phone", "result": "首次电话", "contacted_at": earlier])
            let lead = realCall["lead"] as? [String: Any] ?? [:]
            #expect(lead["last_contact_result"] as? String == "到店看车")
            #expect(lead["status"] as? String == "visited")
            let listed = try await client.call(.get, "/v1/leads/\(mine.id)/follow-ups", key: desk.consultantKeys[0])
            #expect(listed.items.map { $0["result"] as? String } == ["到店看车", "首次电话"])
            // A plan in the past is refused; so is another consultant's lead.
            let past = try await client.call(
                .post, "/v1/leads/\(mine.id)/follow-ups", key: desk.consultantKeys[0],
                json: ["channel": "phone", "result": "x", "next_contact_date": shanghaiDate(days: -1)])
            #expect(past.fieldErrors == ["next_contact_date"])
            // A plan more than a year ahead would keep the lead out of the pool for good.
            let farAway = try await client.call(
                .post, "/v1/leads/\(mine.id)/follow-ups", key: desk.consultantKeys[0],
                json: ["channel": "phone", "result": "x", "next_contact_date": shanghaiDate(days: 400)])
            #expect(farAway.fieldErrors == ["next_contact_date"])
            #expect(try await client.call(.post, "/v1/leads/\(theirs.id)/follow-ups", key: desk.consultantKeys[0], json: ["channel": "phone", "result": "x"]).status == .notFound)

            // Planned contacts: in 1, 3 and 4 days; then the clock moves 4 days on, so they passed
            // 3 days ago, yesterday, and today for the third.
            for (lead, owner, days) in [(theirs, desk.consultantKeys[1], 1), (mine, desk.consultantKeys[0], 3), (fine, desk.consultantKeys[0], 4)] {
                let planned = try await client.call(
                    .post, "/v1/leads/\(lead.id)/follow-ups", key: owner,
                    json: ["channel": "phone", "result": "再联系", "next_contact_date": shanghaiDate(days: days, from: app.clock.now)])
                #expect(planned.status == .created, "\(planned.text)")
            }
            // An overdue lead in the pool is the manager's concern, not in a consultant's list.
            let pooled = try await client.call(.post, "/v1/leads", key: desk.manager, json: leadBody(phone: mobile(4)))
            _ = try await client.call(
                .post, "/v1/leads/\(pooled.id)/follow-ups", key: desk.manager,
                json: ["channel": "phone", "result": "未接通", "next_contact_date": shanghaiDate(days: 2, from: app.clock.now)])
            app.clock.advance(days: 4)
            #expect(try await client.call(.get, "/v1/leads?overdue=true", key: desk.consultantKeys[0]).ids == [mine.id])
            #expect(try await client.call(.get, "/v1/leads?overdue=true", key: desk.manager).ids == [theirs.id, pooled.id, mine.id])
            // A contact without a plan clears it: the pool lead is no longer overdue.
            _ = try await client.call(.post, "/v1/leads/\(pooled.id)/follow-ups", key: desk.manager, json: ["channel": "phone", "result": "已联系"])
            #expect(try await client.call(.get, "/v1/leads?overdue=true", key: desk.manager).ids == [theirs.id, mine.id])
            #expect(try await client.call(.get, "/v1/leads?overdue=true&consultant_id=\(desk.consultants[1])", key: desk.manager).ids == [theirs.id])
            #expect(try await client.call(.get, "/v1/leads/\(mine.id)", key: desk.manager)["overdue"] as? Bool == true)
            #expect(try await client.call(.get, "/v1/leads/\(fine.id)", key: desk.manager)["overdue"] as? Bool == false)
            // Paging through the overdue list.
            let page = try await client.call(.get, "/v1/leads?overdue=true&limit=1", key: desk.manager)
            let cursor = try #require(page["next_cursor"] as? String)
            #expect(try await client.call(.get, "/v1/leads?overdue=true&limit=1&cursor=\(q(cursor))", key: desk.manager).ids == [mine.id])
        }
    }

    @Test("status moves forward only (409 naming the allowed ones); a loss needs a reason and a manager's approval")
    func statusAndLoss() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            let client = app.client
            let key = desk.consultantKeys[0]
            let lead = try await client.call(.post, "/v1/leads", key: key, json: leadBody(phone: mobile(1)))
            let path = "/v1/leads/\(lead.id)"
            #expect(try await client.call(.post, "\(path)/status", key: key, json: ["status": "visited"])["status"] as? String == "visited")
            let back = try await client.call(.post, "\(path)/status", key: key, json: ["status": "contacted"])
            #expect(back.status == .conflict)
            #expect((back["allowed_transitions"] as? [String])?.starts(with: ["test_drive", "negotiating", "won"]) == true)
            #expect(try await client.call(.post, "\(path)/status", key: key, json: ["status": "won"]).status == .conflict)
            // A stale If-Match on a state change is a 412.
            #expect(try await client.call(.post, "\(path)/status", key: key, json: ["status": "negotiating"], headers: ["If-Match": "\"1\""]).status == .preconditionFailed)

            let noCompetitor = try await client.call(.post, "\(path)/loss", key: key, json: ["reason": "bought_competitor"])
            #expect(noCompetitor.fieldErrors == ["competitor"])
            let declared = try await client.call(.post, "\(path)/loss", key: key, json: ["reason": "price", "note": "预算不够"])
            #expect(declared["status"] as? String == "loss_pending")
            // The consultant cannot approve his own loss.
            #expect(try await client.call(.post, "\(path)/loss-decision", key: key, json: ["decision": "approve"]).status == .forbidden)
            let rejected = try await client.call(.post, "\(path)/loss-decision", key: desk.manager, json: ["decision": "reject", "note": "再跟进一次"])
            #expect(rejected["status"] as? String == "visited")
            #expect((rejected["loss"] as? [String: Any])?["decision"] as? String == "reject")
            #expect(try await client.call(.post, "\(path)/loss-decision", key: desk.manager, json: ["decision": "approve"]).status == .conflict)

            _ = try await client.call(.post, "\(path)/loss", key: key, json: ["reason": "bought_competitor", "competitor": "Mercedes C260L"])
            let lost = try await client.call(.post, "\(path)/loss-decision", key: desk.manager, json: ["decision": "approve"])
            #expect(lost["status"] as? String == "lost")
            #expect(lost["lost_at"] != nil)
            #expect((lost["loss"] as? [String: Any])?["competitor"] as? String == "Mercedes C260L")
            // A lost lead is final.
            #expect(try await client.call(.post, "\(path)/follow-ups", key: key, json: ["channel": "phone", "result": "x"]).status == .conflict)
            #expect(try await client.call(.post, "\(path)/status", key: key, json: ["status": "negotiating"]).status == .conflict)
            #expect(try await client.call(.post, "\(path)/loss", key: key, json: ["reason": "price"]).status == .conflict)
        }
    }

    @Test("conversion creates or links the customer (with the lead's consents), the vehicle and the welcome-pack job in one transaction")
    func conversion() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            let client = app.client
            let key = desk.consultantKeys[0]
            let taken = try await client.call(.post, "/v1/vehicles", key: desk.manager, json: ["vin": vin(500), "brand": "BMW"])
            #expect(taken.status == .created)
            let auditBefore = try await app.pool.queryFirst("SELECT count(*)::int8 FROM audit_events")?.decode(0, as: Int64.self)
            let lead = try await client.call(
                .post, "/v1/leads", key: key,
                json: leadBody(phone: mobile(1), extra: ["consents": [["channel": "sms", "status": "granted", "source": "showroom_form"]]]))
            #expect(lead.status == .created, "\(lead.text)")
            let sale: [String: Any] = [
                "vehicle": ["vin": vin(500), "brand": "BMW", "series": "3系", "model": "325Li", "model_year": 2026],
                "price": ["amount": 32_880_000, "currency": "CNY"], "delivery_date": shanghaiDate(),
            ]
            // The VIN is taken: the sale fails in the middle (after the customer was inserted) and
            // nothing of it remains.
            let failed = try await client.call(.post, "/v1/leads/\(lead.id)/conversion", key: key, json: sale)
            #expect(failed.status == .conflict)
            #expect(failed["existing_id"] as? String == taken.id)
            #expect(try await client.call(.get, "/v1/customers?phone=\(mobile(1))", key: desk.manager).ids.isEmpty)
            #expect(try await app.pool.queryFirst("SELECT count(*)::int8 FROM vehicles")?.decode(0, as: Int64.self) == 1)
            #expect(try await app.pool.queryFirst("SELECT count(*)::int8 FROM jobs")?.decode(0, as: Int64.self) == 0)
            #expect(try await app.pool.queryFirst("SELECT count(*)::int8 FROM audit_events")?.decode(0, as: Int64.self) == auditBefore)
            let unchanged = try await client.call(.get, "/v1/leads/\(lead.id)", key: key)
            #expect(unchanged["status"] as? String == "new")
            #expect(unchanged["version"] as? Int == 1)

            var good = sale
            good["vehicle"] = ["vin": vin(501), "brand": "BMW", "series": "3系", "model": "325Li", "plate": "沪A88888"]
            let won = try await client.call(.post, "/v1/leads/\(lead.id)/conversion", key: key, json: good)
            #expect(won.status == .ok, "\(won.text)")
            #expect(won["customer_created"] as? Bool == true)
            let wonLead = won["lead"] as? [String: Any] ?? [:]
            #expect(wonLead["status"] as? String == "won")
            let customer = won["customer"] as? [String: Any] ?? [:]
            let vehicle = won["vehicle"] as? [String: Any] ?? [:]
            let customerID = try #require(customer["id"] as? String)
            #expect(customer["phone"] as? String == "+86\(mobile(1))")
            #expect(customer["name"] as? String == "王伟")
            #expect(wonLead["customer_id"] as? String == customerID)
            #expect(((wonLead["sale"] as? [String: Any])?["price"] as? [String: Any])?["amount"] as? Int == 32_880_000)
            // The consent given during the lead is the customer's now, with its source.
            let consents = try await client.call(.get, "/v1/customers/\(customerID)/consents", key: desk.manager).items
            #expect(consents.map { $0["channel"] as? String } == ["sms"])
            #expect(consents.first?["source"] as? String == "showroom_form")
            // The vehicle belongs to the customer from the delivery date.
            let view = try await client.call(.get, "/v1/customers/\(customerID)/360", key: desk.manager)
            let owned = (view["vehicles"] as? [[String: Any]]) ?? []
            #expect(owned.compactMap { ($0["vehicle"] as? [String: Any])?["id"] as? String } == [vehicle["id"] as? String ?? ""])
            // The welcome pack is queued with the sale, and runs.
            let jobID = try #require(won["welcome_pack_job_id"] as? Int)
            let job = try await client.call(.get, "/v1/jobs/\(jobID)", key: desk.tenants.keyA)
            #expect(job["kind"] as? String == "customers.welcome_pack")
            let work = BackgroundWork(
                services: app.services, pool: app.pool, retention: .init(completed: .seconds(86_400), discarded: .seconds(86_400)))
            try await runJobs(app, work: work, until: "SELECT count(*) = 0 FROM jobs WHERE state <> 'completed'")
            let pack = try await app.pool.queryFirst("SELECT customer_id, job_id FROM welcome_packs WHERE lead_id = \(UUID(uuidString: lead.id)!)")
            #expect(try pack?.decode(0, as: UUID.self) == UUID(uuidString: customerID))
            #expect(try pack?.decode(1, as: Int64.self) == Int64(jobID))
            // Won is final.
            #expect(try await client.call(.post, "/v1/leads/\(lead.id)/conversion", key: key, json: good).status == .conflict)

            // A repeat buyer: the sale goes to the existing customer.
            let existing = try await client.call(.post, "/v1/customers", key: desk.manager, json: ["kind": "person", "name": "老客户", "phone": mobile(2)])
            let second = try await client.call(.post, "/v1/leads", key: key, json: leadBody(phone: mobile(2), extra: ["customer_type": "additional"]))
            var another = sale
            another["vehicle"] = ["vin": vin(502), "brand": "BMW"]
            let repeatSale = try await client.call(.post, "/v1/leads/\(second.id)/conversion", key: key, json: another)
            #expect(repeatSale["customer_created"] as? Bool == false)
            #expect((repeatSale["customer"] as? [String: Any])?["id"] as? String == existing.id)
            // Bad sale input is a 422 naming the field.
            let third = try await client.call(.post, "/v1/leads", key: key, json: leadBody(phone: mobile(3)))
            var badVIN = sale
            badVIN["vehicle"] = ["vin": "LBV3A5109ABCDEFGH", "brand": "BMW"]
            #expect(try await client.call(.post, "/v1/leads/\(third.id)/conversion", key: key, json: badVIN).fieldErrors == ["vehicle.vin"])
        }
    }

    @Test("a manager merges a duplicate lead: its history moves, it closes as merged")
    func merge() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            let client = app.client
            let survivor = try await client.call(.post, "/v1/leads", key: desk.consultantKeys[0], json: leadBody(phone: mobile(1)))
            let duplicate = try await client.call(
                .post, "/v1/leads", key: desk.consultantKeys[1],
                json: ["surname": "王", "phone": mobile(2), "channel": "online", "competitor_models": ["Audi A4L"], "tags": ["网络"]])
            _ = try await client.call(.post, "/v1/leads/\(duplicate.id)/follow-ups", key: desk.consultantKeys[1], json: ["channel": "wechat", "result": "发了报价"])
            _ = try await client.call(.post, "/v1/leads/\(duplicate.id)/status", key: desk.consultantKeys[1], json: ["status": "test_drive"])
            #expect(try await client.call(.post, "/v1/leads/\(survivor.id)/merge", key: desk.consultantKeys[0], json: ["duplicate_id": duplicate.id]).status == .forbidden)
            let merged = try await client.call(.post, "/v1/leads/\(survivor.id)/merge", key: desk.manager, json: ["duplicate_id": duplicate.id])
            #expect(merged.status == .ok, "\(merged.text)")
            #expect(merged["competitor_models"] as? [String] == ["Audi A4L"])
            #expect(merged["tags"] as? [String] == ["网络"])
            #expect(merged["last_contact_result"] as? String == "发了报价")
            #expect(merged["status"] as? String == "test_drive")  // the further of new and test drive
            let closed = try await client.call(.get, "/v1/leads/\(duplicate.id)", key: desk.manager)
            #expect(closed["status"] as? String == "merged")
            #expect(closed["merged_into"] as? String == survivor.id)
            let followUps = try await client.call(.get, "/v1/leads/\(survivor.id)/follow-ups", key: desk.manager)
            #expect(followUps.items.map { $0["result"] as? String } == ["发了报价"])
            #expect(try await client.call(.post, "/v1/leads/\(survivor.id)/merge", key: desk.manager, json: ["duplicate_id": survivor.id]).status == .unprocessableContent)
            #expect(try await client.call(.post, "/v1/leads/\(survivor.id)/merge", key: desk.manager, json: ["duplicate_id": duplicate.id]).status == .conflict)

            // A pool lead merged with a consultant's takes his consultant; a pending loss blocks a merge.
            let poolLead = try await client.call(.post, "/v1/leads", key: desk.manager, json: ["surname": "周", "phone": mobile(3), "channel": "online"])
            let owned = try await client.call(.post, "/v1/leads", key: desk.consultantKeys[2], json: ["surname": "周", "phone": mobile(4), "channel": "showroom"])
            let adopted = try await client.call(.post, "/v1/leads/\(poolLead.id)/merge", key: desk.manager, json: ["duplicate_id": owned.id])
            #expect(adopted["consultant_id"] as? String == desk.consultants[2])
            #expect(adopted["in_pool"] as? Bool == false)
            let losing = try await client.call(.post, "/v1/leads", key: desk.consultantKeys[0], json: ["surname": "吴", "phone": mobile(5), "channel": "online"])
            _ = try await client.call(.post, "/v1/leads/\(losing.id)/loss", key: desk.consultantKeys[0], json: ["reason": "price"])
            #expect(try await client.call(.post, "/v1/leads/\(survivor.id)/merge", key: desk.manager, json: ["duplicate_id": losing.id]).status == .conflict)
        }
    }

    @Test("tenancy and roles: another dealer reaches nothing; a consultant sees his own and the pool; read-only roles read")
    func tenancyAndRoles() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            let client = app.client
            let mine = try await client.call(.post, "/v1/leads", key: desk.consultantKeys[0], json: leadBody(phone: mobile(1)))
            let pooled = try await client.call(.post, "/v1/leads", key: desk.manager, json: leadBody(phone: mobile(2)))
            let path = "/v1/leads/\(mine.id)"
            // Dealer B's admin: every endpoint is a 404 or leaves A's leads out.
            let other = desk.tenants.keyB
            let calls: [(HTTPRequest.Method, String, [String: Any]?)] = [
                (.get, "", nil), (.get, "/follow-ups", nil), (.get, "/assignments", nil),
                (.post, "/follow-ups", ["channel": "phone", "result": "x"] as [String: Any]),
                (.post, "/assignments", ["target": "pool"]), (.post, "/status", ["status": "contacted"]),
                (.post, "/loss", ["reason": "price"]), (.post, "/loss-decision", ["decision": "approve"]),
                (.post, "/merge", ["duplicate_id": pooled.id]),
                (.post, "/conversion", ["vehicle": ["vin": vin(1), "brand": "BMW"], "price": ["amount": 1, "currency": "CNY"], "delivery_date": shanghaiDate()]),
            ]
            for (method, suffix, body) in calls {
                let response = try await client.call(method, path + suffix, key: other, json: body)
                #expect(response.status == .notFound, "\(method) \(suffix): \(response.status)")
            }
            #expect(try await client.call(.patch, path, key: other, json: ["notes": "x"], headers: ["If-Match": "\"1\""]).status == .notFound)
            // Claiming takes a consultant's key: dealer B's consultant cannot see A's pool.
            let consultantB = try await client.call(.post, "/v1/staff", key: other, json: ["name": "B 顾问", "function": "sales"])
            let keyB = try await Tenants.key(
                app.services, group: desk.tenants.groupID, dealer: desk.tenants.dealerB, role: .sales, staff: UUID(uuidString: consultantB.id))
            #expect(try await client.call(.post, "/v1/leads/\(pooled.id)/claim", key: keyB).status == .notFound)
            #expect(try await client.call(.get, "/v1/leads/\(pooled.id)", key: keyB).status == .notFound)
            #expect(try await client.call(.get, "/v1/leads", key: other).ids.isEmpty)
            #expect(try await client.call(.get, "/v1/leads/\(mine.id)", key: desk.manager)["version"] as? Int == 1)

            // Consultant 1 sees the pool lead, not consultant 0's; he works only his own.
            let seen = try await client.call(.get, "/v1/leads", key: desk.consultantKeys[1])
            #expect(seen.ids == [pooled.id])
            #expect(try await client.call(.get, path, key: desk.consultantKeys[1]).status == .notFound)
            #expect(try await client.call(.patch, "/v1/leads/\(pooled.id)", key: desk.consultantKeys[1], json: ["notes": "x"], headers: ["If-Match": "\"1\""]).status == .forbidden)
            // A sales key not tied to a consultant sees the pool but works nothing in it.
            let unbound = try await Tenants.key(app.services, group: desk.tenants.groupID, dealer: desk.tenants.dealerA, role: .sales)
            #expect(try await client.call(.get, "/v1/leads/\(pooled.id)", key: unbound).status == .ok)
            #expect(try await client.call(.post, "/v1/leads/\(pooled.id)/follow-ups", key: unbound, json: ["channel": "phone", "result": "x"]).status == .forbidden)
            #expect(try await client.call(.patch, "/v1/leads/\(pooled.id)", key: unbound, json: ["notes": "x"], headers: ["If-Match": "\"1\""]).status == .forbidden)
            // A lead closed while in the pool is no longer the consultants' to see.
            let closedInPool = try await client.call(.post, "/v1/leads", key: desk.manager, json: leadBody(phone: mobile(7)))
            _ = try await client.call(.post, "/v1/leads/\(closedInPool.id)/loss", key: desk.manager, json: ["reason": "unreachable"])
            #expect(try await client.call(.post, "/v1/leads/\(closedInPool.id)/loss-decision", key: desk.manager, json: ["decision": "approve"])["status"] as? String == "lost")
            #expect(try await client.call(.get, "/v1/leads/\(closedInPool.id)", key: desk.consultantKeys[1]).status == .notFound)
            #expect(try await client.call(.get, "/v1/leads/\(closedInPool.id)", key: desk.manager).status == .ok)
            // An integration may capture leads but not choose their consultant (that is an assignment).
            let integration = try await Tenants.key(app.services, group: desk.tenants.groupID, dealer: desk.tenants.dealerA, role: .integration)
            #expect(try await client.call(.post, "/v1/leads", key: integration, json: leadBody(phone: mobile(8), extra: ["consultant_id": desk.consultants[0]])).status == .forbidden)
            #expect(try await client.call(.post, "/v1/leads", key: integration, json: leadBody(phone: mobile(8))).status == .created)

            // A sales key may not capture for another consultant.
            #expect(try await client.call(.post, "/v1/leads", key: desk.consultantKeys[1], json: leadBody(phone: mobile(3), extra: ["consultant_id": desk.consultants[0]])).status == .forbidden)

            let readonly = try await Tenants.key(app.services, group: desk.tenants.groupID, dealer: desk.tenants.dealerA, role: .readonly)
            #expect(try await client.call(.get, path, key: readonly).status == .ok)
            #expect(try await client.call(.post, "/v1/leads", key: readonly, json: leadBody(phone: mobile(4))).status == .forbidden)
            let service = try await Tenants.key(app.services, group: desk.tenants.groupID, dealer: desk.tenants.dealerA, role: .service)
            #expect(try await client.call(.get, "/v1/leads", key: service).status == .forbidden)

            // A group key reads across its dealers and names the dealer to write to.
            _ = try await client.call(.post, "/v1/leads", key: desk.tenants.keyB, json: leadBody(phone: mobile(5)))
            let group = try await Tenants.key(app.services, group: desk.tenants.groupID, dealer: nil, role: .manager)
            #expect(try await client.call(.get, "/v1/leads", key: group).items.count == 5)
            #expect(try await client.call(.get, "/v1/leads?dealer_id=\(desk.tenants.dealerB)", key: group).items.count == 1)
            #expect(try await client.call(.post, "/v1/leads", key: group, json: leadBody(phone: mobile(6))).fieldErrors == ["dealer_id"])
            let forB = try await client.call(.post, "/v1/leads", key: group, json: leadBody(phone: mobile(6), extra: ["dealer_id": desk.tenants.dealerB.uuidString]))
            #expect(forB["dealer_id"] as? String == desk.tenants.dealerB.uuidString.lowercased())
        }
    }
}

/// Runs a worker with the service's job kinds until `condition` (a SQL boolean) holds.
func runJobs(_ app: TestApp, work: BackgroundWork, until condition: StaticString) async throws {
    var configuration = WorkerConfiguration(queues: ["default": 5], id: "test-worker")
    configuration.wakeup = .poll
    configuration.pollInterval = .milliseconds(50)
    configuration.maintenanceInterval = .milliseconds(50)
    let worker = JobWorker(
        pool: app.pool, queue: app.services.queue, registry: work.registry, listener: nil, configuration: configuration,
        logger: TestDatabase.logger)
    let running = Task { try await worker.run() }
    defer { worker.beginShutdown() }
    let deadline = ContinuousClock.now + .seconds(20)
    while ContinuousClock.now < deadline {
        if try await app.pool.queryFirst(PostgresQuery(stringLiteral: condition))?.decode(0, as: Bool.self) == true {
            worker.beginShutdown()
            try await running.value
            return
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    worker.beginShutdown()
    try await running.value
    Issue.record("jobs did not finish within 20 s")
}
