import CRMDomain
import Foundation
import Testing

@Suite("Lead rules: temperature, qualification, status, follow-up deadlines")
struct LeadRulesTests {
    func date(_ text: String) -> LocalDate { LocalDate(text)! }
    let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    @Test("hot within 3 months, warm within 12, cold later: exactly 3 and 12 months are inclusive", arguments: [
        ("2026-11-24", "2026-11-24", LeadTemperature.hot),
        ("2026-11-24", "2025-01-01", .hot),  // the date has passed: still hot
        ("2026-11-24", "2027-02-24", .hot),  // exactly 3 months
        ("2026-11-24", "2027-02-25", .warm),
        ("2026-11-24", "2027-11-24", .warm),  // exactly 12 months
        ("2026-11-24", "2027-11-25", .cold),
        // Month ends clamp: 30 November + 3 months is the last day of February.
        ("2026-11-30", "2027-02-28", .hot),
        ("2026-11-30", "2027-03-01", .warm),
        ("2027-11-30", "2028-02-29", .hot),  // leap year
        ("2027-11-30", "2028-03-01", .warm),
        // From 29 February, 12 months is 28 February of the next year.
        ("2028-02-29", "2029-02-28", .warm),
        ("2028-02-29", "2029-03-01", .cold),
        ("2028-02-29", "2028-05-29", .hot),
        ("2028-02-29", "2028-05-30", .warm),
    ])
    func temperatureBoundaries(today: String, intended: String, expected: LeadTemperature) {
        #expect(LeadRules.temperature(intended: date(intended), today: date(today)) == expected)
    }

    @Test("no intended purchase date, no temperature")
    func noDate() {
        #expect(LeadRules.temperature(intended: nil, today: date("2026-11-24")) == nil)
    }

    @Test("temperature follows the dealer's calendar around midnight")
    func dealerMidnight() {
        let intended = date("2027-02-24")
        // 23:59 on 23 November in Shanghai (15:59 UTC): 3 months ends on 23 February, so warm.
        let before = LocalDate(ISO8601DateFormatter().date(from: "2026-11-23T15:59:00Z")!, in: shanghai)
        #expect(before == date("2026-11-23"))
        #expect(LeadRules.temperature(intended: intended, today: before) == .warm)
        // 00:01 on 24 November in Shanghai (16:01 UTC, still the 23rd in UTC): hot.
        let after = LocalDate(ISO8601DateFormatter().date(from: "2026-11-23T16:01:00Z")!, in: shanghai)
        #expect(after == date("2026-11-24"))
        #expect(LeadRules.temperature(intended: intended, today: after) == .hot)
    }

    static func qualifiedLead() -> Lead {
        Lead(
            id: UUID(), dealerID: UUID(),
            fields: LeadFields(
                surname: "王", name: "王伟", gender: .male, phone: "+8613912345678", party: .individual,
                customerType: .replacement, currentBrand: "Audi", currentModel: "A4L", interestBrand: "BMW",
                interestSeries: "3 Series", interestModel: "325Li", intendedPurchaseDate: LocalDate("2027-01-15"),
                channel: .showroom),
            status: .contacted, consultantID: UUID(), assignedAt: Date(),
            contact: ContactPlan(
                lastContactAt: Date(), lastContactResult: "interested in a test drive", nextContactDate: LocalDate("2026-12-01")),
            customerID: nil, loss: nil, sale: nil, lostAt: nil, mergedInto: nil, createdAt: Date(), updatedAt: Date(), version: 1)
    }

    @Test("a lead with all 11 fields is qualified; each missing one is named")
    func qualification() {
        let full = Self.qualifiedLead()
        #expect(LeadRules.missingFields(full).isEmpty)
        let cases: [(QualificationField, (inout Lead) -> Void)] = [
            (.consultant, { $0.consultantID = nil }),
            (.customerType, { $0.fields.customerType = nil }),
            (.party, { $0.fields.party = nil }),
            (.gender, { $0.fields.gender = .unknown }),
            (.surname, { $0.fields.surname = nil }),
            (.phone, { $0.fields.phone = nil }),
            (.currentVehicle, { $0.fields.currentModel = nil }),
            (.intendedPurchaseDate, { $0.fields.intendedPurchaseDate = nil }),
            (.interestModel, { $0.fields.interestSeries = nil }),
            (.contactPlan, { $0.contact.nextContactDate = nil }),
            (.contactPlan, { $0.contact.lastContactResult = nil }),
        ]
        for (field, change) in cases {
            var lead = full
            change(&lead)
            #expect(LeadRules.missingFields(lead) == [field], "\(field)")
        }
        // A first purchase has no current car to record.
        var first = full
        first.fields.customerType = .firstPurchase
        first.fields.currentBrand = nil
        first.fields.currentModel = nil
        #expect(LeadRules.missingFields(first).isEmpty)
        // Everything missing at once, in the order of the standard.
        let bare = Lead(
            id: UUID(), dealerID: UUID(), fields: LeadFields(phone: "+8613900000000", channel: .online), status: .new,
            consultantID: nil, assignedAt: nil, contact: ContactPlan(), customerID: nil, loss: nil, sale: nil, lostAt: nil,
            mergedInto: nil, createdAt: Date(), updatedAt: Date(), version: 1)
        #expect(
            LeadRules.missingFields(bare) == [
                .consultant, .customerType, .party, .gender, .surname, .currentVehicle, .intendedPurchaseDate,
                .interestModel, .contactPlan,
            ])
    }

    @Test("status moves forward only; follow-ups lift it to what they show")
    func statuses() {
        #expect(LeadStatus.new.allowedProgress == [.contacted, .visited, .testDrive, .negotiating])
        #expect(LeadStatus.negotiating.allowedProgress.isEmpty)
        #expect(LeadStatus.won.allowedProgress.isEmpty && !LeadStatus.won.canConvert && !LeadStatus.lost.canDeclareLoss)
        #expect(!LeadStatus.lossPending.canConvert && !LeadStatus.lossPending.canDeclareLoss && LeadStatus.lossPending.isOpen)
        #expect(LeadRules.status(after: .phone, from: .new) == .contacted)
        #expect(LeadRules.status(after: .visit, from: .contacted) == .visited)
        #expect(LeadRules.status(after: .testDrive, from: .visited) == .testDrive)
        #expect(LeadRules.status(after: .phone, from: .negotiating) == .negotiating)
        #expect(LeadRules.status(after: .visit, from: .lossPending) == .lossPending)
    }

    @Test("a lead returns to the pool N days after its assignment, last contact or planned contact day, whichever is latest")
    func recycleDeadline() {
        let assigned = ISO8601DateFormatter().date(from: "2026-11-20T02:00:00Z")!
        let threeDays: TimeInterval = 3 * 86_400
        #expect(
            LeadRules.recycleDeadline(assignedAt: assigned, lastContactAt: nil, nextContactDate: nil, days: 3, timeZone: shanghai)
                == assigned.addingTimeInterval(threeDays))
        let contact = assigned.addingTimeInterval(86_400)
        #expect(
            LeadRules.recycleDeadline(assignedAt: assigned, lastContactAt: contact, nextContactDate: nil, days: 3, timeZone: shanghai)
                == contact.addingTimeInterval(threeDays))
        // Planned for 1 December: the clock starts at midnight that day, dealer time (16:00 UTC the day before).
        let planned = LeadRules.recycleDeadline(
            assignedAt: assigned, lastContactAt: contact, nextContactDate: LocalDate("2026-12-01"), days: 3, timeZone: shanghai)
        #expect(planned == ISO8601DateFormatter().date(from: "2026-11-30T16:00:00Z")!.addingTimeInterval(threeDays))
    }

    @Test("lead fields: trimmed, phone normalised, a company needs its name, some identity is required")
    func validation() throws {
        let today = date("2026-11-24")
        let clean = try LeadFields(surname: "  李 ", phone: "139 1234 5678", channel: .referral).validated(today: today)
        #expect(clean.surname == "李")
        #expect(clean.phone == "+8613912345678")
        #expect(throws: ValidationErrors.self) { try LeadFields(party: .company, channel: .keyAccount).validated(today: today) }
        #expect(throws: ValidationErrors.self) { try LeadFields(channel: .online).validated(today: today) }
        #expect(throws: ValidationErrors.self) { try LeadFields(phone: "12345", channel: .online).validated(today: today) }
        #expect(throws: ValidationErrors.self) {
            try LeadFields(surname: "张", intendedPurchaseDate: LocalDate("2040-01-01"), channel: .online).validated(today: today)
        }
    }
}
