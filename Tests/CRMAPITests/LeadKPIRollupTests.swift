import CRMDomain
import CRMServices
import CRMStore
import Foundation
import PostgresClient
import PropertyBased
import Testing

/// The roll-up report against the live computation (`LeadReportRepository`, itself checked by
/// hand in `LeadReportTests`) over random leads of two dealers in time zones 13 hours apart,
/// created around a month's and a year's end and near each dealer's midnight; then after random
/// edits of past days (late wins and losses, merges, reassignments, new intended dates, planned
/// contacts), with the worker run fully, partly or not at all, and with the clock moved across
/// the dealers' midnights (planned contacts falling due between two worker runs), and after a
/// dealer changed its time zone.
@Suite("Lead KPI roll-ups")
struct LeadKPIRollupTests {
    static let channels = ["showroom", "online", "referral", "key_account"]
    static let series: [String?] = ["3系", "5系", "X3", nil]
    static let models = ["Benz C", "Audi A4L", "Lexus ES"]
    static let openStatuses = ["new", "contacted", "visited", "test_drive", "negotiating"]

    struct Dealer {
        let id: UUID
        let zone: String
        let consultants: [UUID?]
        let customer: UUID
        let vehicle: UUID
    }

    /// A local time of the dealer as a timestamptz expression.
    static func local(_ day: LocalDate, minutes: Int, _ dealer: Dealer) -> PostgresQuery {
        "((\(day)::date + make_interval(mins => \(minutes)::int))::timestamp AT TIME ZONE \(dealer.zone))"
    }

    static func insertLeads(_ pool: PostgresPool, _ dealer: Dealer, count: Int, start: LocalDate, days: Int, phoneBase: Int, rng: inout Xoshiro)
        async throws
    {
        for index in 0..<count {
            let created = start.adding(days: Int.random(in: 0..<days, using: &rng))
            // Half of them within 20 minutes of the dealer's midnight, on either side.
            let minutes = Bool.random(using: &rng) ? Int.random(in: 0..<20, using: &rng) + (Bool.random(using: &rng) ? 0 : 1420)
                : Int.random(in: 0..<1440, using: &rng)
            let roll = Int.random(in: 0..<20, using: &rng)
            let status = roll < 11 ? openStatuses.randomElement(using: &rng)! : roll < 15 ? "lost" : roll < 18 ? "won" : roll < 19 ? "merged" : "loss_pending"
            let closeDay = created.adding(days: Int.random(in: 0..<45, using: &rng))
            let closeMinutes = Int.random(in: 0..<1440, using: &rng)
            let full = Bool.random(using: &rng)
            let consultant = dealer.consultants.randomElement(using: &rng)!
            // Intended dates around month ends (the three-month hot bound clamps there), or none.
            let month = created.adding(months: Int.random(in: -1...8, using: &rng))
            let intended: LocalDate? =
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: nil
                case 1, 2: LocalDate(year: month.year, month: month.month, day: LocalDate.daysIn(month: month.month, year: month.year))
                default: month.adding(days: Int.random(in: -3...3, using: &rng))
                }
            let next = created.adding(days: Int.random(in: 0..<70, using: &rng))
            let competitors = models.filter { _ in Int.random(in: 0..<4, using: &rng) == 0 }
            let won = status == "won"
            try await pool.execute(
                """
                INSERT INTO leads (dealer_id, id, surname, gender, phone, party, customer_type, current_brand, current_model,
                    interest_series, interest_model, competitor_models, intended_purchase_date, channel, status, consultant_id,
                    last_contact_result, next_contact_date, customer_id, vehicle_id, won_at, lost_at, status_before_loss,
                    loss_reason, created_at)
                VALUES (\(dealer.id), \(UUID()), \(full ? "王" : nil), \(full ? "male" : nil), \("+86139\(phoneBase + index)"),
                    \(full ? "individual" : nil), \(full ? "replacement" : nil), \(full ? "Audi" : nil), \(full ? "A4L" : nil),
                    \(series.randomElement(using: &rng)!), \(full ? "325Li" : nil), \(competitors)::text[], \(intended),
                    \(channels.randomElement(using: &rng)!), \(status), \(consultant), \(full ? "谈过" : nil),
                    \(full || Bool.random(using: &rng) ? next : nil),
                    \(won ? dealer.customer : nil), \(won ? dealer.vehicle : nil),
                    CASE WHEN \(won) THEN \(fragment: local(closeDay, minutes: closeMinutes, dealer)) END,
                    CASE WHEN \(status == "lost") THEN \(fragment: local(closeDay, minutes: closeMinutes, dealer)) END,
                    \(status == "loss_pending" ? "contacted" : nil), \(status == "loss_pending" || status == "lost" ? "price" : nil),
                    \(fragment: local(created, minutes: minutes, dealer)))
                """)
        }
    }

    /// Random edits of existing leads, as the application makes them (each marks its lead).
    static func edit(_ pool: PostgresPool, _ dealer: Dealer, count: Int, around day: LocalDate, rng: inout Xoshiro) async throws {
        var made = 0
        let ids = try await pool.query("SELECT id FROM leads WHERE dealer_id = \(dealer.id) ORDER BY id").map(named: { try $0("id", as: UUID.self) })
        for _ in 0..<count {
            let id = ids.randomElement(using: &rng)!
            let when = local(day.adding(days: -Int.random(in: 0..<40, using: &rng)), minutes: Int.random(in: 0..<1440, using: &rng), dealer)
            let edit: PostgresQuery
            switch Int.random(in: 0..<8, using: &rng) {
            case 0:  // a late loss decision on a past day
                edit = "status = 'lost', lost_at = greatest(created_at, \(fragment: when)), loss_reason = 'price', won_at = NULL, customer_id = NULL, vehicle_id = NULL"
            case 1:  // a late win
                edit = "status = 'won', won_at = greatest(created_at, \(fragment: when)), lost_at = NULL, customer_id = \(dealer.customer), vehicle_id = \(dealer.vehicle)"
            case 2:  // merged into another lead
                edit = "status = 'merged', won_at = NULL, lost_at = NULL, customer_id = NULL, vehicle_id = NULL"
            case 3:  // back to work
                edit = "status = 'contacted', won_at = NULL, lost_at = NULL, customer_id = NULL, vehicle_id = NULL, loss_reason = NULL"
            case 4:
                edit = "consultant_id = \(dealer.consultants.randomElement(using: &rng)!), channel = \(channels.randomElement(using: &rng)!)"
            case 5:
                edit = "intended_purchase_date = \(day.adding(months: Int.random(in: 0...4, using: &rng)).adding(days: Int.random(in: -2...2, using: &rng)))"
            case 6:
                edit = "next_contact_date = \(day.adding(days: Int.random(in: -3...3, using: &rng))), competitor_models = \(models.filter { _ in Bool.random(using: &rng) })::text[]"
            default:
                edit = "interest_series = \(series.randomElement(using: &rng)!), surname = NULL"
            }
            // The open phone is unique: a lead that cannot reopen (its phone taken again) keeps its state.
            do {
                try await pool.execute("UPDATE leads SET \(fragment: edit) WHERE dealer_id = \(dealer.id) AND id = \(id)")
                made += 1
            } catch let error as PostgresError where error.code == .uniqueViolation {}
        }
        #expect(made > count / 2, "most edits apply")
    }

    static func compare(_ pool: PostgresPool, scopes: [TenantScope], now: Date, periods: [(LocalDate, LocalDate)], note: String) async throws {
        let live = LeadReportRepository()
        let rollups = LeadKPIRollupRepository()
        for scope in scopes {
            for (from, to) in periods {
                let competitors = try await live.competitors(scope: scope, from: from, to: to, in: pool)
                for grouping in [LeadReportGrouping.channel, .consultant, .series, .dealer] {
                    let expected = try await live.report(scope: scope, grouping: grouping, from: from, to: to, now: now, in: pool)
                    // The roll-ups answer both in one statement.
                    let actual = try await rollups.report(scope: scope, grouping: grouping, from: from, to: to, now: now, in: pool)
                    #expect(actual.counts == expected, "\(note): \(scope) \(grouping) \(from)...\(to)")
                    #expect(actual.competitors == competitors, "\(note): competitors \(scope) \(grouping) \(from)...\(to)")
                }
            }
        }
    }

    static func apply(_ pool: PostgresPool, _ dealers: [Dealer], now: Date, limit: Int) async throws {
        for dealer in dealers {
            _ = try await pool.withTransaction { tx in
                try await LeadKPIRollupRepository().applyChanged(dealerID: dealer.id, now: now, limit: limit, in: tx)
            }
        }
    }

    static func periods(_ rng: inout Xoshiro, start: LocalDate, days: Int) -> [(LocalDate, LocalDate)] {
        // Month ends (where the three-month hot bound clamps), the year's end, and random periods.
        var result = [(start, start.adding(days: days)), (LocalDate("2026-12-31")!, LocalDate("2027-01-01")!)]
        for end in ["2026-11-30", "2026-12-31", "2027-01-31", "2027-02-28"] {
            result.append((LocalDate(end)!.adding(days: -Int.random(in: 0..<40, using: &rng)), LocalDate(end)!))
        }
        for _ in 0..<4 {
            let from = start.adding(days: Int.random(in: -20..<days, using: &rng))
            result.append((from, from.adding(days: Int.random(in: 0..<100, using: &rng))))
        }
        return result
    }

    @Test("the roll-ups answer what the live computation answers, before and after edits of past days and across midnights",
          arguments: [UInt64(1), 2, 3])
    func matchesLive(seed: UInt64) async throws {
        try await withApp { (app: TestApp) in
            // The same seed gives the same fixtures (it is in every failure message).
            var rng = Xoshiro(seed: (seed, ~seed, seed &* 0x9E37_79B9_7F4A_7C15, 0xD1B5_4A32_D192_ED03))
            let tenants = try await Tenants.make(app.services)
            let pool = app.pool
            try await pool.execute("UPDATE dealers SET time_zone = 'America/New_York' WHERE id = \(tenants.dealerB)")
            var dealers: [Dealer] = []
            for (id, zone) in [(tenants.dealerA, "Asia/Shanghai"), (tenants.dealerB, "America/New_York")] {
                var consultants: [UUID?] = [nil]
                for n in 1...3 {
                    let staff = UUID()
                    try await pool.execute("INSERT INTO staff (dealer_id, id, name, function) VALUES (\(id), \(staff), \("顾问\(n)"), 'sales')")
                    consultants.append(staff)
                }
                let customer = UUID(), vehicle = UUID()
                try await pool.execute("INSERT INTO customers (dealer_id, id, kind, name) VALUES (\(id), \(customer), 'person', '买家')")
                try await pool.execute("INSERT INTO vehicles (dealer_id, id, vin, brand) VALUES (\(id), \(vehicle), \(vin(Int(seed) * 10 + dealers.count)), 'BMW')")
                dealers.append(Dealer(id: id, zone: zone, consultants: consultants, customer: customer, vehicle: vehicle))
            }
            let start = LocalDate("2026-11-20")!
            for (index, dealer) in dealers.enumerated() {
                try await Self.insertLeads(pool, dealer, count: 250, start: start, days: 70, phoneBase: 10_000_000 + index * 100_000, rng: &rng)
            }
            let scopes: [TenantScope] = [.dealer(tenants.dealerA), .dealer(tenants.dealerB), .group(tenants.groupID)]
            // 2027-01-15 08:00 UTC: 16:00 in Shanghai, 03:00 in New York.
            let day1 = Date(timeIntervalSince1970: 1_800_000_000)
            let periods = Self.periods(&rng, start: start, days: 70)
            let note = "seed \(seed)"

            // Nothing applied yet: every lead is corrected live.
            try await Self.compare(pool, scopes: scopes, now: day1, periods: periods, note: "\(note), nothing applied")
            // All applied.
            try await Self.apply(pool, dealers, now: day1, limit: 10_000)
            #expect(try await pool.query("SELECT 1 FROM leads WHERE kpi_dirty").count == 0)
            try await Self.compare(pool, scopes: scopes, now: day1, periods: periods, note: "\(note), all applied")
            // Edits of past days; some applied, some not; then a day later (contacts fell due).
            for dealer in dealers { try await Self.edit(pool, dealer, count: 60, around: LocalDate(day1, in: TimeZone(identifier: dealer.zone)!), rng: &rng) }
            try await Self.compare(pool, scopes: scopes, now: day1, periods: periods, note: "\(note), edited")
            try await Self.apply(pool, dealers, now: day1, limit: 25)
            try await Self.compare(pool, scopes: scopes, now: day1, periods: periods, note: "\(note), edits partly applied")
            let day2 = day1.addingTimeInterval(86_400 + 3_600 * 9)  // past both dealers' midnights
            try await Self.compare(pool, scopes: scopes, now: day2, periods: periods, note: "\(note), a day later")
            try await Self.apply(pool, dealers, now: day2, limit: 10_000)
            try await Self.compare(pool, scopes: scopes, now: day2, periods: periods, note: "\(note), a day later, applied")
            // A clock set back across midnight, more edits and new leads.
            for dealer in dealers { try await Self.edit(pool, dealer, count: 30, around: LocalDate(day2, in: TimeZone(identifier: dealer.zone)!), rng: &rng) }
            for (index, dealer) in dealers.enumerated() {
                try await Self.insertLeads(pool, dealer, count: 20, start: LocalDate("2027-01-18")!, days: 3, phoneBase: 20_000_000 + index * 100_000, rng: &rng)
            }
            try await Self.compare(pool, scopes: scopes, now: day1, periods: periods, note: "\(note), clock back")
            try await Self.apply(pool, dealers, now: day1, limit: 10_000)
            try await Self.compare(pool, scopes: scopes, now: day2, periods: periods, note: "\(note), applied at the earlier day, read at the later")
            // A dealer moves to another time zone: every day of its leads moves with it.
            try await Self.apply(pool, dealers, now: day2, limit: 10_000)
            try await pool.execute("UPDATE dealers SET time_zone = 'Europe/Berlin' WHERE id = \(tenants.dealerB)")
            try await Self.compare(pool, scopes: scopes, now: day2, periods: periods, note: "\(note), time zone changed")
            try await Self.apply(pool, dealers, now: day2, limit: 10_000)
            try await Self.compare(pool, scopes: scopes, now: day2, periods: periods, note: "\(note), time zone changed, applied")
        }
    }
}
