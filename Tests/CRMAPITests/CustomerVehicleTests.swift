import CRMTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresClient
import Testing

@Suite("Customers, consent, audit, erasure, vehicles, 360")
struct CustomerVehicleTests {
    @Test("phones are normalised to E.164; one customer per phone per dealer; the 409 names the existing one")
    func duplicatePhone() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let first = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "周杰", "phone": "138-1234-5678"])
            #expect(first["phone"] as? String == "+8613812345678")
            for spelling in ["13812345678", "+86 138 1234 5678", "0086 138 1234 5678", "(138) 1234 5678"] {
                let duplicate = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "x", "phone": spelling])
                #expect(duplicate.status == .conflict, "\(spelling)")
                #expect(duplicate["existing_id"] as? String == first.id)
            }
            // Another dealer may have its own customer with that number.
            let elsewhere = try await app.client.call(.post, "/v1/customers", key: tenants.keyB, json: ["kind": "person", "name": "周杰", "phone": "13812345678"])
            #expect(elsewhere.status == .created)
            // Changing a phone onto a taken one is a 409 too.
            let other = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: ["kind": "company", "name": "上海出租", "phone": "+44 20 7946 0958", "fleet_category": "rental"])
            #expect(other.status == .created)
            #expect(other["phone"] as? String == "+442079460958")
            let clash = try await app.client.call(.patch, "/v1/customers/\(other.id)", key: tenants.keyA, json: ["phone": "13812345678"], headers: ["If-Match": "\"1\""])
            #expect(clash.status == .conflict)
            #expect(clash["existing_id"] as? String == first.id)
            // Search by any spelling of the number.
            let found = try await app.client.call(.get, "/v1/customers?phone=\(q("+86 138-1234-5678"))", key: tenants.keyA)
            #expect(found.ids == [first.id])
            let bad = try await app.client.call(.get, "/v1/customers?phone=abc", key: tenants.keyA)
            #expect(bad.status == .unprocessableContent)
        }
    }

    @Test("search by name prefix (Chinese and Latin, case-insensitive), plate, VIN, tag")
    func search() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            var ids: [String: String] = [:]
            for (index, name) in ["王小明", "王小红", "王大锤", "汪峰", "Wang Fang", "wang li"].enumerated() {
                let created = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": name, "tags": index % 2 == 0 ? ["vip"] : []])
                ids[name] = created.id
            }
            func names(_ query: String) async throws -> [String] {
                try await app.client.call(.get, "/v1/customers?name=\(q(query))", key: tenants.keyA).items.compactMap { $0["name"] as? String }
            }
            #expect(try await names("王小") == ["王小明", "王小红"].sorted())
            #expect(try await names("王") == ["王大锤", "王小明", "王小红"].sorted())
            #expect(Set(try await names("WANG")) == ["Wang Fang", "wang li"])
            #expect(try await names("汪").count == 1)
            let vip = try await app.client.call(.get, "/v1/customers?tag=vip", key: tenants.keyA)
            #expect(vip.ids.count == 3)

            let owner = ids["王小明"] ?? ""
            let vehicle = try await app.client.call(.post, "/v1/vehicles", key: tenants.keyA, json: ["vin": vin(77).lowercased(), "plate": "沪A·12345", "brand": "BMW", "owner": ["customer_id": owner]])
            #expect(vehicle.status == .created, "\(vehicle.text)")
            #expect(vehicle["vin"] as? String == vin(77))
            #expect(vehicle["plate"] as? String == "沪A12345")
            #expect(try await app.client.call(.get, "/v1/customers?plate=\(q("沪a 12345"))", key: tenants.keyA).ids == [owner])
            #expect(try await app.client.call(.get, "/v1/customers?vin=\(vin(77).lowercased())", key: tenants.keyA).ids == [owner])
            // After a change of owner the plate finds the new owner only.
            let buyer = ids["汪峰"] ?? ""
            let transfer = try await app.client.call(.post, "/v1/vehicles/\(vehicle.id)/ownerships", key: tenants.keyA, json: ["customer_id": buyer])
            #expect(transfer.status == .created, "\(transfer.text)")
            #expect(try await app.client.call(.get, "/v1/customers?plate=\(q("沪A12345"))", key: tenants.keyA).ids == [buyer])
            let history = try await app.client.call(.get, "/v1/vehicles/\(vehicle.id)/ownerships", key: tenants.keyA)
            #expect(history.items.count == 2)
            #expect(history.items.first?["customer_id"] as? String == buyer)
            #expect(history.items.first?["owned_to"] == nil)
            #expect(history.items.last?["owned_to"] != nil)
            let again = try await app.client.call(.post, "/v1/vehicles/\(vehicle.id)/ownerships", key: tenants.keyA, json: ["customer_id": buyer])
            #expect(again.status == .conflict)
        }
    }

    @Test("consent: current state per channel and its full history, who and how; an erased customer cannot grant")
    func consent() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let customer = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA,
                json: ["kind": "person", "name": "赵敏", "consents": [["channel": "sms", "status": "granted", "source": "showroom_form"], ["channel": "wechat", "status": "granted", "source": "wechat"]]])
            let path = "/v1/customers/\(customer.id)/consents"
            let withdrawn = try await app.client.call(.post, path, key: tenants.keyA, json: ["channel": "sms", "status": "withdrawn", "source": "phone_call", "note": "客户来电要求"])
            #expect(withdrawn.status == .created, "\(withdrawn.text)")
            // A back-dated grant goes into the history but does not override the later withdrawal.
            let backdated = try await app.client.call(
                .post, path, key: tenants.keyA, json: ["channel": "sms", "status": "granted", "source": "import", "effective_at": "2020-01-01T00:00:00Z"])
            #expect(backdated.status == .created)
            let current = try await app.client.call(.get, path, key: tenants.keyA)
            let states = Dictionary(uniqueKeysWithValues: current.items.map { ($0["channel"] as? String ?? "", $0["status"] as? String ?? "") })
            #expect(states == ["sms": "withdrawn", "wechat": "granted"])
            let history = try await app.client.call(.get, "\(path)/history", key: tenants.keyA)
            #expect(history.items.count == 4)
            #expect(history.items.allSatisfy { $0["actor_key_id"] != nil })
            let future = try await app.client.call(.post, path, key: tenants.keyA, json: ["channel": "email", "status": "granted", "source": "website", "effective_at": "2999-01-01T00:00:00Z"])
            #expect(future.status == .unprocessableContent)
        }
    }

    @Test("the audit trail records contact-field changes old -> new, consent and deletion, with who and when")
    func auditTrail() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let sales = try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .sales)
            let created = try await app.client.call(.post, "/v1/customers", key: sales, json: ["kind": "person", "name": "孙丽", "phone": mobile(1), "address": ["city": "杭州"]])
            _ = try await app.client.call(.patch, "/v1/customers/\(created.id)", key: sales, json: ["phone": mobile(2), "occupation": "教师"], headers: ["If-Match": "\"1\""])
            _ = try await app.client.call(.patch, "/v1/customers/\(created.id)", key: sales, json: ["name": "孙俪", "address": ["city": "上海"]], headers: ["If-Match": "\"2\""])
            _ = try await app.client.call(.post, "/v1/customers/\(created.id)/consents", key: sales, json: ["channel": "phone", "status": "granted", "source": "phone_call"])
            let trail = try await app.client.call(.get, "/v1/customers/\(created.id)/audit", key: tenants.keyA)
            #expect(trail.status == .ok)
            let actions = trail.items.compactMap { $0["action"] as? String }
            #expect(actions == ["consent", "update", "update", "create"])
            let changes = trail.items.flatMap { ($0["changes"] as? [[String: String]]) ?? [] }
            #expect(changes.contains(["field": "phone", "old": "+86" + mobile(1), "new": "+86" + mobile(2)]))
            #expect(changes.contains(["field": "name", "old": "孙丽", "new": "孙俪"]))
            #expect(changes.contains(["field": "address", "old": "杭州", "new": "上海"]))
            #expect(!changes.contains { $0["field"] == "occupation" })
            #expect(trail.items.allSatisfy { $0["actor_role"] as? String == "sales" && $0["request_id"] != nil })

            _ = try await app.client.call(.delete, "/v1/customers/\(created.id)", key: tenants.keyA, headers: ["If-Match": "\"3\""])
            let afterDelete = try await app.client.call(.get, "/v1/customers/\(created.id)/audit", key: tenants.keyA)
            #expect(afterDelete.items.first?["action"] as? String == "delete")
            #expect(afterDelete.items.first?["actor_role"] as? String == "admin")
        }
    }

    @Test("erasure wipes personal fields and audit values, withdraws consent, keeps vehicles and history, and is audited")
    func erasure() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let customer = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA,
                json: ["kind": "person", "name": "钱多多", "phone": mobile(9), "birthday": "1980-02-29", "email": "qian@example.cn",
                       "tags": ["vip"], "consents": [["channel": "sms", "status": "granted", "source": "website"]]])
            let vehicle = try await app.client.call(.post, "/v1/vehicles", key: tenants.keyA, json: ["vin": vin(9), "brand": "Audi", "owner": ["customer_id": customer.id]])
            let erased = try await app.client.call(.post, "/v1/customers/\(customer.id)/erasure", key: tenants.keyA)
            #expect(erased.status == .ok, "\(erased.text)")
            #expect(erased["name"] as? String == "(erased)")
            #expect(erased["phone"] == nil && erased["birthday"] == nil && erased["email"] == nil)
            #expect((erased["tags"] as? [String])?.isEmpty == true)
            #expect(erased["erased_at"] != nil)
            // The number is free again; the vehicle and its ownership stay.
            #expect(try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "新客户", "phone": mobile(9)]).status == .created)
            let owned = try await app.client.call(.get, "/v1/vehicles?customer_id=\(customer.id)", key: tenants.keyA)
            #expect(owned.ids == [vehicle.id])
            let consents = try await app.client.call(.get, "/v1/customers/\(customer.id)/consents", key: tenants.keyA)
            #expect(consents.items.first?["status"] as? String == "withdrawn")
            let trail = try await app.client.call(.get, "/v1/customers/\(customer.id)/audit", key: tenants.keyA)
            #expect(trail.items.first?["action"] as? String == "erase")
            #expect(!trail.text.contains("钱多多") && !trail.text.contains(mobile(9)))
            let regrant = try await app.client.call(.post, "/v1/customers/\(customer.id)/consents", key: tenants.keyA, json: ["channel": "sms", "status": "granted", "source": "website"])
            #expect(regrant.status == .conflict)
            let edit = try await app.client.call(.patch, "/v1/customers/\(customer.id)", key: tenants.keyA, json: ["name": "复活"], headers: ["If-Match": erased.etag ?? ""])
            #expect(edit.status == .conflict)
        }
    }

    @Test("vehicles: VIN check digit, one VIN per dealer, odometer history never runs backwards, 360 shows the latest reading")
    func vehicles() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let good = vin(123)
            var wrongDigit = Array(good)
            wrongDigit[8] = wrongDigit[8] == "1" ? "2" : "1"
            let rejected = try await app.client.call(.post, "/v1/vehicles", key: tenants.keyA, json: ["vin": String(wrongDigit), "brand": "BMW"])
            #expect(rejected.status == .unprocessableContent)
            #expect(rejected.fieldErrors == ["vin"])
            let letterO = try await app.client.call(.post, "/v1/vehicles", key: tenants.keyA, json: ["vin": "LBV3A5109O0000001", "brand": "BMW"])
            #expect(letterO.status == .unprocessableContent)

            let customer = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "李四"])
            let vehicle = try await app.client.call(
                .post, "/v1/vehicles", key: tenants.keyA,
                json: ["vin": good, "brand": "BMW", "series": "5系", "model": "530Li", "model_year": 2024, "delivery_date": "2024-03-01", "warranty_end": "2027-03-01", "owner": ["customer_id": customer.id]])
            #expect(vehicle.status == .created, "\(vehicle.text)")
            let duplicate = try await app.client.call(.post, "/v1/vehicles", key: tenants.keyA, json: ["vin": good, "brand": "BMW"])
            #expect(duplicate.status == .conflict)
            #expect(duplicate["existing_id"] as? String == vehicle.id)

            let readings = "/v1/vehicles/\(vehicle.id)/odometer-readings"
            #expect(try await app.client.call(.post, readings, key: tenants.keyA, json: ["km": 5000, "read_on": "2024-09-01", "source": "service_visit"]).status == .created)
            #expect(try await app.client.call(.post, readings, key: tenants.keyA, json: ["km": 12000, "read_on": "2025-03-01", "source": "service_visit"]).status == .created)
            let backwards = try await app.client.call(.post, readings, key: tenants.keyA, json: ["km": 9000, "read_on": "2025-06-01", "source": "customer"])
            #expect(backwards.status == .unprocessableContent)
            let between = try await app.client.call(.post, readings, key: tenants.keyA, json: ["km": 15000, "read_on": "2024-12-01", "source": "customer"])
            #expect(between.status == .unprocessableContent, "above a later reading")
            let future = try await app.client.call(.post, readings, key: tenants.keyA, json: ["km": 20000, "read_on": "2999-01-01", "source": "customer"])
            #expect(future.status == .unprocessableContent)
            let list = try await app.client.call(.get, readings, key: tenants.keyA)
            #expect(list.items.compactMap { $0["km"] as? Int } == [12000, 5000])

            let view = try await app.client.call(.get, "/v1/customers/\(customer.id)/360", key: tenants.keyA)
            #expect(view.status == .ok)
            let vehicles = view["vehicles"] as? [[String: Any]] ?? []
            #expect(vehicles.count == 1)
            #expect((vehicles.first?["latest_odometer"] as? [String: Any])?["km"] as? Int == 12000)
            #expect(vehicles.first?["owned_from"] as? String == "2024-03-01")
            #expect(view["sections"] is [String: Any])

            let badWarranty = try await app.client.call(.patch, "/v1/vehicles/\(vehicle.id)", key: tenants.keyA, json: ["warranty_end": "2020-01-01"], headers: ["If-Match": "\"1\""])
            #expect(badWarranty.status == .unprocessableContent)
            let recall = try await app.client.call(.patch, "/v1/vehicles/\(vehicle.id)", key: tenants.keyA, json: ["open_recall": true, "plate": "沪B 88888"], headers: ["If-Match": "\"1\""])
            #expect(recall.status == .ok)
            #expect(recall["open_recall"] as? Bool == true)
            #expect(try await app.client.call(.get, "/v1/vehicles?open_recall=true", key: tenants.keyA).ids == [vehicle.id])
        }
    }
}
