import CRMClient
import CRMDomain
import CRMTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresClient
import Testing

@Suite("API conventions: idempotency, versions, merge patch, strict bodies, limits, paging")
struct ConventionsTests {
    @Test("every enumeration a list filter writes into its SQL as a constant has plain raw values")
    func filterEnumerationsArePlainConstants() {
        // The cases `\(constant:)` and `\(constants:)` write into the SQL of the repositories'
        // lists; anything else would stop the server at its precondition.
        func rawValues<E: RawRepresentable & CaseIterable>(_: E.Type) -> [String] where E.RawValue == String {
            E.allCases.map(\.rawValue)
        }
        let values =
            rawValues(LeadStatus.self) + rawValues(LeadChannel.self) + rawValues(ComplaintStatus.self)
            + rawValues(ComplaintSeverity.self) + rawValues(ComplaintCategory.self) + rawValues(ComplaintChannel.self)
            + rawValues(CallbackStatus.self) + rawValues(CallbackPurpose.self) + rawValues(StaffFunction.self)
            + rawValues(CallTaskStatus.self) + rawValues(ServiceVisitType.self) + rawValues(ReminderKind.self)
            + rawValues(ReminderStatus.self) + rawValues(SuppressionReason.Code.self) + rawValues(CustomerKind.self)
        #expect(values.count > 60)
        #expect(values.filter { !PostgresQuery.isPlainConstant($0) } == [])
    }

    @Test("a repeated POST with the same Idempotency-Key creates one customer and replays the first response")
    func idempotentCreate() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let api = app.api(tenants.keyA)
            // Raw: the replay is checked byte for byte and by its Idempotent-Replayed header, which the
            // contract does not declare: the typed client exposes neither.
            let body: [String: Any] = ["kind": "person", "name": "张伟", "phone": mobile(500)]
            let first = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: body, headers: ["Idempotency-Key": "order-42"])
            let second = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: body, headers: ["Idempotency-Key": "order-42"])
            #expect(first.status == .created)
            #expect(second.status == .created)
            #expect(second.id == first.id)
            #expect(second.text == first.text)
            #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(second.etag == first.etag)
            let count = try await app.pool.queryFirst("SELECT count(*) FROM customers WHERE phone = \("+86" + mobile(500))")?
                .decode(0, as: Int.self)
            #expect(count == 1)

            // The same key with another body is refused and creates nothing.
            let other = try await api.createCustomer(
                headers: .init(idempotencyKey: "order-42"), body: .json(.init(kind: .person, name: "李娜", phone: mobile(501))))
            #expect(status(of: other) == .unprocessableContent)
            #expect(try other.unprocessableContent.problem.fields == ["Idempotency-Key"])
            let none = try await app.pool.queryFirst("SELECT count(*) FROM customers WHERE phone = \("+86" + mobile(501))")?
                .decode(0, as: Int.self)
            #expect(none == 0)

            // Keys are per caller: another dealer's key may use the same Idempotency-Key.
            let elsewhere = try await app.api(tenants.keyB).createCustomer(
                headers: .init(idempotencyKey: "order-42"), body: .json(.init(kind: .person, name: "张伟", phone: mobile(500))))
            #expect(status(of: elsewhere) == .created)
            #expect(try elsewhere.created.body.json.id != first.id)

            // A failed request releases its key: fixing the body and retrying works.
            let invalid = try await api.createCustomer(
                headers: .init(idempotencyKey: "order-43"), body: .json(.init(kind: .person, name: "王五", phone: "12")))
            #expect(status(of: invalid) == .unprocessableContent)
            let fixed = try await api.createCustomer(
                headers: .init(idempotencyKey: "order-43"), body: .json(.init(kind: .person, name: "王五", phone: "12")))
            #expect(status(of: fixed) == .unprocessableContent)
        }
    }

    @Test("concurrent POSTs with one Idempotency-Key create exactly one customer")
    func idempotentUnderConcurrency() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let api = app.api(tenants.keyA)
            let body = Components.Schemas.CustomerInput(kind: .person, name: "并发", phone: mobile(600))
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await status(of: api.createCustomer(headers: .init(idempotencyKey: "burst"), body: .json(body)))
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .created || $0 == .conflict }, "\(statuses)")
            let count = try await app.pool.queryFirst("SELECT count(*) FROM customers")?.decode(0, as: Int.self)
            #expect(count == 1)
        }
    }

    @Test("a PATCH with a stale If-Match is a 412 and changes nothing; a fresh one applies the merge patch")
    func optimisticConcurrency() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let api = app.api(tenants.keyA)
            let created = try await api.createCustomer(
                body: .json(.init(
                    kind: .person, name: "陈静", phone: mobile(700), birthday: "1990-05-06", address: .init(city: "上海", community: "世纪公园"),
                    tags: ["a"])))
            let id = try created.created.body.json.id
            let path = "/v1/customers/\(id)"
            #expect(try created.created.headers.eTag == "\"1\"")
            let first = try await api.updateCustomer(path: .init(customerId: id), headers: .init(ifMatch: "\"1\""), body: .json(.init(notes: "first")))
            #expect(status(of: first) == .ok)
            #expect(try first.ok.headers.eTag == "\"2\"")

            // Raw: the check is on the exact Content-Type header, which the typed client does not expose.
            let stale = try await app.client.call(
                .patch, path, key: tenants.keyA, json: ["name": "陈静静", "notes": "lost"], headers: ["If-Match": "\"1\""])
            #expect(stale.status == .preconditionFailed)
            #expect(stale.headers[.contentType] == "application/problem+json")
            let after = try await api.getCustomer(path: .init(customerId: id))
            #expect(try after.ok.body.json.name == "陈静")
            #expect(try after.ok.body.json.notes == "first")
            #expect(try after.ok.body.json.version == 2)

            // Merge patch: null removes, absent keeps, nested objects merge.
            // Raw: the patch sets members to null, which the typed client cannot send (it leaves nil
            // members out).
            let merged = try await app.client.call(
                .patch, path, key: tenants.keyA, raw: #"{"birthday": null, "address": {"community": null, "street": "锦绣路1号"}}"#,
                headers: ["If-Match": try after.ok.headers.eTag ?? "", "Content-Type": "application/merge-patch+json"])
            #expect(merged.status == .ok, "\(merged.text)")
            #expect(merged["birthday"] == nil)
            #expect(merged["address"] as? [String: String] == ["city": "上海", "street": "锦绣路1号"])
            #expect(merged["tags"] as? [String] == ["a"])
            #expect(merged["notes"] as? String == "first")

            // If-Match is required on PATCH and DELETE.
            // Raw: the request leaves out If-Match, a required header the typed client always sends.
            // Missing, it is a 400 naming the header (what clients and the fuzzer expect of a
            // missing required header), and nothing changes.
            let missing = try await app.client.call(.patch, path, key: tenants.keyA, json: ["notes": "x"])
            #expect(missing.status == .badRequest)
            #expect(missing.fieldErrors == ["If-Match"], "\(missing.text)")
            #expect(try await app.client.call(.delete, path, key: tenants.keyA).status == .badRequest)
            #expect(try await app.client.call(.get, path, key: tenants.keyA)["notes"] as? String == "first")
            let delete = try await api.deleteCustomer(path: .init(customerId: id), headers: .init(ifMatch: "\"2\""))
            #expect(status(of: delete) == .preconditionFailed)
            let gone = try await api.deleteCustomer(path: .init(customerId: id), headers: .init(ifMatch: merged.etag ?? ""))
            #expect(status(of: gone) == .noContent)
            #expect(try await status(of: api.getCustomer(path: .init(customerId: id))) == .notFound)
        }
    }

    @Test("unknown JSON fields are a 422 naming every one of them, nested ones included")
    func unknownFields() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            // Raw (but for two well-formed requests): unknown members, wrong types, values outside
            // the contract's enums, NUL characters and non-JSON are what this tests, and the typed
            // client cannot send any of them.
            let response = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA,
                json: [
                    "kind": "person", "name": "x", "nickname": "y", "address": ["city": "c", "floor": 3],
                    "consents": [["channel": "sms", "status": "granted", "source": "website", "when": "now"]],
                ])
            #expect(response.status == .unprocessableContent)
            #expect(Set(response.fieldErrors) == ["nickname", "address.floor", "consents[0].when"])
            let patch = try await app.api(tenants.keyA).createCustomer(body: .json(.init(kind: .person, name: "ok"))).created.body.json
            let patched = try await app.client.call(
                .patch, "/v1/customers/\(patch.id)", key: tenants.keyA, json: ["dealer_id": tenants.dealerB.uuidString, "id": "x"],
                headers: ["If-Match": "\"1\""])
            #expect(patched.status == .unprocessableContent)
            #expect(Set(patched.fieldErrors) == ["dealer_id", "id"])
            // Wrong types and bad values name the field too.
            let typed = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": 5])
            #expect(typed.status == .unprocessableContent)
            #expect(typed.fieldErrors == ["name"])
            // Contract constraints first (every violation at once), then the business rules.
            let contract = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA,
                json: ["kind": "robot", "name": "", "children": 99, "email": "", "tags": [String(repeating: "t", count: 41)]])
            #expect(contract.status == .unprocessableContent)
            #expect(Set(contract.fieldErrors) == ["kind", "name", "children", "email", "tags[0]"])
            let values = try await app.api(tenants.keyA).createCustomer(
                body: .json(.init(kind: .person, name: " ", phone: "12345", birthday: "2999-01-01")))
            #expect(status(of: values) == .unprocessableContent)
            #expect(Set(try values.unprocessableContent.problem.fields) == ["name", "phone", "birthday"])
            // Found by the fuzzer: a NUL character (which PostgreSQL text cannot hold) gave a 500.
            let nul = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA, raw: #"{"kind": "person", "name": "\u0000Ç", "notes": "a\u0000b"}"#)
            #expect(nul.status == .unprocessableContent)
            #expect(Set(nul.fieldErrors) == ["name", "notes"])
            let nulQuery = try await app.client.call(.get, "/v1/customers?name=%00x", key: tenants.keyA)
            #expect(nulQuery.status == .unprocessableContent)
            let notJSON = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, raw: "{not json")
            #expect(notJSON.status == .badRequest)
        }
    }

    @Test("bodies over the limit are refused with 413 before they are read whole")
    func bodyLimit() async throws {
        try await withApp(environment: ["MAX_BODY_BYTES": "2048"]) { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            // Raw: a body over the limit, sent whole and then streamed, is what this tests.
            let big = String(repeating: "x", count: 4000)
            let declared = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA, raw: #"{"kind":"person","name":"\#(big)"}"#)
            #expect(declared.status == .contentTooLarge)
            #expect(declared.headers[.contentType] == "application/problem+json")
        }
        // Streamed (chunked, no Content-Length) over a real socket.
        try await withApp(environment: ["MAX_BODY_BYTES": "2048"], testing: .live) { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let chunks = (0..<10).map { _ in ByteBuffer(string: String(repeating: "y", count: 1000)) }
            let status = try await app.client.execute(
                uri: "/v1/customers", method: .post,
                headers: [.authorization: "Bearer \(tenants.keyA)", .contentType: "application/json", .transferEncoding: "chunked"],
                body: ByteBuffer(string: "{\"kind\":\"person\",\"name\":\"" + chunks.map { String(buffer: $0) }.joined() + "\"}")
            ) { $0.status }
            #expect(status == .contentTooLarge)
            let count = try await app.pool.queryFirst("SELECT count(*) FROM customers")?.decode(0, as: Int.self)
            #expect(count == 0)
        }
    }

    @Test("keyset pagination walks every row once; bad cursors and limits are client errors")
    func pagination() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let api = app.api(tenants.keyA)
            for index in 0..<120 {
                let created = try await api.createCustomer(body: .json(.init(kind: .person, name: "客户\(index)", phone: mobile(10_000 + index))))
                #expect(status(of: created) == .created)
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await api.listCustomers(query: .init(limit: 50, cursor: cursor))
                #expect(status(of: page) == .ok)
                let list = try page.ok.body.json
                seen += list.data.map(\.id)
                cursor = list.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen.count == 120)
            #expect(Set(seen).count == 120)

            // By name: ordered, and a name cursor does not work on another sort.
            let byName = try await api.listCustomers(query: .init(limit: 5, name: "客户1")).ok.body.json
            let names = byName.data.map(\.name)
            #expect(names == names.sorted())
            #expect(names.allSatisfy { $0.hasPrefix("客户1") })
            let foreignCursor = byName.nextCursor ?? ""
            let mixed = try await api.listCustomers(query: .init(cursor: foreignCursor))
            #expect(status(of: mixed) == .badRequest)
            // Raw: a malformed cursor and out-of-range limits, as a caller could write them in the URL.
            #expect(try await app.client.call(.get, "/v1/customers?cursor=garbage!!", key: tenants.keyA).status == .badRequest)
            #expect(try await app.client.call(.get, "/v1/customers?limit=0", key: tenants.keyA).status == .unprocessableContent)
            #expect(try await app.client.call(.get, "/v1/customers?limit=201", key: tenants.keyA).status == .unprocessableContent)
        }
    }
}

@Suite("Keys and roles")
struct AccessTests {
    @Test("keys: the secret is shown once, stored only as a hash; revocation is immediate; expiry is honoured; last use is recorded")
    func keyLifecycle() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let admin = app.api(tenants.keyA)
            let created = try await admin.createApiKey(body: .json(.init(name: "前台", role: .sales)))
            #expect(status(of: created) == .created)
            let secret = try #require(try? created.created.body.json.secret)
            let keyID = try #require(try? created.created.body.json.key.id)
            #expect(secret.hasPrefix("crm_") && secret.count == 44)
            // Stored only as a hash: the secret appears nowhere in the table.
            let stored = try await app.pool.query("SELECT api_keys::text FROM api_keys")
            for row in stored { #expect(!(try row.decode(0, as: String.self)).contains(secret)) }
            // Raw: the check is on the whole response text (the secret nowhere in it), which the typed
            // client does not expose.
            let listed = try await app.client.call(.get, "/v1/api-keys", key: tenants.keyA)
            #expect(!listed.text.contains(secret))
            #expect(listed.ids.contains(keyID))

            #expect(try await status(of: app.api(secret).listCustomers()) == .ok)
            await app.services.access.flushKeyUsage()
            let used = try await admin.getApiKey(path: .init(keyId: keyID)).ok.body.json
            #expect(used.lastUsedAt != nil)

            let revoked = try await admin.revokeApiKey(path: .init(keyId: keyID))
            #expect(status(of: revoked) == .ok)
            #expect(try revoked.ok.body.json.revokedAt != nil)
            let after = try await app.api(secret).listCustomers()
            #expect(status(of: after) == .unauthorized)
            #expect(try after.unauthorized.headers.wwwAuthenticate != nil)

            // Expiry is read on the business clock: a minute later (not a wait that a loaded machine can outlast).
            let expiring = try await admin.createApiKey(
                body: .json(.init(name: "temp", role: .readonly, expiresAt: app.clock.now.addingTimeInterval(60))))
            let expiringSecret = try #require(try? expiring.created.body.json.secret)
            #expect(try await status(of: app.api(expiringSecret).listCustomers()) == .ok)
            app.clock.advance(by: 61)
            #expect(try await status(of: app.api(expiringSecret).listCustomers()) == .unauthorized)

            // Raw: malformed Authorization headers.

            for bad in ["", "Bearer", "Basic abc", "Bearer crm_short", "Bearer " + String(repeating: "x", count: 44)] {
                let response = try await app.client.call(.get, "/v1/customers", headers: bad.isEmpty ? [:] : ["Authorization": bad])
                #expect(response.status == .unauthorized, "\(bad)")
            }
        }
    }

    @Test("the permission matrix is enforced: 403 for a role that may not, 2xx for one that may")
    func roles() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let admin = app.api(tenants.keyA)
            let sales = app.api(try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .sales))
            let readonly = app.api(try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .readonly))
            let manager = app.api(try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .manager))
            let customer = try await sales.createCustomer(body: .json(.init(kind: .person, name: "顾客")))
            #expect(status(of: customer) == .created)
            let id = try customer.created.body.json.id

            #expect(try await status(of: readonly.getCustomer(path: .init(customerId: id))) == .ok)
            #expect(try await status(of: readonly.createCustomer(body: .json(.init(kind: .person, name: "x")))) == .forbidden)
            #expect(try await status(of: sales.listCustomerAudit(path: .init(customerId: id))) == .forbidden)
            #expect(try await status(of: manager.listCustomerAudit(path: .init(customerId: id))) == .ok)
            #expect(try await status(of: sales.deleteCustomer(path: .init(customerId: id), headers: .init(ifMatch: "\"1\""))) == .forbidden)
            #expect(try await status(of: sales.eraseCustomer(path: .init(customerId: id))) == .forbidden)
            #expect(try await status(of: manager.listApiKeys()) == .forbidden)
            #expect(try await status(of: sales.createApiKey(body: .json(.init(name: "x", role: .admin)))) == .forbidden)
            #expect(try await status(of: admin.createDealer(body: .json(.init(name: "x")))) == .forbidden)
            let groupAdmin = app.api(try await Tenants.key(app.services, group: tenants.groupID, dealer: nil, role: .admin))
            let dealer = try await groupAdmin.createDealer(body: .json(.init(name: "新店", timeZone: "Asia/Urumqi")))
            #expect(status(of: dealer) == .created, "\(dealer)")
            #expect(try dealer.created.body.json.timeZone == "Asia/Urumqi")
            let badZone = try await groupAdmin.createDealer(body: .json(.init(name: "x", timeZone: "Mars/Base")))
            #expect(status(of: badZone) == .unprocessableContent)
            // A group admin issues a key for one of its dealers, tied to a staff member.
            let staff = try await admin.createStaff(body: .json(.init(name: "刘顾问", function: .sales))).created.body.json
            let key = try await groupAdmin.createApiKey(
                body: .json(.init(name: "刘顾问", role: .sales, dealerId: tenants.dealerA.uuidString, staffId: staff.id)))
            #expect(status(of: key) == .created, "\(key)")
            #expect(try key.created.body.json.key.staffId == staff.id)
        }
    }
}
