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
            let staff = try await app.client.call(.post, "/v1/staff", key: tenants.keyA, json: ["name": name, "function": "sales"])
            #expect(staff.status == .created, "\(staff.text)")
            consultants.append(staff.id)
            keys.append(
                try await Tenants.key(
                    app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .sales, staff: UUID(uuidString: staff.id)))
        }
        let manager = try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .manager)
        return LeadDesk(tenants: tenants, consultants: consultants, consultantKeys: keys, manager: manager)
    }
}

/// A lead body with all 11 qualification fields but the consultant and the contact plan.
func leadBody(phone: String, series: String = "3系", intended: String = "2027-01-15", extra: [String: Any] = [:]) -> [String: Any] {
    var body: [String: Any] = [
        "surname": "王", "name": "王伟", "gender": "male", "phone": phone, "party": "individual",
        "customer_type": "replacement", "current_brand": "Audi", "current_model": "A4L", "interest_brand": "BMW",
        "interest_series": series, "interest_model": "325Li", "intended_purchase_date": intended, "channel": "showroom",
    ]
    body.merge(extra) { $1 }
    return body
}

/// The dealer's date in Shanghai at `instant` (default: now), shifted by `days`.
func shanghaiDate(days: Int = 0, from instant: Date = Date()) -> String {
    LocalDate(instant, in: TimeZone(identifier: "Asia/Shanghai")!).adding(days: days).description
}

func sql(_ pool: PostgresPool, _ query: PostgresQuery) async throws {
    try await pool.execute(query)
}
