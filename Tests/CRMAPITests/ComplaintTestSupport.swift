import CRMClient
import CRMDomain
import CRMServices
import Foundation
import Testing

/// A dealer (A of `Tenants`) with a service advisor, two CRM team members and a manager, each
/// with a key tied to him (the manager's key has no staff member), and a readonly key; dealer
/// B's admin key and a group key for the tenancy checks.
struct ComplaintDesk: Sendable {
    let tenants: Tenants
    let advisor: String
    let advisorPhone: String
    let crm: [String]
    let advisorKey: String
    let crmKeys: [String]
    let managerKey: String
    let readonlyKey: String
    let salesKey: String
    let groupKey: String

    static func make(_ app: TestApp) async throws -> ComplaintDesk {
        let tenants = try await Tenants.make(app.services)
        let admin = app.api(tenants.keyA)
        func staff(_ name: String, _ function: Components.Schemas.StaffFunction, phone: String) async throws -> String {
            let created = try await admin.createStaff(body: .json(.init(name: name, function: function, phone: phone)))
            #expect(status(of: created) == .created, "\(created)")
            return try created.created.body.json.id
        }
        let advisorPhone = "13700000001"
        let advisor = try await staff("刘洋", .service, phone: advisorPhone)
        let crm = [try await staff("陈静", .crm, phone: "13700000002"), try await staff("周敏", .crm, phone: "13700000003")]
        func key(_ role: Role, _ staff: String?) async throws -> String {
            try await Tenants.key(
                app.services, group: tenants.groupID, dealer: tenants.dealerA, role: role, staff: staff.flatMap(UUID.init(uuidString:)))
        }
        return ComplaintDesk(
            tenants: tenants, advisor: advisor, advisorPhone: "+86" + advisorPhone, crm: crm, advisorKey: try await key(.service, advisor),
            crmKeys: [try await key(.crm, crm[0]), try await key(.crm, crm[1])], managerKey: try await key(.manager, nil),
            readonlyKey: try await key(.readonly, nil), salesKey: try await key(.sales, nil),
            groupKey: try await Tenants.key(app.services, group: tenants.groupID, dealer: nil, role: .admin))
    }

    /// A customer of dealer A with a unique phone.
    func customer(_ app: TestApp, _ seed: Int, name: String = "王先生") async throws -> Components.Schemas.Customer {
        let created = try await app.api(tenants.keyA).createCustomer(body: .json(.init(kind: .person, name: name, phone: mobile(seed))))
        #expect(status(of: created) == .created, "\(created)")
        return try created.created.body.json
    }

    /// A complaint of `customer` owned by the advisor.
    func complaint(
        _ app: TestApp, customer: String, severity: Components.Schemas.ComplaintSeverity = .normal,
        category: Components.Schemas.ComplaintCategory = .serviceQuality, owner: String? = nil
    ) async throws -> Components.Schemas.Complaint {
        let created = try await app.api(advisorKey).createComplaint(
            body: .json(
                .init(
                    customerId: customer, channel: .dealerHotline, category: category, severity: severity,
                    description: "保养后异响未解决", ownerId: owner ?? advisor)))
        #expect(status(of: created) == .created, "\(created)")
        return try created.created.body.json
    }

    /// Moves a complaint with `key` (default the advisor's) and returns it.
    @discardableResult
    func move(_ app: TestApp, _ id: String, to status: Components.Schemas.ComplaintStatus, key: String? = nil) async throws
        -> Components.Schemas.Complaint
    {
        let moved = try await app.api(key ?? advisorKey).moveComplaint(path: .init(complaintId: id), body: .json(.init(status: status)))
        #expect(CRMAPITests.status(of: moved) == .ok, "\(moved)")
        return try moved.ok.body.json
    }

    /// Acknowledges, investigates and (as the manager) resolves a complaint; returns its callback.
    func resolve(_ app: TestApp, _ id: String) async throws -> Components.Schemas.Callback {
        try await move(app, id, to: .acknowledged)
        try await move(app, id, to: .investigating)
        let resolved = try await app.api(managerKey).resolveComplaint(
            path: .init(complaintId: id),
            body: .json(.init(rootCause: "首次维修未更换部件", remedy: .repair, cost: .init(amount: 50_000, currency: "CNY"), customerAccepted: true)))
        #expect(status(of: resolved) == .ok, "\(resolved)")
        let callbacks = try await app.api(managerKey).listCallbacks(query: .init(complaintId: id)).ok.body.json.data
        #expect(callbacks.count == 1)
        return try #require(callbacks.first)
    }

    /// Records a reached call with a survey: `scores` for the standard complaint questions.
    func survey(
        _ app: TestApp, callback: String, key: String, number: String, seconds: Double = 240, scores: [Int] = [4, 5, 5], nps: Int = 9,
        callerID: String? = nil
    ) async throws -> Components.Schemas.CallbackDetail {
        let ended = app.clock.now.addingTimeInterval(-30)
        let ids = ["handling", "remedy", "staff"]
        let recorded = try await app.api(key).recordCallbackAttempt(
            path: .init(callbackId: callback),
            body: .json(
                .init(
                    outcome: .reached, numberCalled: number, startedAt: ended.addingTimeInterval(-seconds), endedAt: ended,
                    callerId: callerID,
                    survey: .init(scores: zip(ids, scores).map { .init(questionId: $0.0, score: $0.1) }, nps: nps))))
        #expect(status(of: recorded) == .created, "\(recorded)")
        return try recorded.created.body.json
    }
}

extension ComplaintDesk {
    /// A desk whose dealer has a dealer's worth of complaints for a plan test: one complaint of
    /// customer 3, copied 5,000 times (each copy its own number, see `TestApp.copyRows`) and
    /// changed by `changes`, with statistics.
    static func withCopiedComplaints(_ app: TestApp, changing changes: String) async throws -> ComplaintDesk {
        let desk = try await make(app)
        let customer = try await desk.customer(app, 3)
        _ = try await desk.complaint(app, customer: customer.id)
        try await app.copyRows(of: "complaints", times: 5000, changing: "'number', 'TS-COPY-' || n, " + changes)
        return desk
    }

    /// `withCopiedComplaints` changes that close the copies where `condition` (SQL over the copy's
    /// number `n`) holds: resolved and closed when created, with a root cause and a remedy, as a
    /// closed complaint must be. The others are left being investigated.
    static func closing(where condition: String) -> String {
        """
        'status', CASE WHEN \(condition) THEN 'closed' ELSE 'investigating' END,
        'resolved_at', CASE WHEN \(condition) THEN t.created_at END,
        'root_cause', CASE WHEN \(condition) THEN '保养操作不当' END,
        'remedy', CASE WHEN \(condition) THEN 'repair' END,
        'closed_at', CASE WHEN \(condition) THEN t.created_at END
        """
    }
}
