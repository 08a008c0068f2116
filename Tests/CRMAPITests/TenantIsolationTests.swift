import CRMClient
import CRMDomain
import CRMTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresClient
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

    static func populate(_ app: TestApp, dealer: String, key: String, seed: Int) async throws -> Records {
        let api = app.api(key)
        let staff = try await api.createStaff(body: .json(.init(name: "顾问\(seed)", function: .sales)))
        #expect(status(of: staff) == .created, "\(staff)")
        let customer = try await api.createCustomer(
            body: .json(.init(
                kind: .person, name: "客户\(seed)", phone: mobile(seed), tags: ["vip"],
                consents: [.init(channel: .sms, status: .granted, source: .showroomForm)])))
        #expect(status(of: customer) == .created, "\(customer)")
        let customerID = try customer.created.body.json.id
        let vehicle = try await api.createVehicle(
            body: .json(.init(vin: vin(seed), plate: "沪A\(seed)", brand: "BMW", owner: .init(customerId: customerID))))
        #expect(status(of: vehicle) == .created, "\(vehicle)")
        let vehicleID = try vehicle.created.body.json.id
        let reading = try await api.addOdometerReading(path: .init(vehicleId: vehicleID), body: .json(.init(km: 1000, source: .serviceVisit)))
        #expect(status(of: reading) == .created, "\(reading)")
        let apiKey = try await api.createApiKey(body: .json(.init(name: "front desk", role: .sales)))
        #expect(status(of: apiKey) == .created, "\(apiKey)")
        return Records(
            dealer: dealer, key: key, customer: customerID, vehicle: vehicleID, staff: try staff.created.body.json.id,
            apiKey: try apiKey.created.body.json.key.id, seed: seed)
    }

    /// Dealers A and B of one group, each populated (seeds 11 and 12), and a key of the group
    /// with `role`.
    static func populatedGroup(_ app: TestApp, role: Role) async throws -> (Tenants, Records, Records, Client) {
        let tenants = try await Tenants.make(app.services)
        let a = try await populate(app, dealer: tenants.dealerA.uuidString, key: tenants.keyA, seed: 11)
        let b = try await populate(app, dealer: tenants.dealerB.uuidString, key: tenants.keyB, seed: 12)
        let group = app.api(try await Tenants.key(app.services, group: tenants.groupID, dealer: nil, role: role))
        return (tenants, a, b, group)
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

            let a = try await Self.populate(app, dealer: dealerA, key: keyA, seed: 1)
            let b = try await Self.populate(app, dealer: dealerB, key: keyB, seed: 2)
            try await Self.assertCannotReach(app, attacker: b, victim: a)
            try await Self.assertCannotReach(app, attacker: a, victim: b)
        }
    }

    /// Every endpoint, called by `attacker` on `victim`'s records: 404 (or a list without them,
    /// or a 422 for naming the dealer), and the victim's records unchanged afterwards.
    static func assertCannotReach(_ app: TestApp, attacker: Records, victim: Records) async throws {
        let api = app.api(attacker.key)
        let ifMatch = "\"1\""
        func expectNotFound(_ call: String, _ output: some Sendable) {
            #expect(status(of: output) == .notFound, "\(call) gave \(status(of: output)): \(output)")
        }
        // Customers and everything under them.
        let customer = victim.customer
        expectNotFound("GET customer", try await api.getCustomer(path: .init(customerId: customer)))
        expectNotFound(
            "PATCH customer", try await api.updateCustomer(path: .init(customerId: customer), headers: .init(ifMatch: ifMatch), body: .json(.init(notes: "x"))))
        expectNotFound("GET customer 360", try await api.getCustomer360(path: .init(customerId: customer)))
        expectNotFound("GET customer audit", try await api.listCustomerAudit(path: .init(customerId: customer)))
        expectNotFound("POST customer erasure", try await api.eraseCustomer(path: .init(customerId: customer)))
        expectNotFound("GET customer consents", try await api.listConsents(path: .init(customerId: customer)))
        expectNotFound(
            "POST customer consents",
            try await api.changeConsent(path: .init(customerId: customer), body: .json(.init(channel: .email, status: .granted, source: .website))))
        expectNotFound("GET customer consent history", try await api.listConsentHistory(path: .init(customerId: customer)))
        expectNotFound("DELETE customer", try await api.deleteCustomer(path: .init(customerId: customer), headers: .init(ifMatch: ifMatch)))
        // Vehicles, ownership, odometer.
        let vehicle = victim.vehicle
        expectNotFound("GET vehicle", try await api.getVehicle(path: .init(vehicleId: vehicle)))
        expectNotFound(
            "PATCH vehicle", try await api.updateVehicle(path: .init(vehicleId: vehicle), headers: .init(ifMatch: ifMatch), body: .json(.init(colour: "红"))))
        expectNotFound("GET vehicle ownerships", try await api.listOwnerships(path: .init(vehicleId: vehicle)))
        expectNotFound(
            "POST vehicle ownerships", try await api.transferOwnership(path: .init(vehicleId: vehicle), body: .json(.init(customerId: customer))))
        expectNotFound("GET vehicle odometer readings", try await api.listOdometerReadings(path: .init(vehicleId: vehicle)))
        expectNotFound(
            "POST vehicle odometer readings",
            try await api.addOdometerReading(path: .init(vehicleId: vehicle), body: .json(.init(km: 2000, source: .customer))))
        expectNotFound("DELETE vehicle", try await api.deleteVehicle(path: .init(vehicleId: vehicle), headers: .init(ifMatch: ifMatch)))
        // Staff, keys, the dealer itself.
        expectNotFound("GET staff", try await api.getStaff(path: .init(staffId: victim.staff)))
        expectNotFound(
            "PATCH staff", try await api.updateStaff(path: .init(staffId: victim.staff), headers: .init(ifMatch: ifMatch), body: .json(.init(active: false))))
        expectNotFound("GET api key", try await api.getApiKey(path: .init(keyId: victim.apiKey)))
        expectNotFound("POST api key revocation", try await api.revokeApiKey(path: .init(keyId: victim.apiKey)))
        expectNotFound("GET dealer", try await api.getDealer(path: .init(dealerId: victim.dealer)))
        expectNotFound(
            "PATCH dealer", try await api.updateDealer(path: .init(dealerId: victim.dealer), headers: .init(ifMatch: ifMatch), body: .json(.init(name: "taken"))))

        // Lists never contain the victim's rows, whatever the filter.
        func customerIDs(_ output: Operations.ListCustomers.Output) -> [String] { (try? output.ok.body.json.data.map(\.id)) ?? [] }
        func vehicleIDs(_ output: Operations.ListVehicles.Output) -> [String] { (try? output.ok.body.json.data.map(\.id)) ?? [] }
        let lists: [(String, () async throws -> (HTTPResponse.Status, [String]))] = [
            ("customers", { let o = try await api.listCustomers(); return (status(of: o), customerIDs(o)) }),
            ("customers by tag", { let o = try await api.listCustomers(query: .init(tag: "vip")); return (status(of: o), customerIDs(o)) }),
            ("customers by phone", { let o = try await api.listCustomers(query: .init(phone: mobile(victim.seed))); return (status(of: o), customerIDs(o)) }),
            ("customers by name", { let o = try await api.listCustomers(query: .init(name: "客户")); return (status(of: o), customerIDs(o)) }),
            ("customers by VIN", { let o = try await api.listCustomers(query: .init(vin: vin(victim.seed))); return (status(of: o), customerIDs(o)) }),
            ("customers by plate", { let o = try await api.listCustomers(query: .init(plate: "沪A\(victim.seed)")); return (status(of: o), customerIDs(o)) }),
            ("vehicles by VIN", { let o = try await api.listVehicles(query: .init(vin: vin(victim.seed))); return (status(of: o), vehicleIDs(o)) }),
            ("vehicles", { let o = try await api.listVehicles(); return (status(of: o), vehicleIDs(o)) }),
            ("vehicles by brand", { let o = try await api.listVehicles(query: .init(brand: "BMW")); return (status(of: o), vehicleIDs(o)) }),
            ("vehicles by owner", { let o = try await api.listVehicles(query: .init(customerId: victim.customer)); return (status(of: o), vehicleIDs(o)) }),
            ("staff", { let o = try await api.listStaff(); return (status(of: o), (try? o.ok.body.json.data.map(\.id)) ?? []) }),
            ("api keys", { let o = try await api.listApiKeys(); return (status(of: o), (try? o.ok.body.json.data.map(\.id)) ?? []) }),
            ("dealers", { let o = try await api.listDealers(); return (status(of: o), (try? o.ok.body.json.data.map(\.id)) ?? []) }),
        ]
        for (list, read) in lists {
            let (listed, ids) = try await read()
            #expect(listed == .ok, "\(list): \(listed)")
            let leaked = Set(ids).intersection([victim.customer, victim.vehicle, victim.staff, victim.apiKey, victim.dealer])
            #expect(leaked.isEmpty, "\(list) lists \(leaked)")
        }
        // Naming the other dealer is refused without saying whether it exists.
        let narrowed = try await api.listCustomers(query: .init(dealerId: victim.dealer))
        #expect(status(of: narrowed) == .unprocessableContent)
        let planted = try await api.createCustomer(body: .json(.init(dealerId: victim.dealer, kind: .person, name: "x")))
        #expect(status(of: planted) == .unprocessableContent, "\(planted)")
        let borrowed = try await api.createVehicle(
            body: .json(.init(vin: vin(99), brand: "BMW", owner: .init(customerId: victim.customer))))
        #expect(status(of: borrowed) == .unprocessableContent, "\(borrowed)")
        let staffElsewhere = try await api.createStaff(body: .json(.init(dealerId: victim.dealer, name: "x", function: .sales)))
        #expect(status(of: staffElsewhere) == .unprocessableContent)

        // The victim's records are untouched.
        let owner = app.api(victim.key)
        let untouched = try await owner.getCustomer(path: .init(customerId: victim.customer))
        #expect(status(of: untouched) == .ok)
        #expect(try untouched.ok.body.json.version == 1)
        #expect(try untouched.ok.body.json.notes == nil)
        let vehicleRead = try await owner.getVehicle(path: .init(vehicleId: victim.vehicle)).ok.body.json
        #expect(vehicleRead.version == 1)
        let owners = try await owner.listOwnerships(path: .init(vehicleId: victim.vehicle)).ok.body.json
        #expect(owners.data.count == 1)
        let readings = try await owner.listOdometerReadings(path: .init(vehicleId: victim.vehicle)).ok.body.json
        #expect(readings.data.count == 1)
        let consents = try await owner.listConsents(path: .init(customerId: victim.customer)).ok.body.json
        #expect(consents.data.count == 1)
        let staff = try await owner.getStaff(path: .init(staffId: victim.staff)).ok.body.json
        #expect(staff.active == true)
        let apiKey = try await owner.getApiKey(path: .init(keyId: victim.apiKey)).ok.body.json
        #expect(apiKey.revokedAt == nil)
        let dealer = try await owner.getDealer(path: .init(dealerId: victim.dealer)).ok.body.json
        #expect(dealer.version == 1)
    }

    @Test("a group's list pages are its dealers' pages merged: every row once and in order, each dealer read through its own index")
    func groupPagesMergeDealers() async throws {
        try await withApp(environment: ["DB_POOL_SIZE": "1", "DB_POOL_MIN": "0"]) { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            // 3,000 customers of dealer A and 2,000 of B, interleaved in time, two at each instant
            // (the id breaks the tie), with statistics.
            try await app.pool.execute(
                """
                INSERT INTO customers (dealer_id, id, kind, name, created_at, updated_at)
                SELECT CASE WHEN n % 5 < 3 THEN \(tenants.dealerA) ELSE \(tenants.dealerB) END, gen_random_uuid(), 'person',
                       '客户' || n, timestamptz '2026-11-30 12:00+08' - (n / 2) * interval '1 minute', now()
                FROM generate_series(1, 5000) AS n
                """)
            try await app.pool.execute("ANALYZE customers")
            let expected = try await app.pool.query(
                """
                SELECT id FROM customers WHERE dealer_id IN (\(tenants.dealerA), \(tenants.dealerB)) AND deleted_at IS NULL
                ORDER BY created_at DESC, id DESC
                """
            ).map { try $0.decode(0, as: UUID.self).lowercasedText }
            let groupKey = app.api(try await Tenants.key(app.services, group: tenants.groupID, dealer: nil, role: .crm))
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await groupKey.listCustomers(query: .init(limit: 97, cursor: cursor)).ok.body.json
                seen += page.data.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen.count == 5000)
            #expect(seen == expected)
            // Before, the group's page joined every customer of the group to its dealers and sorted
            // them all, page after page (0.79 s a page over 1.28M leads).
            let explained = try await app.keptPlan(
                ofStatementLike: "%FROM dealers scope_dealer CROSS JOIN LATERAL (%FROM customers c%c.deleted_at IS NULL ORDER BY c.created_at DESC%",
                arguments: ["'\(tenants.groupID.lowercasedText)'"])
            #expect(explained.contains("\"customers_created\""), "\(explained)")
            #expect(!explained.contains("\"Seq Scan\""), "\(explained)")
        }
    }

    @Test("a group key's lists, every one and each ordering, hold both dealers' rows")
    func groupListsHoldBothDealers() async throws {
        try await withApp { (app: TestApp) in
            let (tenants, a, b, group) = try await Self.populatedGroup(app, role: .admin)
            let leadA = try await app.api(tenants.keyA).createLead(body: .json(leadBody(phone: mobile(21)))).created.body.json.id
            let leadB = try await app.api(tenants.keyB).createLead(body: .json(leadBody(phone: mobile(22)))).created.body.json.id

            #expect(Set(try await group.listLeads().ok.body.json.data.map(\.id)) == [leadA, leadB])
            #expect(Set(try await group.listVehicles().ok.body.json.data.map(\.id)) == [a.vehicle, b.vehicle])
            #expect(Set(try await group.listCustomers(query: .init(name: "客户", kind: .person)).ok.body.json.data.map(\.id)) == [a.customer, b.customer])
            // The plate search reads each dealer's current owners in that dealer's page.
            #expect(try await group.listCustomers(query: .init(plate: "沪A12")).ok.body.json.data.map(\.id) == [b.customer])
            // The lists with no rows here still run their statements (each branch of each).
            #expect(status(of: try await group.listLeads(query: .init(overdue: true))) == .ok)
            #expect(status(of: try await group.listLeads(query: .init(status: .new, channel: .showroom))) == .ok)
            #expect(status(of: try await group.listComplaints(query: .init(severity: .critical, escalated: .oemGroup))) == .ok)
            #expect(status(of: try await group.listCallbacks()) == .ok)
            #expect(status(of: try await group.listCallbacks(query: .init(due: true))) == .ok)
            #expect(status(of: try await group.listCallTasks()) == .ok)
            #expect(status(of: try await group.listCallTasks(query: .init(due: true))) == .ok)
            #expect(status(of: try await group.listReminders(query: .init(status: .pending))) == .ok)
            #expect(status(of: try await group.listServiceVisits()) == .ok)
        }
    }

    @Test("a group key reads across its dealers, narrows with dealer_id, and must name the dealer to write")
    func groupKey() async throws {
        try await withApp { (app: TestApp) in
            let (tenants, a, b, groupKey) = try await Self.populatedGroup(app, role: .crm)

            let all = try await groupKey.listCustomers().ok.body.json
            #expect(Set(all.data.map(\.id)) == [a.customer, b.customer])
            let onlyA = try await groupKey.listCustomers(query: .init(dealerId: tenants.dealerA.uuidString)).ok.body.json
            #expect(onlyA.data.map(\.id) == [a.customer])
            let readB = try await groupKey.getCustomer(path: .init(customerId: b.customer))
            #expect(status(of: readB) == .ok)
            let dealers = try await groupKey.listDealers().ok.body.json
            #expect(dealers.data.count == 2)

            let unnamed = try await groupKey.createCustomer(body: .json(.init(kind: .person, name: "集团线索")))
            #expect(status(of: unnamed) == .unprocessableContent)
            #expect(try unnamed.unprocessableContent.problem.fields == ["dealer_id"])
            let named = try await groupKey.createCustomer(
                body: .json(.init(dealerId: tenants.dealerB.uuidString, kind: .person, name: "集团线索")))
            #expect(status(of: named) == .created)
            #expect(try named.created.body.json.dealerId.lowercased() == tenants.dealerB.uuidString.lowercased())

            // Another group's key sees none of it.
            let other = try await Tenants.make(app.services, groupName: "另一个集团")
            let otherGroupKey = app.api(try await Tenants.key(app.services, group: other.groupID, dealer: nil, role: .admin))
            let foreign = try await otherGroupKey.listCustomers().ok.body.json
            #expect(foreign.data.isEmpty)
            let foreignRead = try await otherGroupKey.getCustomer(path: .init(customerId: a.customer))
            #expect(status(of: foreignRead) == .notFound)
            let foreignDealer = try await otherGroupKey.getDealer(path: .init(dealerId: tenants.dealerA.uuidString))
            #expect(status(of: foreignDealer) == .notFound)
        }
    }
}
