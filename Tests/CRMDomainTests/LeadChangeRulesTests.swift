import CRMDomain
import Foundation
import Testing

/// The changes use cases make to a lead, as pure functions (`LeadRules`): what the services
/// used to decide in their own code and the repository in SQL.
@Suite("Lead rules: edits, follow-ups, loss, merge, the pool")
struct LeadChangeRulesTests {
    static let now = Date(timeIntervalSince1970: 1_795_500_000)  // 2026-11-24 06:40 UTC, 14:40 in Shanghai
    static let shanghai = TimeZone(identifier: "Asia/Shanghai")!
    static var today: LocalDate { LocalDate(now, in: shanghai) }

    static func lead(
        status: LeadStatus = .contacted, consultant: UUID? = UUID(), fields: LeadFields? = nil, contact: ContactPlan = ContactPlan(),
        dealer: UUID = UUID(uuidString: "00000000-0000-0000-0000-0000000000d1")!
    ) -> Lead {
        Lead(
            id: UUID(), dealerID: dealer, fields: fields ?? LeadFields(surname: "王", phone: "+8613912345678", channel: .showroom),
            status: status, consultantID: consultant, assignedAt: consultant == nil ? nil : now.addingTimeInterval(-86_400),
            contact: contact, customerID: nil, loss: nil, sale: nil, lostAt: nil, mergedInto: nil, createdAt: now, updatedAt: now,
            version: 1)
    }

    // MARK: Qualification

    @Test("a company lead is qualified without a gender; an individual is not", arguments: [
        (LeadParty.company, Gender?.none, true), (.company, .unknown, true), (.individual, nil, false),
        (.individual, .unknown, false), (.individual, .female, true),
    ])
    func companyGender(party: LeadParty, gender: Gender?, qualified: Bool) {
        var lead = LeadRulesTests.qualifiedLead()
        lead.fields.party = party
        lead.fields.companyName = party == .company ? "上海浦东物流有限公司" : nil
        lead.fields.gender = gender
        #expect(LeadRules.missingFields(lead).isEmpty == qualified)
        #expect(LeadRules.missingFields(lead).contains(.gender) == !qualified)
    }

    // MARK: Follow-ups

    func input(at: Date? = nil, channel: FollowUpChannel = .phone, next: LocalDate? = nil) -> LeadRules.FollowUpInput {
        LeadRules.FollowUpInput(contactedAt: at, channel: channel, result: "约了试驾", notes: nil, nextContactDate: next, nextContactAction: nil)
    }

    @Test("a follow-up becomes the last contact and plan and lifts the status; a late one never replaces a newer")
    func followUpLatest() throws {
        let base = Self.lead(status: .new)
        let (record, visited) = try LeadRules.followUp(
            input(channel: .visit, next: Self.today.adding(days: 2)), on: base, id: UUID(), staffID: nil, actorKey: nil,
            now: Self.now, today: Self.today)
        #expect(record.contactedAt == Self.now)
        #expect(visited.status == .visited)
        #expect(visited.contact.lastContactAt == Self.now)
        #expect(visited.contact.nextContactDate == Self.today.adding(days: 2))
        // Logged afterwards, made earlier: recorded, but the lead keeps the newer contact; a
        // phone call never moves a visited lead back.
        let (_, after) = try LeadRules.followUp(
            input(at: Self.now.addingTimeInterval(-3600)), on: visited, id: UUID(), staffID: nil, actorKey: nil, now: Self.now,
            today: Self.today)
        #expect(after.contact == visited.contact)
        #expect(after.status == .visited)
        // A newer contact without a plan clears the plan.
        let (_, cleared) = try LeadRules.followUp(
            input(at: Self.now.addingTimeInterval(60)), on: visited, id: UUID(), staffID: nil, actorKey: nil, now: Self.now.addingTimeInterval(120),
            today: Self.today)
        #expect(cleared.contact.nextContactDate == nil)
    }

    @Test("follow-up input: not in the future (5 minutes' grace), a plan from today to 12 months ahead", arguments: [
        (301.0, Int?.none, "contacted_at"), (299.0, nil, nil), (0.0, -1, "next_contact_date"), (0.0, 0, nil),
        (0.0, 365, nil), (0.0, 366, "next_contact_date"),
    ])
    func followUpChecks(ahead: Double, nextInDays: Int?, refused: String?) {
        let next = nextInDays.map { Self.today.adding(days: $0) }
        let outcome = Result {
            try LeadRules.followUp(
                input(at: Self.now.addingTimeInterval(ahead), next: next), on: Self.lead(), id: UUID(), staffID: nil, actorKey: nil,
                now: Self.now, today: Self.today)
        }
        switch outcome {
        case .success: #expect(refused == nil)
        case .failure(let error): #expect((error as? ValidationErrors)?.entries.map(\.field) == refused.map { [$0] })
        }
    }

    @Test("a closed lead takes no follow-up and no edit", arguments: [LeadStatus.won, .lost, .merged])
    func closedLeads(status: LeadStatus) {
        #expect(throws: RuleViolation.self) {
            try LeadRules.followUp(input(), on: Self.lead(status: status), id: UUID(), staffID: nil, actorKey: nil, now: Self.now, today: Self.today)
        }
        #expect(throws: RuleViolation.self) {
            try LeadRules.edit(Self.lead(status: status), to: LeadFields(surname: "李", channel: .online), today: Self.today)
        }
        #expect(throws: RuleViolation.self) { try LeadRules.assign(Self.lead(status: status), to: nil, now: Self.now) }
    }

    // MARK: Status and loss

    @Test("progress forward only; the refusal names every allowed move, the sale and the loss included")
    func progress() throws {
        #expect(try LeadRules.progress(Self.lead(status: .contacted), to: .negotiating).status == .negotiating)
        let refusal = #expect(throws: RuleViolation.self) { try LeadRules.progress(Self.lead(status: .visited), to: .contacted) }
        #expect(refusal?.allowedTransitions == ["test_drive", "negotiating", "won", "loss_pending"])
        #expect(LeadRules.illegalTransition(from: .won, to: .new).allowedTransitions == [])
    }

    @Test("a loss needs its reason's details; approved it is lost, rejected the lead returns to its status")
    func loss() throws {
        let lead = Self.lead(status: .testDrive)
        #expect(throws: ValidationErrors.self) {
            try LeadRules.declareLoss(.init(reason: .boughtCompetitor, competitor: " ", note: nil), on: lead, actorKey: nil, now: Self.now)
        }
        #expect(throws: ValidationErrors.self) {
            try LeadRules.declareLoss(.init(reason: .other, competitor: nil, note: nil), on: lead, actorKey: nil, now: Self.now)
        }
        let pending = try LeadRules.declareLoss(
            .init(reason: .boughtCompetitor, competitor: "奥迪 A4L", note: nil), on: lead, actorKey: nil, now: Self.now)
        #expect(pending.status == .lossPending)
        #expect(pending.loss?.statusBefore == .testDrive)
        #expect(throws: RuleViolation.self) {
            try LeadRules.declareLoss(.init(reason: .price, competitor: nil, note: nil), on: pending, actorKey: nil, now: Self.now)
        }
        let later = Self.now.addingTimeInterval(3600)
        let lost = try LeadRules.decideLoss(.approve, note: nil, on: pending, actorKey: nil, now: later)
        #expect(lost.status == .lost)
        #expect(lost.lostAt == later)
        let back = try LeadRules.decideLoss(.reject, note: "再跟一下", on: pending, actorKey: nil, now: later)
        #expect(back.status == .testDrive)
        #expect(back.lostAt == nil)
        #expect(back.loss?.decision == .reject)
        #expect(back.loss?.decidedAt == later)
        #expect(throws: RuleViolation.self) { try LeadRules.decideLoss(.approve, note: nil, on: back, actorKey: nil, now: later) }
    }

    // MARK: Merge

    @Test("merge: the survivor keeps its values and takes the duplicate's where it has none")
    func merge() throws {
        let dealer = UUID()
        let survivor = Self.lead(
            status: .contacted, consultant: nil,
            fields: LeadFields(
                surname: "王", gender: .unknown, phone: nil, competitorModels: ["奥迪 A4L"], channel: .showroom, notes: "到店一次",
                tags: ["fleet"]),
            contact: ContactPlan(lastContactAt: Self.now.addingTimeInterval(-7200), lastContactResult: "old", nextContactDate: nil),
            dealer: dealer)
        let consultant = UUID()
        let duplicate = Self.lead(
            status: .testDrive, consultant: consultant,
            fields: LeadFields(
                surname: "李", name: "王伟", gender: .male, phone: "+8613912345678", competitorModels: ["奔驰 C260L", "奥迪 A4L"],
                channel: .online, notes: "电话咨询", tags: ["vip", "fleet"]),
            contact: ContactPlan(lastContactAt: Self.now, lastContactResult: "newer", nextContactDate: Self.today),
            dealer: dealer)
        let merged = try LeadRules.merge(duplicate, into: survivor)
        let f = merged.survivor.fields
        #expect(f.surname == "王")
        #expect(f.name == "王伟")
        #expect(f.gender == .male)  // a known gender beats an unknown one
        #expect(f.phone == "+8613912345678")
        #expect(f.channel == .showroom)
        #expect(f.competitorModels == ["奥迪 A4L", "奔驰 C260L"])
        #expect(f.tags == ["fleet", "vip"])
        #expect(f.notes == "到店一次\n电话咨询")
        #expect(merged.survivor.consultantID == consultant)  // it waited in the pool
        #expect(merged.survivor.contact.lastContactResult == "newer")
        #expect(merged.survivor.status == .testDrive)
        #expect(merged.duplicate.status == .merged)
        #expect(merged.duplicate.mergedInto == survivor.id)
    }

    @Test("merge keeps within the limits a lead's fields have")
    func mergeLimits() throws {
        let dealer = UUID()
        let survivor = Self.lead(
            fields: LeadFields(
                surname: "王", channel: .showroom, notes: String(repeating: "甲", count: 3000), tags: (0..<40).map { "a\($0)" }),
            dealer: dealer)
        let duplicate = Self.lead(
            fields: LeadFields(
                surname: "王", channel: .showroom, notes: String(repeating: "乙", count: 3000), tags: (0..<40).map { "b\($0)" }),
            dealer: dealer)
        let merged = try LeadRules.merge(duplicate, into: survivor).survivor
        #expect(merged.fields.tags.count == Text.maxTags)
        #expect(merged.fields.notes?.count == LeadFields.notesLimit)
        #expect(throws: Never.self) { try merged.fields.validated(today: Self.today) }
    }

    @Test("merge refuses itself, another dealer's lead, closed leads and a pending loss")
    func mergeRefusals() {
        let survivor = Self.lead()
        #expect(throws: ValidationErrors.self) { try LeadRules.merge(survivor, into: survivor) }
        #expect(throws: ValidationErrors.self) { try LeadRules.merge(Self.lead(dealer: UUID()), into: survivor) }
        #expect(throws: RuleViolation.self) { try LeadRules.merge(Self.lead(status: .won), into: survivor) }
        #expect(throws: RuleViolation.self) { try LeadRules.merge(Self.lead(status: .lossPending), into: survivor) }
    }

    // MARK: The pool

    @Test("back to the pool: assigned, being worked, its deadline passed", arguments: [
        (LeadStatus.contacted, 4, true), (.contacted, 2, false), (.lossPending, 10, false), (.won, 10, false),
    ])
    func recycle(status: LeadStatus, daysAgo: Int, due: Bool) {
        var lead = Self.lead(status: status)
        lead.assignedAt = Self.now.addingTimeInterval(-Double(daysAgo) * 86_400)
        #expect(LeadRules.shouldRecycle(lead, now: Self.now, days: 3, timeZone: Self.shanghai) == due)
        // Every anchor of the deadline is at or after the assignment: the candidates' bound holds.
        if due { #expect(lead.assignedAt! < LeadRules.recycleCandidateBound(now: Self.now, days: 3)) }
    }

    @Test("a rejected loss and a planned contact restart the follow-up clock")
    func recycleAnchors() throws {
        var lead = Self.lead()
        lead.assignedAt = Self.now.addingTimeInterval(-10 * 86_400)
        #expect(LeadRules.shouldRecycle(lead, now: Self.now, days: 3, timeZone: Self.shanghai))
        let pending = try LeadRules.declareLoss(.init(reason: .price, competitor: nil, note: nil), on: lead, actorKey: nil, now: Self.now.addingTimeInterval(-9 * 86_400))
        let rejected = try LeadRules.decideLoss(.reject, note: nil, on: pending, actorKey: nil, now: Self.now.addingTimeInterval(-86_400))
        #expect(!LeadRules.shouldRecycle(rejected, now: Self.now, days: 3, timeZone: Self.shanghai))
        var planned = lead
        planned.contact.nextContactDate = Self.today.adding(days: 1)
        #expect(!LeadRules.shouldRecycle(planned, now: Self.now, days: 3, timeZone: Self.shanghai))
    }

    @Test("a consultant's overdue list is his own leads; a consultant key tied to nobody has none")
    func overdueFilter() throws {
        let staff = UUID()
        let mine = try LeadFilter(overdue: true, phone: "139 1234 5678").normalized(for: LeadScope(tenant: .dealer(UUID()), consultant: staff))
        #expect(mine?.consultantID == staff)
        #expect(mine?.phone == "+8613912345678")
        #expect(try LeadFilter(overdue: true).normalized(for: LeadScope(tenant: .dealer(UUID()), poolOnly: true)) == nil)
        #expect(try LeadFilter(overdue: true).normalized(for: LeadScope(tenant: .dealer(UUID())))?.consultantID == nil)
        #expect(throws: ValidationErrors.self) { try LeadFilter(phone: "12").normalized(for: LeadScope(tenant: .dealer(UUID()))) }
    }
}

@Suite("Money, landlines, cursors")
struct CommonRulesTests {
    @Test("a price is a positive amount in minor units with an ISO 4217 code", arguments: [
        (Int64(25_000_000), "cny", ["CNY"], [String]()), (0, "CNY", [], ["price.amount"]), (100, "RMB元", [], ["price.currency"]),
        (-5, "US", [], ["price.amount", "price.currency"]),
    ])
    func price(amount: Int64, currency: String, normalised: [String], refused: [String]) {
        var errors = ValidationErrors()
        let money = Money.price(amountMinor: amount, currency: currency, field: "price", errors: &errors)
        #expect(money.map { [$0.currency] } ?? [] == normalised)
        #expect(errors.entries.map(\.field) == refused)
    }

    @Test("mainland landlines written the usual way become +86 numbers", arguments: [
        ("021-5888-1234", "+862158881234"), ("(0755) 8888 1234", "+8675588881234"), ("010 6512 3456", "+861065123456"),
        ("0571-8888888", "+865718888888"), ("+86 21 5888 1234", "+862158881234"), ("0086 21 58881234", "+862158881234"),
    ])
    func landlines(input: String, e164: String) throws {
        #expect(try PhoneNumber.parse(input).get().e164 == e164)
    }

    @Test("what a landline cannot be", arguments: [
        ("0123-4567", PhoneNumber.Problem.notAMobileNumber), ("021-58", .invalidLength), ("0021-5888-1234-5678-90", .invalidLength),
    ])
    func notLandlines(input: String, problem: PhoneNumber.Problem) {
        #expect(PhoneNumber.parse(input) == .failure(problem))
    }

    @Test("an instant survives a cursor to the microsecond; other values are refused")
    func cursorValues() throws {
        let instant = Date(timeIntervalSince1970: 1_795_500_000.123456)
        let cursor = Cursor(sort: "leads.created", values: [Cursor.value(of: instant), UUID().uuidString])
        #expect(abs(try cursor.timestamp(0).timeIntervalSince(instant)) < 0.000_001)
        #expect(throws: CursorError.self) { try Cursor(sort: "x", values: ["infinity"]).timestamp(0) }
        #expect(throws: CursorError.self) { try Cursor(sort: "x", values: ["2026-11-24"]).uuid(0) }
        #expect(throws: CursorError.self) { try cursor.values(for: "leads.due", count: 2) }
    }
}
