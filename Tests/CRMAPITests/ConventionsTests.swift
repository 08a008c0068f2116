import CRMTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresClient
import Testing

@Suite("API conventions: idempotency, versions, merge patch, strict bodies, limits, paging")
struct ConventionsTests {
    @Test("a repeated POST with the same Idempotency-Key creates one customer and replays the first response")
    func idempotentCreate() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
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
            let other = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "李娜", "phone": mobile(501)],
                headers: ["Idempotency-Key": "order-42"])
            #expect(other.status == .unprocessableContent)
            #expect(other.fieldErrors == ["Idempotency-Key"])
            let none = try await app.pool.queryFirst("SELECT count(*) FROM customers WHERE phone = \("+86" + mobile(501))")?
                .decode(0, as: Int.self)
            #expect(none == 0)

            // Keys are per caller: another dealer's key may use the same Idempotency-Key.
            let elsewhere = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyB, json: body, headers: ["Idempotency-Key": "order-42"])
            #expect(elsewhere.status == .created)
            #expect(elsewhere.id != first.id)

            // A failed request releases its key: fixing the body and retrying works.
            let invalid = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "王五", "phone": "12"],
                headers: ["Idempotency-Key": "order-43"])
            #expect(invalid.status == .unprocessableContent)
            let fixed = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "王五", "phone": "12"],
                headers: ["Idempotency-Key": "order-43"])
            #expect(fixed.status == .unprocessableContent)
        }
    }

    @Test("concurrent POSTs with one Idempotency-Key create exactly one customer")
    func idempotentUnderConcurrency() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let body = #"{"kind": "person", "name": "并发", "phone": "\#(mobile(600))"}"#
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await app.client.call(.post, "/v1/customers", key: tenants.keyA, raw: body, headers: ["Idempotency-Key": "burst"]).status
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
            let created = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA,
                json: ["kind": "person", "name": "陈静", "phone": mobile(700), "birthday": "1990-05-06", "address": ["city": "上海", "community": "世纪公园"], "tags": ["a"]])
            let path = "/v1/customers/\(created.id)"
            #expect(created.etag == "\"1\"")
            let first = try await app.client.call(.patch, path, key: tenants.keyA, json: ["notes": "first"], headers: ["If-Match": "\"1\""])
            #expect(first.status == .ok)
            #expect(first.etag == "\"2\"")

            let stale = try await app.client.call(
                .patch, path, key: tenants.keyA, json: ["name": "陈静静", "notes": "lost"], headers: ["If-Match": "\"1\""])
            #expect(stale.status == .preconditionFailed)
            #expect(stale.headers[.contentType] == "application/problem+json")
            let after = try await app.client.call(.get, path, key: tenants.keyA)
            #expect(after["name"] as? String == "陈静")
            #expect(after["notes"] as? String == "first")
            #expect(after["version"] as? Int == 2)

            // Merge patch: null removes, absent keeps, nested objects merge.
            let merged = try await app.client.call(
                .patch, path, key: tenants.keyA, raw: #"{"birthday": null, "address": {"community": null, "street": "锦绣路1号"}}"#,
                headers: ["If-Match": after.etag ?? "", "Content-Type": "application/merge-patch+json"])
            #expect(merged.status == .ok, "\(merged.text)")
            #expect(merged["birthday"] == nil)
            #expect(merged["address"] as? [String: String] == ["city": "上海", "street": "锦绣路1号"])
            #expect(merged["tags"] as? [String] == ["a"])
            #expect(merged["notes"] as? String == "first")

            // If-Match is required on PATCH and DELETE.
            let missing = try await app.client.call(.patch, path, key: tenants.keyA, json: ["notes": "x"])
            #expect(missing.status == .badRequest)
            let delete = try await app.client.call(.delete, path, key: tenants.keyA, headers: ["If-Match": "\"2\""])
            #expect(delete.status == .preconditionFailed)
            let gone = try await app.client.call(.delete, path, key: tenants.keyA, headers: ["If-Match": merged.etag ?? ""])
            #expect(gone.status == .noContent)
            #expect(try await app.client.call(.get, path, key: tenants.keyA).status == .notFound)
        }
    }

    @Test("unknown JSON fields are a 422 naming every one of them, nested ones included")
    func unknownFields() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let response = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA,
                json: [
                    "kind": "person", "name": "x", "nickname": "y", "address": ["city": "c", "floor": 3],
                    "consents": [["channel": "sms", "status": "granted", "source": "website", "when": "now"]],
                ])
            #expect(response.status == .unprocessableContent)
            #expect(Set(response.fieldErrors) == ["nickname", "address.floor", "consents[0].when"])
            let patch = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "ok"])
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
            let values = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA,
                json: ["kind": "person", "name": " ", "phone": "12345", "birthday": "2999-01-01"])
            #expect(values.status == .unprocessableContent)
            #expect(Set(values.fieldErrors) == ["name", "phone", "birthday"])
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
            for index in 0..<120 {
                let created = try await app.client.call(
                    .post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "客户\(index)", "phone": mobile(10_000 + index)])
                #expect(created.status == .created)
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let path = "/v1/customers?limit=50" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await app.client.call(.get, path, key: tenants.keyA)
                #expect(page.status == .ok)
                seen += page.ids
                cursor = page["next_cursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen.count == 120)
            #expect(Set(seen).count == 120)

            // By name: ordered, and a name cursor does not work on another sort.
            let byName = try await app.client.call(.get, "/v1/customers?name=\(q("客户1"))&limit=5", key: tenants.keyA)
            let names = byName.items.compactMap { $0["name"] as? String }
            #expect(names == names.sorted())
            #expect(names.allSatisfy { $0.hasPrefix("客户1") })
            let foreignCursor = byName["next_cursor"] as? String ?? ""
            let mixed = try await app.client.call(.get, "/v1/customers?cursor=\(foreignCursor)", key: tenants.keyA)
            #expect(mixed.status == .badRequest)
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
            let created = try await app.client.call(.post, "/v1/api-keys", key: tenants.keyA, json: ["name": "前台", "role": "sales"])
            #expect(created.status == .created)
            let secret = try #require(created["secret"] as? String)
            let keyID = try #require((created["key"] as? [String: Any])?["id"] as? String)
            #expect(secret.hasPrefix("crm_") && secret.count == 44)
            // Stored only as a hash: the secret appears nowhere in the table.
            let stored = try await app.pool.query("SELECT api_keys::text FROM api_keys")
            for row in stored { #expect(!(try row.decode(0, as: String.self)).contains(secret)) }
            let listed = try await app.client.call(.get, "/v1/api-keys", key: tenants.keyA)
            #expect(!listed.text.contains(secret))
            #expect(listed.ids.contains(keyID))

            #expect(try await app.client.call(.get, "/v1/customers", key: secret).status == .ok)
            await app.services.access.flushKeyUsage()
            let used = try await app.client.call(.get, "/v1/api-keys/\(keyID)", key: tenants.keyA)
            #expect(used["last_used_at"] != nil)

            let revoked = try await app.client.call(.post, "/v1/api-keys/\(keyID)/revocation", key: tenants.keyA)
            #expect(revoked.status == .ok)
            #expect(revoked["revoked_at"] != nil)
            let after = try await app.client.call(.get, "/v1/customers", key: secret)
            #expect(after.status == .unauthorized)
            #expect(after.headers[.wwwAuthenticate] != nil)

            let expiring = try await app.client.call(
                .post, "/v1/api-keys", key: tenants.keyA,
                json: ["name": "temp", "role": "readonly", "expires_at": ISO8601DateFormatter().string(from: Date().addingTimeInterval(2))])
            let expiringSecret = try #require(expiring["secret"] as? String)
            #expect(try await app.client.call(.get, "/v1/customers", key: expiringSecret).status == .ok)
            try await Task.sleep(for: .seconds(2.5))
            #expect(try await app.client.call(.get, "/v1/customers", key: expiringSecret).status == .unauthorized)

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
            let sales = try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .sales)
            let readonly = try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .readonly)
            let manager = try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .manager)
            let customer = try await app.client.call(.post, "/v1/customers", key: sales, json: ["kind": "person", "name": "顾客"])
            #expect(customer.status == .created)
            let path = "/v1/customers/\(customer.id)"

            #expect(try await app.client.call(.get, path, key: readonly).status == .ok)
            #expect(try await app.client.call(.post, "/v1/customers", key: readonly, json: ["kind": "person", "name": "x"]).status == .forbidden)
            #expect(try await app.client.call(.get, "\(path)/audit", key: sales).status == .forbidden)
            #expect(try await app.client.call(.get, "\(path)/audit", key: manager).status == .ok)
            #expect(try await app.client.call(.delete, path, key: sales, headers: ["If-Match": "\"1\""]).status == .forbidden)
            #expect(try await app.client.call(.post, "\(path)/erasure", key: sales).status == .forbidden)
            #expect(try await app.client.call(.get, "/v1/api-keys", key: manager).status == .forbidden)
            #expect(try await app.client.call(.post, "/v1/api-keys", key: sales, json: ["name": "x", "role": "admin"]).status == .forbidden)
            #expect(try await app.client.call(.post, "/v1/dealers", key: tenants.keyA, json: ["name": "x"]).status == .forbidden)
            let groupAdmin = try await Tenants.key(app.services, group: tenants.groupID, dealer: nil, role: .admin)
            let dealer = try await app.client.call(.post, "/v1/dealers", key: groupAdmin, json: ["name": "新店", "time_zone": "Asia/Urumqi"])
            #expect(dealer.status == .created, "\(dealer.text)")
            #expect(dealer["time_zone"] as? String == "Asia/Urumqi")
            let badZone = try await app.client.call(.post, "/v1/dealers", key: groupAdmin, json: ["name": "x", "time_zone": "Mars/Base"])
            #expect(badZone.status == .unprocessableContent)
            // A group admin issues a key for one of its dealers, tied to a staff member.
            let staff = try await app.client.call(.post, "/v1/staff", key: tenants.keyA, json: ["name": "刘顾问", "function": "sales"])
            let key = try await app.client.call(
                .post, "/v1/api-keys", key: groupAdmin,
                json: ["name": "刘顾问", "role": "sales", "dealer_id": tenants.dealerA.uuidString, "staff_id": staff.id])
            #expect(key.status == .created, "\(key.text)")
            #expect((key["key"] as? [String: Any])?["staff_id"] as? String == staff.id)
        }
    }
}
