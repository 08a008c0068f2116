import CRMAPI
import CRMApp
import CRMDomain
import CRMServices
import CRMTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresClient
import Testing

/// `Idempotency-Key` across failures: the response is stored with the write, a running attempt
/// holds the key only while its transaction lives, a failed one frees it at once.
@Suite("Idempotency that survives faults")
struct IdempotencyTests {
    /// The key's row as stored.
    static func row(_ pool: PostgresPool, key: String) async throws -> (state: String, status: Int?)? {
        try await pool.queryFirst("SELECT state, status_code FROM idempotency_keys WHERE key = \(key)").map {
            (try $0.decode(0, as: String.self), try $0.decode(1, as: Int?.self))
        }
    }

    @Test("the response is written in the same transaction as the work: a request that fails leaves neither")
    func storedWithTheWrite() async throws {
        try await withApp { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            let lead = try await app.client.call(.post, "/v1/leads", key: desk.manager, json: leadBody(phone: mobile(1)))
            let taken = vin(11)
            _ = try await app.client.call(.post, "/v1/vehicles", key: desk.manager, json: ["vin": taken, "brand": "BMW"])
            // A conversion whose VIN is taken fails after creating the customer: nothing of it
            // remains, and the key is free for the corrected request.
            let conversion: [String: Any] = [
                "vehicle": ["vin": taken, "brand": "BMW"], "price": ["amount": 30_000_000, "currency": "CNY"],
                "delivery_date": shanghaiDate(),
            ]
            let failed = try await app.client.call(
                .post, "/v1/leads/\(lead.id)/conversion", key: desk.manager, json: conversion, headers: ["Idempotency-Key": "sale-1"])
            #expect(failed.status == .conflict)
            #expect(try await app.pool.queryFirst("SELECT count(*)::int8 FROM customers")?.decode(0, as: Int64.self) == 0)
            #expect(try await Self.row(app.pool, key: "sale-1")?.state == "in_progress")
            var corrected = conversion
            corrected["vehicle"] = ["vin": vin(12), "brand": "BMW"]
            let won = try await app.client.call(
                .post, "/v1/leads/\(lead.id)/conversion", key: desk.manager, json: corrected, headers: ["Idempotency-Key": "sale-1"])
            #expect(won.status == .ok, "\(won.text)")
            #expect(try await Self.row(app.pool, key: "sale-1")?.status == 200)
            let replay = try await app.client.call(
                .post, "/v1/leads/\(lead.id)/conversion", key: desk.manager, json: corrected, headers: ["Idempotency-Key": "sale-1"])
            #expect(replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(replay.text == won.text)
            #expect(try await app.pool.queryFirst("SELECT count(*)::int8 FROM vehicles")?.decode(0, as: Int64.self) == 2)
        }
    }

    @Test("while an attempt holds the key a retry gets 409 with Retry-After; once that attempt is gone the retry runs")
    func runningAndDeadAttempts() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let body: [String: Any] = ["kind": "person", "name": "王伟", "phone": mobile(7)]
            // A first attempt that failed on validation registered the key and committed nothing.
            let invalid = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "王伟", "phone": "12"],
                headers: ["Idempotency-Key": "k-1"])
            #expect(invalid.status == .unprocessableContent)
            // Another process's attempt is running: it holds the key's row in its transaction.
            let other = try await TestDatabase.connect(app.database.url)
            defer { other.close() }
            _ = try await other.executeScript("BEGIN")
            _ = try await other.query("SELECT 1 FROM idempotency_keys WHERE key = 'k-1' FOR UPDATE")
            let busy = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: body, headers: ["Idempotency-Key": "k-1"])
            #expect(busy.status == .conflict)
            #expect(busy.headers[.retryAfter] == "1")
            #expect(busy["type"] as? String == "https://crm.example/problems/idempotency-in-progress")
            // That attempt dies (its session is ended, as when its process is killed): the key is free at once.
            let pid = try await other.queryFirst("SELECT pg_backend_pid()")?.decode(0, as: Int32.self)
            _ = try await app.pool.query("SELECT pg_terminate_backend(\(pid))")
            let retried = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: body, headers: ["Idempotency-Key": "k-1"])
            #expect(retried.status == .created, "\(retried.text)")
            let again = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: body, headers: ["Idempotency-Key": "k-1"])
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(again.id == retried.id)
        }
    }

    @Test("a request's transaction that goes silent is ended by the database after the lease, freeing the key")
    func lease() async throws {
        try await withApp(environment: [:]) { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            // What an attempt's transaction does: lock the key with the lease set, then hang.
            _ = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA, json: ["kind": "person", "name": "x", "phone": "12"],
                headers: ["Idempotency-Key": "k-2"])
            let hung = try await TestDatabase.connect(app.database.url)
            defer { hung.close() }
            _ = try await hung.executeScript("BEGIN")
            _ = try await hung.query("SELECT set_config('idle_in_transaction_session_timeout', '3000', true)")
            _ = try await hung.query("SELECT 1 FROM idempotency_keys WHERE key = 'k-2' FOR UPDATE")
            let body: [String: Any] = ["kind": "person", "name": "王伟", "phone": mobile(8)]
            #expect(try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: body, headers: ["Idempotency-Key": "k-2"]).status == .conflict)
            // Once the database ends the silent session (3 s), a retry goes through; until then each
            // is told the attempt is in progress. (Retried, not one fixed wait a loaded machine can outlast.)
            var outcomes: [HTTPResponse.Status] = []
            let deadline = ContinuousClock.now + .seconds(20)
            while outcomes.last != .created, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
                outcomes.append(try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: body, headers: ["Idempotency-Key": "k-2"]).status)
            }
            #expect(outcomes.last == .created)
            #expect(outcomes.dropLast().allSatisfy { $0 == .conflict }, "\(outcomes)")
        }
    }

    @Test("a POST with a key runs in one connection: a pool of one serves it")
    func oneConnection() async throws {
        try await withApp(environment: ["DB_POOL_SIZE": "1", "DB_POOL_MIN": "0"]) { (app: TestApp) in
            let desk = try await LeadDesk.make(app)
            for index in 0..<3 {
                let created = try await app.client.call(
                    .post, "/v1/leads", key: desk.manager, json: leadBody(phone: mobile(50 + index)),
                    headers: ["Idempotency-Key": "lead-\(index)"])
                #expect(created.status == .created, "\(created.text)")
            }
        }
    }
}
