import CRMAPI
import CRMApp
import CRMDomain
@testable import CRMServices
import CRMTestSupport
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresClient
import Synchronization
import Testing

/// The domain template's guarantees that reach beyond one domain: no transaction waits for a
/// second connection, cursors cannot be forged, deactivation stops keys everywhere, duplicates
/// are found without the database logging personal data.
@Suite("Domain template: one connection per transaction, signed cursors, deactivation, quiet duplicates")
struct TemplateTests {
    // MARK: No second connection inside a transaction

    @Test("the old shape (a cache miss through the pool inside a transaction) is refused at once in tests and deadlocks a pool of 2 without the check")
    func nestedAcquisitionOldShape() async throws {
        try await withTestDatabase { database in
            let group = UUID()
            let dealer = UUID()
            let setup = database.makePool(maxConnections: 2)
            try await setup.execute("INSERT INTO oem_groups (id, name) VALUES (\(group), 'g')")
            try await setup.execute("INSERT INTO dealers (id, group_id, name) VALUES (\(dealer), \(group), 'd')")
            setup.shutdownNow()
            // With the check (debug builds, every test): the second acquisition is refused at once.
            let checked = PostgresPool(
                configuration: PostgresPoolConfiguration(
                    connection: PostgresConnectionConfiguration(url: database.url), maxConnections: 2, minConnections: 0,
                    acquireTimeout: .seconds(5), detectNestedAcquisition: true),
                logger: TestDatabase.logger)
            defer { checked.shutdownNow() }
            await #expect(throws: PoolError.nestedAcquisition) { try await Self.oldShape(checked, dealer: dealer) }
            // Without it, 8 concurrent writers on a pool of 2: each pair holds both connections and
            // waits for a third until the acquire timeout.
            let unchecked = PostgresPool(
                configuration: PostgresPoolConfiguration(
                    connection: PostgresConnectionConfiguration(url: database.url), maxConnections: 2, minConnections: 0,
                    acquireTimeout: .milliseconds(500), detectNestedAcquisition: false),
                logger: TestDatabase.logger)
            defer { unchecked.shutdownNow() }
            let timeouts = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            try await Self.oldShape(unchecked, dealer: dealer)
                            return false
                        } catch let error as PoolError {
                            return error != .nestedAcquisition
                        } catch {
                            return false
                        }
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(timeouts > 0)
        }
    }

    /// What LeadService did: inside its transaction, the dealer on a cache miss came through the pool.
    static func oldShape(_ pool: PostgresPool, dealer: UUID) async throws {
        try await pool.withTransaction { tx in
            try await tx.execute("SELECT 1")
            _ = try await pool.queryFirst("SELECT time_zone FROM dealers WHERE id = \(dealer)")
        }
    }

    @Test("the new shape: many concurrent writers on a pool of 2 at a dealer-cache expiry all succeed")
    func nestedAcquisitionNewShape() async throws {
        try await withApp(environment: ["DB_POOL_SIZE": "2", "DB_POOL_MIN": "0", "DB_ACQUIRE_TIMEOUT_MS": "5000"]) { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            for round in 0..<3 {
                // Every writer finds the dealer cache empty and reads the dealer in its own transaction.
                app.services.access.invalidateDealers()
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for writer in 0..<16 {
                        group.addTask {
                            let body = leadBody(phone: mobile(round * 100 + writer))
                            return try await app.client.call(.post, "/v1/leads", key: desk.manager, json: body).status
                        }
                    }
                    return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                }
                #expect(statuses.allSatisfy { $0 == .created }, "\(statuses)")
            }
            let count = try await app.pool.queryFirst("SELECT count(*)::int8 FROM leads")?.decode(0, as: Int64.self)
            #expect(count == 48)
        }
    }

    // MARK: Cursors

    @Test("cursors are signed: a tampered or forged one is a 400 that quotes no database text")
    func signedCursors() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            for index in 0..<3 {
                _ = try await app.client.call(
                    .post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "客户\(index)", "phone": mobile(index)])
            }
            let first = try await app.client.call(.get, "/v1/customers?limit=1", key: tenants.keyA)
            let cursor = try #require(first["next_cursor"] as? String)
            #expect(try await app.client.call(.get, "/v1/customers?limit=1&cursor=\(cursor)", key: tenants.keyA).status == .ok)
            // One character changed anywhere: refused.
            var tampered = Array(cursor)
            tampered[tampered.count / 2] = tampered[tampered.count / 2] == "A" ? "B" : "A"
            // A cursor written by hand the way the old unsigned ones were, with PostgreSQL's words in it.
            let forged = Data("customers.created\u{1F}infinity\u{1F}\(UUID().uuidString)".utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "")
            for bad in [String(tampered), forged, "x", String(repeating: "A", count: 400)] {
                let response = try await app.client.call(.get, "/v1/customers?limit=1&cursor=\(q(bad))", key: tenants.keyA)
                #expect(response.status == .badRequest, "\(bad.prefix(40)): \(response.text)")
                #expect(response.fieldErrors == ["cursor"])
                #expect(!response.text.contains("timestamp"))
                #expect(!response.text.contains("syntax"))
            }
            // A cursor of another dealer's list carries no authority: the tenant wall still applies.
            let other = try await app.client.call(.get, "/v1/customers?limit=1&cursor=\(cursor)", key: tenants.keyB)
            #expect(other.status == .ok)
            #expect(other.ids.isEmpty)
        }
    }

    @Test("a cursor carries long values whole (a 200-character name) and refuses any change")
    func cursorRoundTrip() async throws {
        try await withTestPool { pool, _ in
            let codec = CursorCodec(pool: pool, key: Array(repeating: 7, count: 32))
            let name = String(repeating: "長", count: 200)
            let cursor = Cursor(sort: "customers.name", values: [name, UUID().uuidString])
            let text = try await codec.encode(cursor)
            #expect(text.utf8.count <= 2048)
            #expect(try await codec.decode(text) == cursor)
            // The tag is HMAC-SHA256 of the payload under the key, the same every time.
            let bytes = try #require(CursorCodec.fromBase64URL(text))
            let payload = Array(bytes.dropLast(CursorCodec.tagLength))
            let mac = HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: Array(repeating: UInt8(7), count: 32)))
            #expect(Array(bytes.suffix(CursorCodec.tagLength)) == Array(Array(mac).prefix(CursorCodec.tagLength)))
            #expect(try await codec.encode(cursor) == text)
            // Another key's cursor, a truncated one, one character off: refused.
            let other = CursorCodec(pool: pool, key: Array(repeating: 8, count: 32))
            await #expect(throws: CursorError.self) { try await other.decode(text) }
            await #expect(throws: CursorError.self) { try await codec.decode(String(text.dropLast(3))) }
            var flipped = Array(text)
            flipped[5] = flipped[5] == "a" ? "b" : "a"
            await #expect(throws: CursorError.self) { try await codec.decode(String(flipped)) }
            // Characters outside base64url (standard base64's `+`, `/`, padding, spaces): refused.
            for bad in ["+", "/", "=", " "] {
                await #expect(throws: CursorError.self) { try await codec.decode(String(text.dropLast()) + bad) }
            }
        }
    }

    @Test("cursor text is RFC 4648 base64url without padding, for every length of payload")
    func cursorBase64URL() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = CursorCodec.base64URL(bytes)
            let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(text == expected)
            #expect(CursorCodec.fromBase64URL(text) == bytes)
        }
        #expect(CursorCodec.fromBase64URL("ab+c") == nil)
        #expect(CursorCodec.fromBase64URL("ab=") == nil)
    }

    // MARK: Deactivation

    @Test("deactivating a staff member stops his keys at once, here and in another process, and reactivating restores them")
    func deactivationEverywhere() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let staff = try await app.client.call(.post, "/v1/staff", key: tenants.keyA, json: ["name": "顾问甲", "function": "sales"])
            let staffID = try #require(UUID(uuidString: staff.id))
            let key = try await Tenants.key(app.services, group: tenants.groupID, dealer: tenants.dealerA, role: .sales, staff: staffID)
            // A second process: its own pool, services and key cache, and its LISTEN connection.
            let otherPool = app.database.makePool(maxConnections: 2)
            defer { otherPool.shutdownNow() }
            let other = DomainServices(pool: otherPool, logger: TestDatabase.logger, clock: app.clock)
            let listener = PostgresListener(
                configuration: PostgresConnectionConfiguration(url: app.database.url), blockingPool: TestDatabase.blockingPool,
                logger: TestDatabase.logger)
            let listening = Task { try await listener.run() }
            let maintenance = Task {
                try await AccessMaintenance(access: other.access, listener: listener, logger: TestDatabase.logger).run()
            }
            defer {
                maintenance.cancel()
                listening.cancel()
            }
            _ = try await other.access.authenticate(bearer: key)  // cached there now
            #expect(try await app.client.call(.get, "/v1/leads", key: key).status == .ok)
            #expect(try await listener.waitUntilListening(on: AccessService.keyChangesChannel))

            let deactivated = try await app.client.call(
                .patch, "/v1/staff/\(staffID.uuidString.lowercased())", key: tenants.keyA, json: ["active": false],
                headers: ["If-Match": "\"1\""])
            #expect(deactivated.status == .ok)
            // Here: at once.
            #expect(try await app.client.call(.get, "/v1/leads", key: key).status == .unauthorized)
            // There: as soon as the notification arrives (well within a second on an idle machine).
            let refusedThere = try await eventually(within: .seconds(10)) {
                do {
                    _ = try await other.access.authenticate(bearer: key)
                    return false
                } catch let error as ServiceError {
                    return error == .unauthenticated("The API key's staff member has been deactivated.")
                }
            }
            #expect(refusedThere)
            let reactivated = try await app.client.call(
                .patch, "/v1/staff/\(staffID.uuidString.lowercased())", key: tenants.keyA, json: ["active": true],
                headers: ["If-Match": "\"2\""])
            #expect(reactivated.status == .ok)
            #expect(try await app.client.call(.get, "/v1/leads", key: key).status == .ok)
        }
    }

    // MARK: Duplicates without database errors

    @Test("duplicate phones, open leads and VINs are 409s naming the record, and the database logs none of them")
    func quietDuplicates() async throws {
        let log = try #require(ProcessInfo.processInfo.environment["CRM_TEST_SERVER_LOG"], "scripts/test exports the server log's path")
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            // Numbers no other test uses, so finding them in the shared server log means this test.
            let phone = "13700009876"
            let customer = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "王伟", "phone": phone])
            let again = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "王伟", "phone": "137 0000 9876"])
            #expect(again.status == .conflict)
            #expect(again["existing_id"] as? String == customer.id)
            let other = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "李四", "phone": "13700009875"])
            let moved = try await app.client.call(
                .patch, "/v1/customers/\(other.id)", key: tenants.keyA, json: ["phone": phone], headers: ["If-Match": "\"1\""])
            #expect(moved.status == .conflict)
            #expect(moved["existing_id"] as? String == customer.id)

            let lead = try await app.client.call(.post, "/v1/leads", key: tenants.keyA, json: ["surname": "赵", "channel": "online", "phone": "13700009874"])
            let twice = try await app.client.call(.post, "/v1/leads", key: tenants.keyA, json: ["surname": "赵", "channel": "online", "phone": "13700009874"])
            #expect(twice.status == .conflict)
            #expect(twice["existing_id"] as? String == lead.id)

            let vin = vin(987_654)
            let car = try await app.client.call(.post, "/v1/vehicles", key: tenants.keyA, json: ["vin": vin, "brand": "BMW"])
            let clash = try await app.client.call(.post, "/v1/vehicles", key: tenants.keyA, json: ["vin": vin, "brand": "BMW"])
            #expect(clash.status == .conflict)
            #expect(clash["existing_id"] as? String == car.id)

            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            for secret in ["+8613700009876", "+8613700009874", vin] {
                #expect(!text.contains(secret), "the server log records \(secret)")
            }
        }
    }
}
