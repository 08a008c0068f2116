@testable import CRMAPI
import CRMContract
import CRMTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import OpenAPIRuntime
import PropertyBased
import Testing

/// Every schema the contract answers with in JSON, by name. `responseSchemasCovered` fails when
/// `openapi.yaml` gains a response schema that is not listed here.
let responseTypes: [String: any (Codable & Sendable).Type] = [
    "APIKey": Components.Schemas.APIKey.self,
    "APIKeyCreated": Components.Schemas.APIKeyCreated.self,
    "APIKeyList": Components.Schemas.APIKeyList.self,
    "AuditEventList": Components.Schemas.AuditEventList.self,
    "CallTask": Components.Schemas.CallTask.self,
    "CallTaskList": Components.Schemas.CallTaskList.self,
    "CallbackDetail": Components.Schemas.CallbackDetail.self,
    "CallbackList": Components.Schemas.CallbackList.self,
    "Complaint": Components.Schemas.Complaint.self,
    "ComplaintEventList": Components.Schemas.ComplaintEventList.self,
    "ComplaintList": Components.Schemas.ComplaintList.self,
    "ComplaintNoteResult": Components.Schemas.ComplaintNoteResult.self,
    "ComplaintReport": Components.Schemas.ComplaintReport.self,
    "ConsentEvent": Components.Schemas.ConsentEvent.self,
    "ConsentEventList": Components.Schemas.ConsentEventList.self,
    "ConsentStateList": Components.Schemas.ConsentStateList.self,
    "Customer": Components.Schemas.Customer.self,
    "Customer360": Components.Schemas.Customer360.self,
    "CustomerList": Components.Schemas.CustomerList.self,
    "Dealer": Components.Schemas.Dealer.self,
    "DealerList": Components.Schemas.DealerList.self,
    "FollowUpList": Components.Schemas.FollowUpList.self,
    "FollowUpResult": Components.Schemas.FollowUpResult.self,
    "Group": Components.Schemas.Group.self,
    "Health": Components.Schemas.Health.self,
    "Job": Components.Schemas.Job.self,
    "JobList": Components.Schemas.JobList.self,
    "Lead": Components.Schemas.Lead.self,
    "LeadAssignmentList": Components.Schemas.LeadAssignmentList.self,
    "LeadConversion": Components.Schemas.LeadConversion.self,
    "LeadList": Components.Schemas.LeadList.self,
    "LeadReport": Components.Schemas.LeadReport.self,
    "MaintenanceSchedule": Components.Schemas.MaintenanceSchedule.self,
    "MaintenanceScheduleList": Components.Schemas.MaintenanceScheduleList.self,
    "MarketingStatus": Components.Schemas.MarketingStatus.self,
    "OdometerReading": Components.Schemas.OdometerReading.self,
    "OdometerReadingList": Components.Schemas.OdometerReadingList.self,
    "Ownership": Components.Schemas.Ownership.self,
    "OwnershipList": Components.Schemas.OwnershipList.self,
    "Problem": Components.Schemas.Problem.self,
    "Readiness": Components.Schemas.Readiness.self,
    "Reminder": Components.Schemas.Reminder.self,
    "ReminderList": Components.Schemas.ReminderList.self,
    "ReminderReport": Components.Schemas.ReminderReport.self,
    "ReminderRunSummary": Components.Schemas.ReminderRunSummary.self,
    "ServiceForecast": Components.Schemas.ServiceForecast.self,
    "ServiceVisit": Components.Schemas.ServiceVisit.self,
    "ServiceVisitList": Components.Schemas.ServiceVisitList.self,
    "Staff": Components.Schemas.Staff.self,
    "StaffList": Components.Schemas.StaffList.self,
    "SurveyIntegrityReport": Components.Schemas.SurveyIntegrityReport.self,
    "SurveyQuestionSet": Components.Schemas.SurveyQuestionSet.self,
    "SurveyQuestionSetList": Components.Schemas.SurveyQuestionSetList.self,
    "Vehicle": Components.Schemas.Vehicle.self,
    "VehicleList": Components.Schemas.VehicleList.self,
]

@Suite("JSON response writer: JSONEncoder's JSON, keys in the schema's order")
struct JSONWriterTests {
    static let casesPerSchema = 40

    @Test("every JSON response schema of the contract has its generated type in the differential test")
    func responseSchemasCovered() throws {
        let contract = try ContractSchemas.load()
        #expect(contract.unsupported.isEmpty, "the random values cannot model: \(contract.unsupported)")
        let missing = contract.responseSchemas.subtracting(responseTypes.keys)
        #expect(missing.isEmpty, "response schemas missing from `responseTypes`: \(missing.sorted())")
        let stale = Set(responseTypes.keys).subtracting(contract.responseSchemas)
        #expect(stale.isEmpty, "`responseTypes` lists schemas no response uses: \(stale.sorted())")
        #expect(contract.responseSchemas.count >= 55)
    }

    @Test("random values of every response schema: equal JSON from JSONEncoder and the writer, keys in the schema's order")
    func differential() async throws {
        let contract = try ContractSchemas.load()
        for name in contract.responseSchemas.sorted() {
            guard let type = responseTypes[name] else {
                Issue.record("\(name) has no registered type")
                continue
            }
            await propertyCheck(count: Self.casesPerSchema, input: RandomJSON.generator(name, in: contract)) { json in
            try Self.compare(type, name: name, json: json, contract: contract)
            }
        }
    }

    /// Decodes `json` as the runtime does, encodes the value both ways and compares.
    static func compare<T: Codable>(_ type: T.Type, name: String, json: String, contract: ContractSchemas) throws {
        let value: T
        do {
            value = try RuntimeCoders.decoder().decode(T.self, from: Data(json.utf8))
        } catch {
            Issue.record("\(name): the generated JSON does not decode (\(error)):\n\(json)")
            return
        }
        let expected = try ParsedJSON.parse(Array(try RuntimeCoders.encoder().encode(value)))
        let written = try JSONResponseWriter().encode(value)
        let actual = try ParsedJSON.parse(written)
        if let difference = ParsedJSON.difference(expected, actual) {
            Issue.record("\(name): \(difference)\nwritten: \(String(decoding: written, as: UTF8.self))\nfrom: \(json)")
        }
        if let problem = orderProblem(.ref(name), actual, contract) {
            Issue.record("\(name): \(problem)\nwritten: \(String(decoding: written, as: UTF8.self))")
        }
    }

    /// Where `value`'s members are not in the schema's order (free-form objects: sorted), if anywhere.
    static func orderProblem(_ node: SchemaNode, _ value: ParsedJSON, _ contract: ContractSchemas, at path: String = "$")
        -> String?
    {
        switch (contract.resolve(node), value) {
        case (.nullable, .null):
            return nil
        case (.nullable(let inner), _):
            return orderProblem(inner, value, contract, at: path)
        case (.object(let properties, _), .object(let members)) where properties.isEmpty:
            return sortedProblem(members, at: path)
        case (.object(let properties, _), .object(let members)):
            let present = Set(members.map(\.key))
            let expected = properties.map(\.name).filter(present.contains)
            guard members.map(\.key) == expected else { return "\(path): keys \(members.map(\.key)), schema order \(expected)" }
            for member in members {
                guard let property = properties.first(where: { $0.name == member.key }) else { continue }
                if let problem = orderProblem(property.schema, member.value, contract, at: "\(path).\(member.key)") { return problem }
            }
            return nil
        case (.array(let items), .array(let elements)):
            for (index, element) in elements.enumerated() {
                if let problem = orderProblem(items, element, contract, at: "\(path)[\(index)]") { return problem }
            }
            return nil
        default:
            return nil
        }
    }

    static func sortedProblem(_ members: [ParsedJSON.Member], at path: String) -> String? {
        let keys = members.map(\.key)
        guard keys == keys.sorted() else { return "\(path): free-form keys \(keys) not sorted" }
        for member in members {
            if case .object(let nested) = member.value, let problem = sortedProblem(nested, at: "\(path).\(member.key)") {
                return problem
            }
            if case .array(let elements) = member.value {
                for case .object(let nested) in elements {
                    if let problem = sortedProblem(nested, at: "\(path).\(member.key)[]") { return problem }
                }
            }
        }
        return nil
    }

    // MARK: The details, byte for byte

    @Test("strings: escaped byte for byte as JSONEncoder escapes them, with and without escaped slashes")
    func strings() throws {
        let plain = JSONEncoder()
        let noSlashes = JSONEncoder()
        noSlashes.outputFormatting = [.withoutEscapingSlashes]
        var all = ""
        for scalar in (0...0x7F).compactMap(Unicode.Scalar.init) { all.unicodeScalars.append(scalar) }
        let samples = RandomJSON.characters.map(String.init) + [all, "", "张伟 <zhang.wei@example.cn>", "a/b\\c\"d"]
        for sample in samples {
            #expect(try JSONResponseWriter().encode(sample) == Array(plain.encode(sample)), "\(sample.debugDescription)")
            #expect(
                try JSONResponseWriter(escapingSlashes: false).encode(sample) == Array(noSlashes.encode(sample)),
                "\(sample.debugDescription)")
            #expect(try JSONResponseWriter().encode(["k\(sample)": sample]) == Array(plain.encode(["k\(sample)": sample])))
        }
    }

    @Test("numbers: integers and floating point written byte for byte as JSONEncoder writes them; NaN refused")
    func numbers() throws {
        let encoder = JSONEncoder()
        let doubles = RandomJSON.extremeDoubles + RandomJSON.extremeDoubles.map { -$0 } + [0.1 + 0.2, 1 / 3, 1e300 * 10, 4.35, 1e-300]
        for value in doubles {
            #expect(try JSONResponseWriter().encode(value) == Array(encoder.encode(value)), "\(value)")
        }
        let floats: [Float] = [0, -0.0, 0.1, 1e20, .greatestFiniteMagnitude, .leastNormalMagnitude, .leastNonzeroMagnitude, 16_777_216, 0.3]
        #expect(try JSONResponseWriter().encode(floats) == Array(encoder.encode(floats)))
        let integers: [Int] = RandomJSON.extremeIntegers + [10, 99, 100, -100]
        #expect(try JSONResponseWriter().encode(integers) == Array(encoder.encode(integers)))
        #expect(try JSONResponseWriter().encode([Int64.min, Int64.max]) == Array(encoder.encode([Int64.min, Int64.max])))
        #expect(try JSONResponseWriter().encode([UInt64.max, 0]) == Array(encoder.encode([UInt64.max, 0])))
        #expect(try JSONResponseWriter().encode([Int8.min, Int8.max]) == Array(encoder.encode([Int8.min, Int8.max])))
        #expect(throws: EncodingError.self) { try JSONResponseWriter().encode(["x": Double.nan]) }
        #expect(throws: EncodingError.self) { try JSONResponseWriter().encode([Double.infinity]) }
        #expect(throws: EncodingError.self) { try JSONResponseWriter().encode(Float.infinity) }
    }

    @Test("dates go through RFC3339DateTranscoder's rule (whole seconds, UTC), also before 1970 and with fractions")
    func dates() throws {
        let dates = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_795_420_800.999), Date(timeIntervalSince1970: -0.5),
            Date(timeIntervalSince1970: -62_135_596_800), Date(timeIntervalSince1970: 253_402_300_799),
        ]
        #expect(try JSONResponseWriter().encode(dates) == Array(RuntimeCoders.encoder().encode(dates)))
        let text = String(decoding: try JSONResponseWriter().encode(dates), as: UTF8.self)
        #expect(text == #"["1970-01-01T00:00:00Z","2026-11-23T08:00:00Z","1969-12-31T23:59:59Z","0001-01-01T00:00:00Z","9999-12-31T23:59:59Z"]"#)
        let custom = JSONResponseWriter(dates: .transcoder(ISO8601DateTranscoder.iso8601))
        #expect(String(decoding: try custom.encode([Date(timeIntervalSince1970: 0)]), as: UTF8.self) == #"["1970-01-01T00:00:00Z"]"#)
    }

    @Test("shapes: two containers on one encoder, nested containers, superEncoder, empty values, nil, Data, Decimal, URL")
    func shapes() throws {
        let encoder = JSONEncoder()
        let samples: [any Encodable] = [
            TwoParts(), Nested(), WithSuper(), [Empty(), Empty()], ["e": Empty()], Optionals(a: nil, b: 2), Optionals(a: "x", b: nil),
            [Data([0, 1, 2, 250, 255])], [Decimal(string: "12.50") ?? 0, Decimal(string: "-1e30") ?? 0],
            [URL(string: "https://crm.example/a/b?c=d") ?? URL(fileURLWithPath: "/")], [[Int]](), [[String: Int]](), "top",
            42, true, [String?.none, "x"], SingleWrapped(inner: TwoParts()),
        ]
        for sample in samples {
            let expected = try ParsedJSON.parse(Array(encoder.encode(sample)))
            let actual = try ParsedJSON.parse(try JSONResponseWriter().encode(sample))
            #expect(ParsedJSON.difference(expected, actual) == nil, "\(sample): \(ParsedJSON.difference(expected, actual) ?? "")")
        }
        // Members in encode order, also across the two containers of one encoder.
        #expect(String(decoding: try JSONResponseWriter().encode(TwoParts()), as: UTF8.self) == #"{"id":1,"b":"two","c":[3],"d":{"e":null}}"#)
        #expect(String(decoding: try JSONResponseWriter().encode(Nested()), as: UTF8.self) == #"{"a":{"x":1,"y":[true,{"z":2}]},"b":[[],{}],"c":3}"#)
        #expect(String(decoding: try JSONResponseWriter().encode(WithSuper()), as: UTF8.self) == #"{"a":1,"super":{},"base":{"id":1,"b":"two","c":[3],"d":{"e":null}},"z":2}"#)
    }

    @Test("a container written to after its value moved on is an error, never broken JSON")
    func misuse() throws {
        #expect(throws: EncodingError.self) { try JSONResponseWriter().encode(LateWriter()) }
        #expect(throws: EncodingError.self) { try JSONResponseWriter().encode(TwoSingles()) }
    }

    @Test("free-form objects (a job's args) are written with sorted keys, nested too")
    func freeForm() throws {
        let innermost: [String: (any Sendable)?] = ["d": true, "c": 1.5]
        let list: [(any Sendable)?] = [1, "x", nil, innermost]
        let alpha: [String: (any Sendable)?] = ["b": 2, "a": list]
        let value: [String: (any Sendable)?] = ["zeta": 1, "alpha": alpha, "mid": "/\"", "nil": nil]
        let args = try OpenAPIObjectContainer(unvalidatedValue: value)
        let text = String(decoding: try JSONResponseWriter().encode(args), as: UTF8.self)
        #expect(text == #"{"alpha":{"a":[1,"x",null,{"c":1.5,"d":true}],"b":2},"mid":"\/\"","nil":null,"zeta":1}"#)
        let expected = try ParsedJSON.parse(Array(JSONEncoder().encode(args)))
        #expect(ParsedJSON.difference(expected, try ParsedJSON.parse(Array(text.utf8))) == nil)
    }

    // MARK: Through the HTTP server

    @Test("the server writes responses through the writer: keys in the schema's order, id first, problems too")
    func overHTTP() async throws {
        let contract = try ContractSchemas.load()
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let body: [String: Any] = [
                "kind": "person", "name": "张伟", "surname": "张", "phone": mobile(7_301), "email": "zhang.wei@example.cn",
                "tags": ["vip", "a/b"], "notes": "line\nbreak \"quoted\"", "hobbies": ["golf"], "preferred_brands": ["BMW"],
            ]
            let created = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: body)
            #expect(created.status == .created)
            let customer = try ParsedJSON.parse(Array(created.text.utf8))
            #expect(customer.members?.first?.key == "id")
            #expect(Self.orderProblem(.ref("Customer"), customer, contract) == nil, "\(created.text)")
            // The runtime's encoder would give these members in hash order: not the schema's.
            #expect((customer.members?.count ?? 0) >= 12)

            let list = try await app.client.call(.get, "/v1/customers?limit=5", key: tenants.keyA)
            let page = try ParsedJSON.parse(Array(list.text.utf8))
            #expect(Self.orderProblem(.ref("CustomerList"), page, contract) == nil, "\(list.text)")

            let missing = try await app.client.call(.get, "/v1/customers/\(UUID().uuidString.lowercased())", key: tenants.keyA)
            #expect(missing.status == .notFound)
            let problem = try ParsedJSON.parse(Array(missing.text.utf8))
            #expect(problem.members?.map(\.key) == ["type", "title", "status", "detail", "request_id"], "\(missing.text)")

            let invalid = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, json: ["kind": "person"])
            let refused = try ParsedJSON.parse(Array(invalid.text.utf8))
            #expect(Self.orderProblem(.ref("Problem"), refused, contract) == nil, "\(invalid.text)")
            #expect(refused.members?.last?.key == "errors", "\(invalid.text)")
        }
    }
}

// MARK: Hand-made shapes

/// An allOf-style type: two containers from one encoder, and a nested container.
private struct TwoParts: Encodable {
    enum First: String, CodingKey { case id, b }
    enum Second: String, CodingKey { case c, d }
    enum Inner: String, CodingKey { case e }
    func encode(to encoder: any Encoder) throws {
        var first = encoder.container(keyedBy: First.self)
        try first.encode(1, forKey: .id)
        try first.encode("two", forKey: .b)
        var second = encoder.container(keyedBy: Second.self)
        try second.encode([3], forKey: .c)
        var inner = second.nestedContainer(keyedBy: Inner.self, forKey: .d)
        try inner.encodeNil(forKey: .e)
    }
}

private struct Nested: Encodable {
    enum Keys: String, CodingKey { case a, b, c, x, y, z }
    func encode(to encoder: any Encoder) throws {
        var top = encoder.container(keyedBy: Keys.self)
        var a = top.nestedContainer(keyedBy: Keys.self, forKey: .a)
        try a.encode(1, forKey: .x)
        var y = a.nestedUnkeyedContainer(forKey: .y)
        try y.encode(true)
        var z = y.nestedContainer(keyedBy: Keys.self)
        try z.encode(2, forKey: .z)
        var b = top.nestedUnkeyedContainer(forKey: .b)
        _ = b.nestedUnkeyedContainer()
        try b.encode(Empty())
        try top.encode(3, forKey: .c)
    }
}

private struct WithSuper: Encodable {
    enum Keys: String, CodingKey { case a, base, z }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(1, forKey: .a)
        _ = container.superEncoder()
        try TwoParts().encode(to: container.superEncoder(forKey: .base))
        try container.encode(2, forKey: .z)
    }
}

private struct Empty: Encodable {
    func encode(to encoder: any Encoder) throws {}
}

private struct Optionals: Encodable {
    let a: String?
    let b: Int?
}

/// A single value container holding a keyed value.
private struct SingleWrapped: Encodable {
    let inner: TwoParts
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(inner)
    }
}

/// Writes to a nested container after its parent wrote the next member.
private struct LateWriter: Encodable {
    enum Keys: String, CodingKey { case a, b, c }
    func encode(to encoder: any Encoder) throws {
        var top = encoder.container(keyedBy: Keys.self)
        var nested = top.nestedContainer(keyedBy: Keys.self, forKey: .a)
        try top.encode(1, forKey: .b)
        try nested.encode(2, forKey: .c)
    }
}

private struct TwoSingles: Encodable {
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(1)
        try container.encode(2)
    }
}
