@testable import CRMAPI
import Foundation
import Testing

@Suite("The contract enforcing itself")
struct ContractValidatorTests {
    static let contract = """
        openapi: 3.1.0
        info: {title: t, version: '1'}
        paths:
          /things/{thing_id}:
            parameters:
              - {name: thing_id, in: path, required: true, schema: {type: string, format: uuid}}
            patch:
              parameters:
                - {name: If-Match, in: header, required: true, schema: {type: string, minLength: 1, maxLength: 8}}
                - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 200}}
                - {name: vin, in: query, schema: {type: string, maxLength: 17}}
              requestBody:
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/Thing'}
              responses: {'200': {description: ok}}
        components:
          schemas:
            Thing:
              type: object
              additionalProperties: false
              required: [name]
              properties:
                name: {type: string, minLength: 1, maxLength: 5}
                active: {type: boolean}
                count: {type: [integer, 'null'], minimum: 0, maximum: 3}
                kind: {type: [string, 'null'], enum: [a, b, null]}
                when: {type: string, format: date-time}
                day: {type: string, format: date}
                tags: {type: array, maxItems: 2, items: {type: string, maxLength: 3}}
                address: {type: [object, 'null'], additionalProperties: false, properties: {city: {type: string}}}
        """

    func validate(_ body: String, query: [(String, String)] = [], ifMatch: String? = #""1""#, path: String = "/things/3f9c4b1e-8c9a-4c3e-9f55-2a6c0d3b1a77") throws -> ContractValidator.Outcome {
        let validator = try ContractValidator(contract: Self.contract)
        return validator.validate(
            method: "PATCH", path: path, route: nil, query: { name in query.filter { $0.0 == name }.map(\.1) },
            header: { $0 == "If-Match" ? ifMatch : nil }, body: Array(body.utf8))
    }

    @Test("valid values pass, booleans and nulls included")
    func valid() throws {
        #expect(try validate(#"{"name": "ab", "active": false, "count": null, "kind": null, "when": "2026-11-23T08:00:00.123Z", "day": "2024-02-29", "tags": ["x"], "address": null}"#) == .valid)
        let second = try validate(#"{"name": "ab", "active": true, "count": 3, "kind": "a", "address": {"city": "上海"}}"#)
        #expect(second == .valid, "\(second)")
    }

    @Test("every violation is named: types, enums, lengths, ranges, formats, required, unknown, nested")
    func violations() throws {
        let outcome = try validate(
            #"{"active": 1, "count": 4, "kind": "c", "when": "yesterday", "day": "2023-02-29", "tags": ["x", "toolong", "y"], "address": {"town": 1}, "extra": true}"#)
        guard case .invalid(let violations) = outcome else {
            Issue.record("expected violations, got \(outcome)")
            return
        }
        #expect(Set(violations.map(\.field)) == ["name", "active", "count", "kind", "when", "day", "tags", "tags[1]", "address.town", "extra"])
        #expect(try validate(#"{"name": ""}"#) == .invalid([.init(field: "name", message: "must not be empty")]))
        #expect(try validate(#"{"name": "王小明好人啊"}"#) == .invalid([.init(field: "name", message: "must be at most 5 characters")]))
        #expect(try validate(#"{"name": null}"#) == .invalid([.init(field: "name", message: "must not be null")]))
    }

    @Test("parameters: path formats are 404, headers 400, query values 422")
    func parameters() throws {
        #expect(try validate(#"{"name": "a"}"#, path: "/things/not-a-uuid") == .noSuchResource)
        guard case .badHeaders = try validate(#"{"name": "a"}"#, ifMatch: String(repeating: "x", count: 9)) else {
            Issue.record("a too long If-Match should be a bad header")
            return
        }
        guard case .badHeaders = try validate(#"{"name": "a"}"#, ifMatch: nil) else {
            Issue.record("a missing required header should be a bad header")
            return
        }
        #expect(try validate(#"{"name": "a"}"#, query: [("limit", "0")]) == .invalid([.init(field: "limit", message: "must be at least 1")]))
        #expect(try validate(#"{"name": "a"}"#, query: [("limit", "ten")]) == .invalid([.init(field: "limit", message: "must be a whole number")]))
        #expect(try validate(#"{"name": "a"}"#, query: [("vin", String(repeating: "A", count: 18))]).self != .valid)
        #expect(try validate(#"{"name": "a"}"#, query: [("limit", "5"), ("vin", "ABC")]) == .valid)
    }
}

