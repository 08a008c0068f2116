import CRMClient
import CRMDomain
import CRMServices
import Foundation
import HummingbirdTesting
import PostgresClient
import Testing

/// A dealer (A of `Tenants`) with three sales consultants, each with a key tied to him, and a
/// manager key.
struct LeadDesk: Sendable {
    let tenants: Tenants
    /// Consultant staff ids in round-robin order (by name).
    let consultants: [String]
    /// Keys of the consultants, in the same order.
    let consultantKeys: [String]
    let manager: String

    static func make(_ app: TestApp, names: [String] = ["顾问甲", "顾问乙", "顾问丙"]) async throws -> LeadDesk {
        let tenants = try await Tenants.make(app.services)
        var consultants: [String] = []
        var keys: [String] = []
        for name in names {
            let staff = try await app.api(tenants.keyA).createStaff(body: .json(.init(name: name, function: .sales)))
            #expect(status(of: staff) == .created, "\(staff)")
            let id = try staff.created.body.json.id
            consultants.append(id)
            keys.append(
                try await Tenants.key(
                    app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .sales, staff: UUID(uuidString: id)))
        }
        let manager = try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .manager)
        return LeadDesk(tenants: tenants, consultants: consultants, consultantKeys: keys, manager: manager)
    }

    /// For the plan tests: a desk whose dealer holds a dealer's worth of leads, one created
    /// through the API and copied 5,000 times, each copy with its own phone and `changes`
    /// (`TestApp.copyRows`); the desk and its manager's client.
    static func withCopiedLeads(_ app: TestApp, changing changes: String) async throws -> (LeadDesk, Client) {
        let desk = try await make(app)
        let manager = app.api(desk.manager)
        _ = try await manager.createLead(body: .json(leadBody(phone: mobile(1)))).created
        try await app.copyRows(of: "leads", times: 5000, changing: "'phone', '+86137' || lpad(n::text, 8, '0'), " + changes)
        return (desk, manager)
    }
}

/// A lead body with all 11 qualification fields but the consultant and the contact plan;
/// `change` adjusts it (`leadBody(phone: p) { $0.customerType = .additional }`).
func leadBody(
    phone: String, series: String = "3系", intended: String = "2027-01-15",
    _ change: (inout Components.Schemas.LeadInput) -> Void = { _ in }
) -> Components.Schemas.LeadInput {
    var body = Components.Schemas.LeadInput(
        surname: "王", name: "王伟", phone: phone, currentBrand: "Audi", currentModel: "A4L", interestBrand: "BMW",
        interestSeries: series, interestModel: "325Li", gender: .male, party: .individual, customerType: .replacement,
        intendedPurchaseDate: intended, channel: .showroom)
    change(&body)
    return body
}

/// The dealer's date in Shanghai at `instant` (default: now), shifted by `days`.
func shanghaiDate(days: Int = 0, from instant: Date = Date()) -> String {
    LocalDate(instant, in: TimeZone(identifier: "Asia/Shanghai")!).adding(days: days).description
}

func sql(_ pool: PostgresPool, _ query: PostgresQuery) async throws {
    try await pool.execute(query)
}
