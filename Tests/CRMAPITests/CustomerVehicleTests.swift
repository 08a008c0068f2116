import CRMClient
import CRMTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
@testable import PostgresClient
import Testing

@Suite("Customers, consent, audit, erasure, vehicles, 360")
struct CustomerVehicleTests {
    @Test("phones are normalised to E.164; one customer per phone per dealer; the 409 names the existing one")
    func duplicatePhone() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let admin = app.api(tenants.keyA)
            let first = try await admin.createCustomer(body: .json(.init(kind: .person, name: "周杰", phone: "138-1234-5678"))).created.body.json
            #expect(first.phone == "+8613812345678")
            for spelling in ["13812345678", "+86 138 1234 5678", "0086 138 1234 5678", "(138) 1234 5678"] {
                let duplicate = try await admin.createCustomer(body: .json(.init(kind: .person, name: "x", phone: spelling)))
                #expect(status(of: duplicate) == .conflict, "\(spelling)")
                #expect(try duplicate.conflict.problem.existingId == first.id)
            }
            // Another dealer may have its own customer with that number.
            let elsewhere = try await app.api(tenants.keyB).createCustomer(body: .json(.init(kind: .person, name: "周杰", phone: "13812345678")))
            #expect(status(of: elsewhere) == .created)
            // Changing a phone onto a taken one is a 409 too.
            let created = try await admin.createCustomer(
                body: .json(.init(kind: .company, name: "上海出租", phone: "+44 20 7946 0958", fleetCategory: .rental)))
            #expect(status(of: created) == .created)
            let other = try created.created.body.json
            #expect(other.phone == "+442079460958")
            let clash = try await admin.updateCustomer(
                path: .init(customerId: other.id), headers: .init(ifMatch: "\"1\""), body: .json(.init(phone: "13812345678")))
            #expect(status(of: clash) == .conflict)
            #expect(try clash.conflict.problem.existingId == first.id)
            // Search by any spelling of the number.
            let found = try await admin.listCustomers(query: .init(phone: "+86 138-1234-5678")).ok.body.json
            #expect(found.data.map(\.id) == [first.id])
            let bad = try await admin.listCustomers(query: .init(phone: "abc"))
            #expect(status(of: bad) == .unprocessableContent)
        }
    }

    @Test("search by name prefix (Chinese and Latin, case-insensitive), plate, VIN, tag")
    func search() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let admin = app.api(tenants.keyA)
            var ids: [String: String] = [:]
            for (index, name) in ["王小明", "王小红", "王大锤", "汪峰", "Wang Fang", "wang li"].enumerated() {
                let created = try await admin.createCustomer(body: .json(.init(kind: .person, name: name, tags: index % 2 == 0 ? ["vip"] : [])))
                ids[name] = try created.created.body.json.id
            }
            func names(_ query: String) async throws -> [String] {
                try await admin.listCustomers(query: .init(name: query)).ok.body.json.data.map(\.name)
            }
            #expect(try await names("王小") == ["王小明", "王小红"].sorted())
            #expect(try await names("王") == ["王大锤", "王小明", "王小红"].sorted())
            #expect(Set(try await names("WANG")) == ["Wang Fang", "wang li"])
            #expect(try await names("汪").count == 1)
            let vip = try await admin.listCustomers(query: .init(tag: "vip")).ok.body.json
            #expect(vip.data.count == 3)

            let owner = ids["王小明"] ?? ""
            let registered = try await admin.createVehicle(
                body: .json(.init(vin: vin(77).lowercased(), plate: "沪A·12345", brand: "BMW", owner: .init(customerId: owner))))
            #expect(status(of: registered) == .created, "\(registered)")
            let vehicle = try registered.created.body.json
            #expect(vehicle.vin == vin(77))
            #expect(vehicle.plate == "沪A12345")
            #expect(try await admin.listCustomers(query: .init(plate: "沪a 12345")).ok.body.json.data.map(\.id) == [owner])
            #expect(try await admin.listCustomers(query: .init(vin: vin(77).lowercased())).ok.body.json.data.map(\.id) == [owner])
            // After a change of owner the plate finds the new owner only.
            let buyer = ids["汪峰"] ?? ""
            let transfer = try await admin.transferOwnership(path: .init(vehicleId: vehicle.id), body: .json(.init(customerId: buyer)))
            #expect(status(of: transfer) == .created, "\(transfer)")
            #expect(try await admin.listCustomers(query: .init(plate: "沪A12345")).ok.body.json.data.map(\.id) == [buyer])
            let history = try await admin.listOwnerships(path: .init(vehicleId: vehicle.id)).ok.body.json.data
            #expect(history.count == 2)
            #expect(history.first?.customerId == buyer)
            #expect(history.first?.ownedTo == nil)
            #expect(history.last?.ownedTo != nil)
            let again = try await admin.transferOwnership(path: .init(vehicleId: vehicle.id), body: .json(.init(customerId: buyer)))
            #expect(status(of: again) == .conflict)
            // The audit trail names both owners the way every id of the API is written.
            let trail = try await admin.listCustomerAudit(path: .init(customerId: buyer)).ok.body.json.data
            let ownerChange = trail.first { $0.entity == "vehicle" }?.changes.first { $0.field == "owner" }
            #expect(ownerChange?.old == owner)
            #expect(ownerChange?.new == buyer)
        }
    }

    @Test("a customer's initial consents cost no round trip of their own: they travel with the commit")
    func consentsWithTheCommit() async throws {
        try await withApp(environment: ["DB_POOL_SIZE": "1", "DB_POOL_MIN": "0"]) { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let admin = app.api(tenants.keyA)
            let consents: [Components.Schemas.InitialConsent] = [
                .init(channel: .sms, status: .granted, source: .showroomForm), .init(channel: .wechat, status: .granted, source: .wechat),
                .init(channel: .phone, status: .withdrawn, source: .phoneCall),
            ]
            /// Round trips of the pool's one connection while `body` runs.
            func roundTrips(_ body: () async throws -> Void) async throws -> Int {
                let connection = try await app.pool.acquire()
                let before = connection.roundTrips.load(ordering: .relaxed)
                app.pool.release(connection)
                try await body()
                let after = try await app.pool.acquire()
                defer { app.pool.release(after) }
                #expect(after === connection, "the pool of one kept its connection")
                return after.roundTrips.load(ordering: .relaxed) - before
            }
            // Every statement prepared once first.
            _ = try await admin.createCustomer(body: .json(.init(kind: .person, name: "预热", phone: "13900000001", consents: consents)))
                .created
            let without = try await roundTrips {
                _ = try await admin.createCustomer(body: .json(.init(kind: .person, name: "张伟", phone: "13900000002"))).created
            }
            let with = try await roundTrips {
                _ = try await admin.createCustomer(
                    body: .json(.init(kind: .person, name: "李娜", phone: "13900000003", consents: consents))).created
            }
            #expect(with == without, "with three consents \(with) round trips, without \(without)")
            // And they were stored: current state and history.
            let customers = try await admin.listCustomers(query: .init(phone: "13900000003")).ok.body.json.data
            let id = try #require(customers.first?.id)
            let current = try await admin.listConsents(path: .init(customerId: id)).ok.body.json.data
            #expect(Dictionary(uniqueKeysWithValues: current.map { ($0.channel, $0.status) }) == [.sms: .granted, .wechat: .granted, .phone: .withdrawn])
            #expect(try await admin.listConsentHistory(path: .init(customerId: id)).ok.body.json.data.count == 3)
        }
    }

    @Test("a page of customers is planned once per connection: its LIMIT is a number in the SQL, so PostgreSQL keeps a generic plan")
    func pageKeepsItsPlan() async throws {
        try await withApp(environment: ["DB_POOL_SIZE": "1", "DB_POOL_MIN": "0"]) { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let admin = app.api(tenants.keyA)
            let first = try await admin.createCustomer(body: .json(.init(kind: .person, name: "王芳", phone: "13900001001"))).created.body.json
            // A dealer's worth of customers, with statistics, so that the planner weighs a page
            // against the whole table.
            try await app.pool.execute(
                """
                INSERT INTO customers (dealer_id, id, kind, name, phone)
                SELECT dealer_id, gen_random_uuid(), 'person', '客户' || n, '+86137' || lpad(n::text, 8, '0')
                FROM customers, generate_series(1, 5000) AS n WHERE id = \(UUID(uuidString: first.id)!)
                """)
            try await app.pool.execute("ANALYZE customers")
            for _ in 1...10 {
                #expect(try await admin.listCustomers(query: .init(limit: 2)).ok.body.json.data.count == 2)
            }
            // The pool's one connection prepared the page's statement; its plan-cache counters say
            // whether PostgreSQL planned it anew for each execution (a bound LIMIT makes the generic
            // plan assume a tenth of the table, so every execution got a custom plan).
            let plans = try await app.plans(
                ofStatementLike: "SELECT c.dealer_id, c.id,%FROM customers c%ORDER BY c.created_at DESC, c.id DESC LIMIT%")
            #expect(plans.statement.hasSuffix("LIMIT 3"), "\(plans.statement.suffix(60))")
            #expect(plans.custom <= 5, "planned for each execution")
            #expect(plans.generic >= 5)
        }
    }

    @Test("consent: current state per channel and its full history, who and how; an erased customer cannot grant")
    func consent() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let admin = app.api(tenants.keyA)
            let customer = try await admin.createCustomer(
                body: .json(.init(
                    kind: .person, name: "赵敏",
                    consents: [.init(channel: .sms, status: .granted, source: .showroomForm), .init(channel: .wechat, status: .granted, source: .wechat)]))
            ).created.body.json
            let path = Operations.ChangeConsent.Input.Path(customerId: customer.id)
            let withdrawn = try await admin.changeConsent(
                path: path, body: .json(.init(channel: .sms, status: .withdrawn, source: .phoneCall, note: "客户来电要求")))
            #expect(status(of: withdrawn) == .created, "\(withdrawn)")
            // A back-dated grant goes into the history but does not override the later withdrawal.
            let backdated = try await admin.changeConsent(
                path: path, body: .json(.init(channel: .sms, status: .granted, source: ._import, effectiveAt: instant("2020-01-01T00:00:00Z"))))
            #expect(status(of: backdated) == .created)
            let current = try await admin.listConsents(path: .init(customerId: customer.id)).ok.body.json.data
            let states = Dictionary(uniqueKeysWithValues: current.map { ($0.channel, $0.status) })
            #expect(states == [.sms: .withdrawn, .wechat: .granted])
            let history = try await admin.listConsentHistory(path: .init(customerId: customer.id)).ok.body.json.data
            #expect(history.count == 4)
            #expect(history.allSatisfy { $0.actorKeyId != nil })
            let future = try await admin.changeConsent(
                path: path, body: .json(.init(channel: .email, status: .granted, source: .website, effectiveAt: instant("2999-01-01T00:00:00Z"))))
            #expect(status(of: future) == .unprocessableContent)
        }
    }

    @Test("the audit trail records contact-field changes old -> new, consent and deletion, with who and when")
    func auditTrail() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let admin = app.api(tenants.keyA)
            let sales = app.api(try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .sales))
            let created = try await sales.createCustomer(
                body: .json(.init(kind: .person, name: "孙丽", phone: mobile(1), address: .init(city: "杭州")))
            ).created.body.json
            _ = try await sales.updateCustomer(
                path: .init(customerId: created.id), headers: .init(ifMatch: "\"1\""), body: .json(.init(phone: mobile(2), occupation: "教师")))
            _ = try await sales.updateCustomer(
                path: .init(customerId: created.id), headers: .init(ifMatch: "\"2\""), body: .json(.init(name: "孙俪", address: .init(city: "上海"))))
            _ = try await sales.changeConsent(
                path: .init(customerId: created.id), body: .json(.init(channel: .phone, status: .granted, source: .phoneCall)))
            let trail = try await admin.listCustomerAudit(path: .init(customerId: created.id))
            #expect(status(of: trail) == .ok)
            let events = try trail.ok.body.json.data
            let actions = events.map(\.action)
            #expect(actions == [.consent, .update, .update, .create])
            let changes = events.flatMap(\.changes)
            #expect(changes.contains(.init(field: "phone", old: "+86" + mobile(1), new: "+86" + mobile(2))))
            #expect(changes.contains(.init(field: "name", old: "孙丽", new: "孙俪")))
            #expect(changes.contains(.init(field: "address", old: "杭州", new: "上海")))
            #expect(!changes.contains { $0.field == "occupation" })
            #expect(events.allSatisfy { $0.actorRole == .sales && $0.requestId != nil })

            _ = try await admin.deleteCustomer(path: .init(customerId: created.id), headers: .init(ifMatch: "\"3\""))
            let afterDelete = try await admin.listCustomerAudit(path: .init(customerId: created.id)).ok.body.json.data
            #expect(afterDelete.first?.action == .delete)
            #expect(afterDelete.first?.actorRole == .admin)
        }
    }

    @Test("erasure wipes personal fields and audit values, withdraws consent, keeps vehicles and history, and is audited")
    func erasure() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let admin = app.api(tenants.keyA)
            let customer = try await admin.createCustomer(
                body: .json(.init(
                    kind: .person, name: "钱多多", phone: mobile(9), email: "qian@example.cn", birthday: "1980-02-29", tags: ["vip"],
                    consents: [.init(channel: .sms, status: .granted, source: .website)]))
            ).created.body.json
            let vehicle = try await admin.createVehicle(
                body: .json(.init(vin: vin(9), brand: "Audi", owner: .init(customerId: customer.id)))
            ).created.body.json
            let erasure = try await admin.eraseCustomer(path: .init(customerId: customer.id))
            #expect(status(of: erasure) == .ok, "\(erasure)")
            let erased = try erasure.ok.body.json
            #expect(erased.name == "(erased)")
            #expect(erased.phone == nil && erased.birthday == nil && erased.email == nil)
            #expect(erased.tags.isEmpty)
            #expect(erased.erasedAt != nil)
            // The number is free again; the vehicle and its ownership stay.
            #expect(try await status(of: admin.createCustomer(body: .json(.init(kind: .person, name: "新客户", phone: mobile(9))))) == .created)
            let owned = try await admin.listVehicles(query: .init(customerId: customer.id)).ok.body.json
            #expect(owned.data.map(\.id) == [vehicle.id])
            let consents = try await admin.listConsents(path: .init(customerId: customer.id)).ok.body.json
            #expect(consents.data.first?.status == .withdrawn)
            // Raw: the check is on the whole response text (no old value anywhere in it), which the
            // typed client does not expose.
            let trail = try await app.client.call(.get, "/v1/customers/\(customer.id)/audit", key: tenants.keyA)
            #expect(trail.items.first?["action"] as? String == "erase")
            #expect(!trail.text.contains("钱多多") && !trail.text.contains(mobile(9)))
            let regrant = try await admin.changeConsent(
                path: .init(customerId: customer.id), body: .json(.init(channel: .sms, status: .granted, source: .website)))
            #expect(status(of: regrant) == .conflict)
            let edit = try await admin.updateCustomer(
                path: .init(customerId: customer.id), headers: .init(ifMatch: try erasure.ok.headers.eTag ?? ""), body: .json(.init(name: "复活")))
            #expect(status(of: edit) == .conflict)
        }
    }

    @Test("vehicles: VIN check digit, one VIN per dealer, odometer history never runs backwards, 360 shows the latest reading")
    func vehicles() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let admin = app.api(tenants.keyA)
            let good = vin(123)
            var wrongDigit = Array(good)
            wrongDigit[8] = wrongDigit[8] == "1" ? "2" : "1"
            let rejected = try await admin.createVehicle(body: .json(.init(vin: String(wrongDigit), brand: "BMW")))
            #expect(status(of: rejected) == .unprocessableContent)
            #expect(try rejected.unprocessableContent.problem.fields == ["vin"])
            let letterO = try await admin.createVehicle(body: .json(.init(vin: "LBV3A5109O0000001", brand: "BMW")))
            #expect(status(of: letterO) == .unprocessableContent)

            let customer = try await admin.createCustomer(body: .json(.init(kind: .person, name: "李四"))).created.body.json
            let registered = try await admin.createVehicle(
                body: .json(.init(
                    vin: good, brand: "BMW", series: "5系", model: "530Li", modelYear: 2024, deliveryDate: "2024-03-01", warrantyEnd: "2027-03-01",
                    owner: .init(customerId: customer.id))))
            #expect(status(of: registered) == .created, "\(registered)")
            let vehicle = try registered.created.body.json
            let duplicate = try await admin.createVehicle(body: .json(.init(vin: good, brand: "BMW")))
            #expect(status(of: duplicate) == .conflict)
            #expect(try duplicate.conflict.problem.existingId == vehicle.id)

            let readings = Operations.AddOdometerReading.Input.Path(vehicleId: vehicle.id)
            #expect(
                try await status(of: admin.addOdometerReading(path: readings, body: .json(.init(km: 5000, readOn: "2024-09-01", source: .serviceVisit))))
                    == .created)
            #expect(
                try await status(of: admin.addOdometerReading(path: readings, body: .json(.init(km: 12000, readOn: "2025-03-01", source: .serviceVisit))))
                    == .created)
            let backwards = try await admin.addOdometerReading(path: readings, body: .json(.init(km: 9000, readOn: "2025-06-01", source: .customer)))
            #expect(status(of: backwards) == .unprocessableContent)
            let between = try await admin.addOdometerReading(path: readings, body: .json(.init(km: 15000, readOn: "2024-12-01", source: .customer)))
            #expect(status(of: between) == .unprocessableContent, "above a later reading")
            let future = try await admin.addOdometerReading(path: readings, body: .json(.init(km: 20000, readOn: "2999-01-01", source: .customer)))
            #expect(status(of: future) == .unprocessableContent)
            let list = try await admin.listOdometerReadings(path: .init(vehicleId: vehicle.id)).ok.body.json
            #expect(list.data.map(\.km) == [12000, 5000])

            let view = try await admin.getCustomer360(path: .init(customerId: customer.id))
            #expect(status(of: view) == .ok)
            let vehicles = try view.ok.body.json.vehicles
            #expect(vehicles.count == 1)
            #expect(vehicles.first?.latestOdometer?.km == 12000)
            #expect(vehicles.first?.ownedFrom == "2024-03-01")
            #expect((try? view.ok.body.json.sections) != nil)

            let badWarranty = try await admin.updateVehicle(
                path: .init(vehicleId: vehicle.id), headers: .init(ifMatch: "\"1\""), body: .json(.init(warrantyEnd: "2020-01-01")))
            #expect(status(of: badWarranty) == .unprocessableContent)
            let recall = try await admin.updateVehicle(
                path: .init(vehicleId: vehicle.id), headers: .init(ifMatch: "\"1\""), body: .json(.init(plate: "沪B 88888", openRecall: true)))
            #expect(status(of: recall) == .ok)
            #expect(try recall.ok.body.json.openRecall == true)
            #expect(try await admin.listVehicles(query: .init(openRecall: true)).ok.body.json.data.map(\.id) == [vehicle.id])
        }
    }
}
