import CRMTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Two dealers of one group, each with an admin key created through `crm keys create`: neither
/// can read, list, change or delete the other's records, on any endpoint of the API core.
@Suite("Tenant isolation across every endpoint")
struct TenantIsolationTests {
    /// One dealer's records, made through the API with its own key.
    struct Records {
        let dealer: String
        let key: String
        let customer: String
        let vehicle: String
        let staff: String
        let apiKey: String
        let seed: Int
    }

    static func populate(_ client: any TestClientProtocol, dealer: String, key: String, seed: Int) async throws -> Records {
        let staff = try await client.call(.post, "/v1/staff", key: key, json: ["name": "顾问\(seed)", "function": "sales"])
        #expect(staff.status == .created, "\(staff.text)")
        let customer = try await client.call(
            .post, "/v1/customers", key: key,
            json: [
                "kind": "person", "name": "客户\(seed)", "phone": mobile(seed), "tags": ["vip"],
                "consents": [["channel": "sms", "status": "granted", "source": "showroom_form"]],
            ])
        #expect(customer.status == .created, "\(customer.text)")
        let vehicle = try await client.call(
            .post, "/v1/vehicles", key: key,
            json: ["vin": vin(seed), "plate": "沪A\(seed)", "brand": "BMW", "owner": ["customer_id": customer.id]])
        #expect(vehicle.status == .created, "\(vehicle.text)")
        let reading = try await client.call(
            .post, "/v1/vehicles/\(vehicle.id)/odometer-readings", key: key, json: ["km": 1000, "source": "service_visit"])
        #expect(reading.status == .created, "\(reading.text)")
        let apiKey = try await client.call(.post, "/v1/api-keys", key: key, json: ["name": "front desk", "role": "sales"])
        #expect(apiKey.status == .created, "\(apiKey.text)")
        return Records(
            dealer: dealer, key: key, customer: customer.id, vehicle: vehicle.id, staff: staff.id,
            apiKey: (apiKey["key"] as? [String: Any])?["id"] as? String ?? "", seed: seed)
    }

    @Test("neither dealer reaches the other's customers, vehicles, staff, keys or dealer")
    func isolation() async throws {
        try await withApp { (app: TestApp) in
            // The tenancy comes from the command line, as an operator would set it up.
            let url = app.database.url
            let group = try await BuiltProducts.crm(["groups", "create", "--name", "华东集团"], databaseURL: url)
            let dealerA = try await BuiltProducts.crm(["dealers", "create", "--group", group, "--name", "浦东 4S"], databaseURL: url)
            let dealerB = try await BuiltProducts.crm(["dealers", "create", "--group", group, "--name", "闵行 4S"], databaseURL: url)
            let keyA = try await BuiltProducts.crm(["keys", "create", "--dealer", dealerA, "--role", "admin"], databaseURL: url)
            let keyB = try await BuiltProducts.crm(["keys", "create", "--dealer", dealerB, "--role", "admin"], databaseURL: url)
            #expect(keyA.hasPrefix("crm_") && keyB.hasPrefix("crm_") && keyA != keyB)

            let a = try await Self.populate(app.client, dealer: dealerA, key: keyA, seed: 1)
            let b = try await Self.populate(app.client, dealer: dealerB, key: keyB, seed: 2)
            try await Self.assertCannotReach(app.client, attacker: b, victim: a)
            try await Self.assertCannotReach(app.client, attacker: a, victim: b)
        }
    }

    /// Every endpoint, called by `attacker` on `victim`'s records: 404 (or a list without them,
    /// or a 422 for naming the dealer), and the victim's records unchanged afterwards.
    static func assertCannotReach(_ client: any TestClientProtocol, attacker: Records, victim: Records) async throws {
        let key = attacker.key
        let ifMatch = ["If-Match": "\"1\""]
        func expectNotFound(_ method: HTTPRequest.Method, _ path: String, json: Any? = nil, headers: [String: String] = [:])
            async throws
        {
            let response = try await client.call(method, path, key: key, json: json, headers: headers)
            #expect(response.status == .notFound, "\(method) \(path) gave \(response.status): \(response.text)")
        }
        // Customers and everything under them.
        try await expectNotFound(.get, "/v1/customers/\(victim.customer)")
        try await expectNotFound(.patch, "/v1/customers/\(victim.customer)", json: ["notes": "x"], headers: ifMatch)
        try await expectNotFound(.get, "/v1/customers/\(victim.customer)/360")
        try await expectNotFound(.get, "/v1/customers/\(victim.customer)/audit")
        try await expectNotFound(.post, "/v1/customers/\(victim.customer)/erasure")
        try await expectNotFound(.get, "/v1/customers/\(victim.customer)/consents")
        try await expectNotFound(
            .post, "/v1/customers/\(victim.customer)/consents",
            json: ["channel": "email", "status": "granted", "source": "website"])
        try await expectNotFound(.get, "/v1/customers/\(victim.customer)/consents/history")
        try await expectNotFound(.delete, "/v1/customers/\(victim.customer)", headers: ifMatch)
        // Vehicles, ownership, odometer.
        try await expectNotFound(.get, "/v1/vehicles/\(victim.vehicle)")
        try await expectNotFound(.patch, "/v1/vehicles/\(victim.vehicle)", json: ["colour": "红"], headers: ifMatch)
        try await expectNotFound(.get, "/v1/vehicles/\(victim.vehicle)/ownerships")
        try await expectNotFound(.post, "/v1/vehicles/\(victim.vehicle)/ownerships", json: ["customer_id": victim.customer])
        try await expectNotFound(.get, "/v1/vehicles/\(victim.vehicle)/odometer-readings")
        try await expectNotFound(.post, "/v1/vehicles/\(victim.vehicle)/odometer-readings", json: ["km": 2000, "source": "customer"])
        try await expectNotFound(.delete, "/v1/vehicles/\(victim.vehicle)", headers: ifMatch)
        // Staff, keys, the dealer itself.
        try await expectNotFound(.get, "/v1/staff/\(victim.staff)")
        try await expectNotFound(.patch, "/v1/staff/\(victim.staff)", json: ["active": false], headers: ifMatch)
        try await expectNotFound(.get, "/v1/api-keys/\(victim.apiKey)")
        try await expectNotFound(.post, "/v1/api-keys/\(victim.apiKey)/revocation")
        try await expectNotFound(.get, "/v1/dealers/\(victim.dealer)")
        try await expectNotFound(.patch, "/v1/dealers/\(victim.dealer)", json: ["name": "taken"], headers: ifMatch)

        // Lists never contain the victim's rows, whatever the filter.
        for path in [
            "/v1/customers", "/v1/customers?tag=vip", "/v1/customers?phone=\(q(mobile(victim.seed)))",
            "/v1/customers?name=\(q("客户"))", "/v1/customers?vin=\(vin(victim.seed))",
            "/v1/customers?plate=\(q("沪A\(victim.seed)"))", "/v1/vehicles?vin=\(vin(victim.seed))",
            "/v1/vehicles", "/v1/vehicles?brand=BMW", "/v1/vehicles?customer_id=\(victim.customer)", "/v1/staff",
            "/v1/api-keys", "/v1/dealers",
        ] {
            let list = try await client.call(.get, path, key: key)
            #expect(list.status == .ok, "\(path): \(list.text)")
            let leaked = Set(list.ids).intersection([victim.customer, victim.vehicle, victim.staff, victim.apiKey, victim.dealer])
            #expect(leaked.isEmpty, "\(path) lists \(leaked)")
        }
        // Naming the other dealer is refused without saying whether it exists.
        let narrowed = try await client.call(.get, "/v1/customers?dealer_id=\(victim.dealer)", key: key)
        #expect(narrowed.status == .unprocessableContent)
        let planted = try await client.call(
            .post, "/v1/customers", key: key, json: ["kind": "person", "name": "x", "dealer_id": victim.dealer])
        #expect(planted.status == .unprocessableContent, "\(planted.text)")
        let borrowed = try await client.call(
            .post, "/v1/vehicles", key: key, json: ["vin": vin(99), "brand": "BMW", "owner": ["customer_id": victim.customer]])
        #expect(borrowed.status == .unprocessableContent, "\(borrowed.text)")
        let staffElsewhere = try await client.call(
            .post, "/v1/staff", key: key, json: ["name": "x", "function": "sales", "dealer_id": victim.dealer])
        #expect(staffElsewhere.status == .unprocessableContent)

        // The victim's records are untouched.
        let customer = try await client.call(.get, "/v1/customers/\(victim.customer)", key: victim.key)
        #expect(customer.status == .ok)
        #expect(customer["version"] as? Int == 1)
        #expect(customer["notes"] == nil)
        let vehicle = try await client.call(.get, "/v1/vehicles/\(victim.vehicle)", key: victim.key)
        #expect(vehicle["version"] as? Int == 1)
        let owners = try await client.call(.get, "/v1/vehicles/\(victim.vehicle)/ownerships", key: victim.key)
        #expect(owners.items.count == 1)
        let readings = try await client.call(.get, "/v1/vehicles/\(victim.vehicle)/odometer-readings", key: victim.key)
        #expect(readings.items.count == 1)
        let consents = try await client.call(.get, "/v1/customers/\(victim.customer)/consents", key: victim.key)
        #expect(consents.items.count == 1)
        let staff = try await client.call(.get, "/v1/staff/\(victim.staff)", key: victim.key)
        #expect(staff["active"] as? Bool == true)
        let apiKey = try await client.call(.get, "/v1/api-keys/\(victim.apiKey)", key: victim.key)
        #expect(apiKey["revoked_at"] == nil)
        let dealer = try await client.call(.get, "/v1/dealers/\(victim.dealer)", key: victim.key)
        #expect(dealer["version"] as? Int == 1)
    }

    @Test("a group key reads across its dealers, narrows with dealer_id, and must name the dealer to write")
    func groupKey() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let a = try await Self.populate(app.client, dealer: tenants.dealerA.uuidString, key: tenants.keyA, seed: 11)
            let b = try await Self.populate(app.client, dealer: tenants.dealerB.uuidString, key: tenants.keyB, seed: 12)
            let groupKey = try await Tenants.key(app.services, group: tenants.groupID, dealer: nil, role: .crm)

            let all = try await app.client.call(.get, "/v1/customers", key: groupKey)
            #expect(Set(all.ids) == [a.customer, b.customer])
            let onlyA = try await app.client.call(.get, "/v1/customers?dealer_id=\(tenants.dealerA)", key: groupKey)
            #expect(onlyA.ids == [a.customer])
            let readB = try await app.client.call(.get, "/v1/customers/\(b.customer)", key: groupKey)
            #expect(readB.status == .ok)
            let dealers = try await app.client.call(.get, "/v1/dealers", key: groupKey)
            #expect(dealers.items.count == 2)

            let unnamed = try await app.client.call(.post, "/v1/customers", key: groupKey, json: ["kind": "person", "name": "集团线索"])
            #expect(unnamed.status == .unprocessableContent)
            #expect(unnamed.fieldErrors == ["dealer_id"])
            let named = try await app.client.call(
                .post, "/v1/customers", key: groupKey,
                json: ["kind": "person", "name": "集团线索", "dealer_id": tenants.dealerB.uuidString])
            #expect(named.status == .created)
            #expect((named["dealer_id"] as? String)?.lowercased() == tenants.dealerB.uuidString.lowercased())

            // Another group's key sees none of it.
            let other = try await Tenants.make(app.services, groupName: "另一个集团")
            let otherGroupKey = try await Tenants.key(app.services, group: other.groupID, dealer: nil, role: .admin)
            let foreign = try await app.client.call(.get, "/v1/customers", key: otherGroupKey)
            #expect(foreign.ids.isEmpty)
            let foreignRead = try await app.client.call(.get, "/v1/customers/\(a.customer)", key: otherGroupKey)
            #expect(foreignRead.status == .notFound)
            let foreignDealer = try await app.client.call(.get, "/v1/dealers/\(tenants.dealerA)", key: otherGroupKey)
            #expect(foreignDealer.status == .notFound)
        }
    }
}
