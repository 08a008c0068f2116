import CRMClient
import CRMDomain
import CRMTestSupport
import Foundation
import HummingbirdTesting
import PostgresClient
import Testing

/// The KPI report against a fixture counted by hand. Period: October 2026 in Asia/Shanghai.
///
/// | lead | created (local)  | closed             | channel  | consultant | series | intended   | competitor | other |
/// | L1   | 2026-09-15       | open               | showroom | c1         | 3系    | 2026-12-20 |            | qualified, next contact in 10 days |
/// | L2   | 2026-10-05       | open               | showroom | c1         | 3系    | 2027-06-01 | Audi A4L   | next contact yesterday (overdue) |
/// | L3   | 2026-10-10       | won 2026-10-20     | online   | c2         | 5系    | 2026-11-01 | Benz C     | qualified |
/// | L4   | 2026-10-12       | lost 2026-10-25    | online   | c2         | 5系    |            |            | |
/// | L5   | 2026-10-31 23:30 | open               | referral | (pool)     |        | 2027-01-31 |            | exactly 3 months after the 31st: hot |
/// | L6   | 2026-11-01 00:30 | open               | showroom | c1         | 3系    |            |            | after the period (16:30 UTC on the 31st) |
/// | L7   | 2026-08-01       | won 2026-09-30     | online   | c2         | 3系    |            |            | |
/// | L8   | 2026-09-01       | won 2026-10-03     | showroom | c1         | 5系    |            |            | |
/// | L9   | 2026-09-20       | lost 2026-11-05    | showroom | c1         | 5系    | 2027-02-10 |            | open at the period's end |
/// | L10  | 2026-10-06       | merged             | online   | c2         | 3系    |            |            | never counted |
@Suite("Lead KPIs")
struct LeadReportTests {
    struct Fixture {
        let name: String
        let created: String
        let status: String
        var won: String? = nil
        var lost: String? = nil
        let channel: String
        let consultant: Int?
        let series: String?
        var intended: String? = nil
        var competitor: [String] = []
        var qualified = false
        var nextContactDays: Int? = nil
    }

    static let fixtures: [Fixture] = [
        Fixture(name: "L1", created: "2026-09-15 10:00", status: "contacted", channel: "showroom", consultant: 1, series: "3系", intended: "2026-12-20", qualified: true, nextContactDays: 10),
        Fixture(name: "L2", created: "2026-10-05 10:00", status: "contacted", channel: "showroom", consultant: 1, series: "3系", intended: "2027-06-01", competitor: ["Audi A4L"], nextContactDays: -1),
        Fixture(name: "L3", created: "2026-10-10 10:00", status: "won", won: "2026-10-20 15:00", channel: "online", consultant: 2, series: "5系", intended: "2026-11-01", competitor: ["Benz C"], qualified: true),
        Fixture(name: "L4", created: "2026-10-12 10:00", status: "lost", lost: "2026-10-25 15:00", channel: "online", consultant: 2, series: "5系"),
        Fixture(name: "L5", created: "2026-10-31 23:30", status: "new", channel: "referral", consultant: nil, series: nil, intended: "2027-01-31"),
        Fixture(name: "L6", created: "2026-11-01 00:30", status: "new", channel: "showroom", consultant: 1, series: "3系"),
        Fixture(name: "L7", created: "2026-08-01 10:00", status: "won", won: "2026-09-30 15:00", channel: "online", consultant: 2, series: "3系"),
        Fixture(name: "L8", created: "2026-09-01 10:00", status: "won", won: "2026-10-03 15:00", channel: "showroom", consultant: 1, series: "5系"),
        Fixture(name: "L9", created: "2026-09-20 10:00", status: "lost", lost: "2026-11-05 15:00", channel: "showroom", consultant: 1, series: "5系", intended: "2027-02-10"),
        Fixture(name: "L10", created: "2026-10-06 10:00", status: "merged", channel: "online", consultant: 2, series: "3系"),
    ]

    /// Inserts the fixture rows for `dealer` (sales needs a customer and a vehicle).
    static func load(_ pool: PostgresPool, dealer: UUID, consultants: [UUID]) async throws {
        let customer = UUID()
        try await pool.execute("INSERT INTO customers (dealer_id, id, kind, name) VALUES (\(dealer), \(customer), 'person', '买家')")
        for (index, f) in fixtures.enumerated() {
            var vehicle: UUID?
            if f.status == "won" {
                vehicle = UUID()
                try await pool.execute(
                    "INSERT INTO vehicles (dealer_id, id, vin, brand) VALUES (\(dealer), \(vehicle!), \(vin(900 + index)), 'BMW')")
            }
            let full = f.qualified
            let consultant = f.consultant.map { consultants[$0 - 1] }
            let next = f.nextContactDays.map { LocalDate(Date(), in: TimeZone(identifier: "Asia/Shanghai")!).adding(days: $0) }
            try await pool.execute(
                """
                INSERT INTO leads (dealer_id, id, surname, gender, phone, party, customer_type, current_brand, current_model,
                    interest_series, interest_model, competitor_models, intended_purchase_date, channel, status, consultant_id,
                    assigned_at, last_contact_result, next_contact_date, customer_id, vehicle_id, sale_price_minor, sale_currency,
                    delivery_date, won_at, lost_at, status_before_loss, loss_reason, created_at)
                VALUES (\(dealer), \(UUID()), \(full ? "王" : nil), \(full ? "male" : nil), \(mobile(700 + index)),
                    \(full ? "individual" : nil), \(full ? "replacement" : nil), \(full ? "Audi" : nil), \(full ? "A4L" : nil),
                    \(f.series), \(full ? "325Li" : nil), \(f.competitor)::text[], \(f.intended.flatMap { LocalDate($0) }),
                    \(f.channel), \(f.status), \(consultant), CASE WHEN \(consultant)::uuid IS NULL THEN NULL ELSE now() END,
                    \(full ? "谈过" : nil), \(full ? next ?? LocalDate("2027-01-01") : next),
                    \(vehicle == nil ? nil : customer), \(vehicle), \(vehicle == nil ? nil : 100_000 as Int64?),
                    \(vehicle == nil ? nil : "CNY"), \(vehicle == nil ? nil : LocalDate("2026-10-20")),
                    (\(f.won)::timestamp AT TIME ZONE 'Asia/Shanghai'), (\(f.lost)::timestamp AT TIME ZONE 'Asia/Shanghai'),
                    NULL, \(f.lost == nil ? nil : "price"),
                    (\(f.created)::timestamp AT TIME ZONE 'Asia/Shanghai'))
                """)
        }
    }

    struct Expected: Equatable, CustomStringConvertible {
        var total = 0, new = 0, consultants = 0, qualified = 0, hot = 0, competitor = 0, won = 0, lost = 0, newWon = 0, overdue = 0

        init(_ values: [Int]) {
            (total, new, consultants, qualified, hot, competitor, won, lost, newWon, overdue) =
                (values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7], values[8], values[9])
        }

        init(_ row: Components.Schemas.LeadReportRow) {
            self.init(
                [row.totalLeads, row.newLeads, row.consultants, row.qualified, row.hot, row.consideringCompetitor, row.won, row.lost, row.newWon, row.overdue])
        }

        var description: String { "\([total, new, consultants, qualified, hot, competitor, won, lost, newWon, overdue])" }
    }

    @Test("every figure matches the hand count, by channel, consultant, series and dealer")
    func figures() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app, names: ["c1", "c2"])
            let consultants = desk.consultants.compactMap(UUID.init(uuidString:))
            try await Self.load(app.pool, dealer: desk.tenants.dealerA, consultants: consultants)
            func report(_ groupBy: Components.Schemas.LeadReportGrouping, key: String = desk.manager) async throws -> Components.Schemas.LeadReport {
                let response = try await app.api(key).getLeadReport(query: .init(from: "2026-10-01", to: "2026-10-31", groupBy: groupBy))
                #expect(status(of: response) == .ok, "\(response)")
                return try response.ok.body.json
            }
            func rows(_ report: Components.Schemas.LeadReport) -> [String?: Expected] {
                var result: [String?: Expected] = [:]
                for row in report.rows { result[row.key] = Expected(row) }
                return result
            }

            //                         total new cons qual hot comp won lost newWon overdue
            let totals = Expected([4, 4, 1, 1, 2, 1, 2, 1, 1, 1])
            let byChannel = try await report(.channel)
            #expect(Expected(byChannel.totals) == totals)
            #expect(
                rows(byChannel) == [
                    "showroom": Expected([3, 1, 1, 1, 1, 1, 1, 0, 0, 1]),
                    "online": Expected([0, 2, 0, 0, 0, 0, 1, 1, 1, 0]),
                    "referral": Expected([1, 1, 0, 0, 1, 0, 0, 0, 0, 0]),
                ])
            let total = byChannel.totals
            #expect(total.leadsPerConsultant == 4.0)
            #expect(total.qualifiedRate == 0.25)
            #expect(total.hotShare == 0.5)
            #expect(total.competitorShare == 0.25)
            #expect(total.conversionRate == 0.25)
            let online = byChannel.rows.first { $0.key == "online" }
            #expect(online?.conversionRate == 0.5)
            #expect(online?.qualifiedRate == nil)  // no leads in the base: no rate

            let byConsultant = try await report(.consultant)
            #expect(
                rows(byConsultant) == [
                    desk.consultants[0]: Expected([3, 1, 1, 1, 1, 1, 1, 0, 0, 1]),
                    desk.consultants[1]: Expected([0, 2, 0, 0, 0, 0, 1, 1, 1, 0]),
                    nil: Expected([1, 1, 0, 0, 1, 0, 0, 0, 0, 0]),
                ])
            let bySeries = try await report(.series)
            #expect(
                rows(bySeries) == [
                    "3系": Expected([2, 1, 1, 1, 1, 1, 0, 0, 0, 1]),
                    "5系": Expected([1, 2, 1, 0, 0, 0, 2, 1, 1, 0]),
                    nil: Expected([1, 1, 0, 0, 1, 0, 0, 0, 0, 0]),
                ])
            // The group sees its dealers side by side; dealer B has no leads.
            let group = try await Tenants.key(app.services, group: desk.tenants.groupID, dealer: nil, role: .manager)
            let byDealer = try await report(.dealer, key: group)
            #expect(rows(byDealer) == [desk.tenants.dealerA.uuidString.lowercased(): totals])
            // Dealer B's own report is empty; sales may not read reports; bad periods are 422.
            let empty = try await report(.channel, key: desk.tenants.keyB)
            #expect(Expected(empty.totals) == Expected([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
            #expect(
                try await status(of: app.api(desk.consultantKeys[0]).getLeadReport(query: .init(from: "2026-10-01", to: "2026-10-31")))
                    == .forbidden)
            #expect(
                try await status(of: app.api(desk.manager).getLeadReport(query: .init(from: "2026-11-01", to: "2026-10-01")))
                    == .unprocessableContent)
            // Raw: the query leaves out `to`, which the contract requires (the typed client cannot).
            #expect(try await app.client.call(.get, "/v1/reports/leads?from=2026-10-01", key: desk.manager).status == .unprocessableContent)
        }
    }

    @Test("merged duplicates are counted apart; channel share and competitor shares match the hand count")
    func duplicatesAndShares() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app, names: ["c1", "c2"])
            let consultants = desk.consultants.compactMap(UUID.init(uuidString:))
            try await Self.load(app.pool, dealer: desk.tenants.dealerA, consultants: consultants)
            let manager = app.api(desk.manager)
            let response = try await manager.getLeadReport(query: .init(from: "2026-10-01", to: "2026-10-31", groupBy: .channel))
            #expect(status(of: response) == .ok, "\(response)")
            let byChannel = try response.ok.body.json
            var merged: [String: Int] = [:]
            var share: [String: Double] = [:]
            for row in byChannel.rows {
                let key = row.key ?? "-"
                merged[key] = row.duplicatesMerged
                share[key] = row.shareOfNewLeads
            }
            // L10 (online, 6 October) was merged: not a new lead, but visible as a merged duplicate.
            #expect(merged == ["showroom": 0, "online": 1, "referral": 0])
            // New leads: showroom L2, online L3 and L4, referral L5.
            #expect(share == ["showroom": 0.25, "online": 0.5, "referral": 0.25])
            let totals = byChannel.totals
            #expect(totals.duplicatesMerged == 1)
            #expect(totals.shareOfNewLeads == 1.0)
            // The base at the period's end: L1 and L2 (3系), L5 (no series), L9 (5系); only L2
            // considers a competitor (Audi A4L); L3's Benz C was won, so it left the base.
            let competitors = byChannel.competitors
            #expect(competitors.count == 2)
            #expect(competitors.first?.series == nil)
            #expect(competitors.first?.competitorModel == "Audi A4L")
            #expect(competitors.first?.prospects == 1)
            #expect(competitors.first?.share == 0.25)
            #expect(competitors.last?.series == "3系")
            #expect(competitors.last?.competitorModel == "Audi A4L")
            #expect(competitors.last?.share == 0.5)
            // By consultant: L10 was c2's.
            let byConsultant = try await manager.getLeadReport(query: .init(from: "2026-10-01", to: "2026-10-31", groupBy: .consultant))
            let c2 = try byConsultant.ok.body.json.rows.first { $0.key == desk.consultants[1] }
            #expect(c2?.duplicatesMerged == 1)
        }
    }

    @Test("a company lead with a landline written the usual way is qualified without a gender")
    func companyLandline() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            let captured = try await app.api(desk.consultantKeys[0]).createLead(
                body: .json(.init(
                    surname: "周", phone: "021-5888-1234", companyName: "上海浦东物流有限公司", currentBrand: "Buick", currentModel: "GL8",
                    interestSeries: "5系", interestModel: "530Li", party: .company, customerType: .additional,
                    intendedPurchaseDate: shanghaiDate(days: 60), channel: .keyAccount)))
            #expect(status(of: captured) == .created, "\(captured)")
            let lead = try captured.created.body.json
            #expect(lead.phone == "+862158881234")
            #expect(lead.missingFields == [.contactPlan])
            let planned = try await app.api(desk.consultantKeys[0]).createLeadFollowUp(
                path: .init(leadId: lead.id),
                body: .json(.init(channel: .phone, result: "车队采购负责人约下周来店", nextContactDate: shanghaiDate(days: 7))))
            #expect(try planned.created.body.json.lead.qualified == true)
            // The stored flag the KPIs count agrees.
            let stored = try await app.pool.queryFirst("SELECT qualified FROM leads WHERE id = \(UUID(uuidString: lead.id)!)")?.decode(0, as: Bool.self)
            #expect(stored == true)
            // The same number in another spelling is the same prospect.
            let again = try await app.api(desk.manager).createLead(body: .json(.init(surname: "周", phone: "(021) 5888 1234", channel: .online)))
            #expect(status(of: again) == .conflict)
            #expect(try again.conflict.problem.existingId == lead.id)
        }
    }
}
