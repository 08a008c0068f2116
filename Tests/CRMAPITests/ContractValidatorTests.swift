@testable import CRMAPI
import Foundation
import PropertyBased
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

    // MARK: Refusing what is not enforced

    /// A contract whose `Thing.count` property is `count` (YAML), with an inline request body
    /// and a path parameter beside it.
    static func contract(count: String, more: String = "") -> String {
        """
        openapi: 3.1.0
        info: {title: t, version: '1'}
        paths:
          /things:
            post:
              requestBody:
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/Thing'}
              responses: {'200': {description: ok}}
        \(more)
        components:
          schemas:
            Thing:
              type: object
              properties:
                count: \(count)
        """
    }

    /// What the validator refuses to start on (empty when it starts).
    func refusals(_ contract: String) -> [ContractValidator.Issue] {
        do {
            _ = try ContractValidator(contract: contract)
            return []
        } catch ContractValidator.ContractError.unenforced(let issues) {
            return issues
        } catch {
            Issue.record("unexpected error \(error)")
            return []
        }
    }

    static let countPath = "#/components/schemas/Thing/properties/count"

    @Test(
        "a keyword that is not enforced is refused at start-up, naming it and where it is",
        arguments: [
            ("multipleOf", "{type: integer, multipleOf: 5}"),
            ("uniqueItems", "{type: array, items: {type: string}, uniqueItems: true}"),
            ("allOf", "{allOf: [{type: integer}]}"),
            ("not", "{not: {type: string}}"),
            ("const", "{const: 3}"),
            ("minProperties", "{type: object, minProperties: 1}"),
            ("exclusiveMinimum", "{type: integer, exclusiveMinimum: 0}"),
            ("nullable", "{type: integer, nullable: true}"),
            ("patternProperties", "{type: object, patternProperties: {'^x': {type: string}}}"),
            ("discriminator", "{oneOf: [{type: string}], discriminator: {propertyName: kind}}"),
        ])
    func unenforcedKeyword(keyword: String, schema: String) throws {
        let issues = refusals(Self.contract(count: schema))
        #expect(issues.map(\.keyword) == [keyword])
        #expect(issues.first?.path == Self.countPath)
        do {
            _ = try ContractValidator(contract: Self.contract(count: schema))
        } catch {
            let text = "\(error)"
            #expect(text.contains(keyword) && text.contains(Self.countPath), "\(text)")
        }
    }

    @Test("the keyword is found anywhere: items, anyOf, inline bodies, parameters, responses, unused components")
    func everySchemaIsWalked() throws {
        let more = """
              /things/{thing_id}:
                parameters:
                  - {name: thing_id, in: path, required: true, schema: {type: string, format: uuid, maxProperties: 2}}
                patch:
                  requestBody:
                    content:
                      application/merge-patch+json:
                        schema: {type: object, properties: {tags: {type: array, items: {type: string, contains: {}}}}}
                  responses:
                    '200':
                      description: ok
                      headers: {ETag: {schema: {type: string, const: x}}}
                      content: {application/json: {schema: {type: object, dependentRequired: {a: [b]}}}}
            """
        let issues = refusals(
            Self.contract(count: "{anyOf: [{type: integer}, {type: string, uniqueItems: true}]}", more: more)
                + "\n    Unused: {type: object, properties: {deep: {type: array, items: {if: {type: string}}}}}")
        #expect(
            issues.map { "\($0.path) \($0.keyword)" } == [
                "#/components/schemas/Thing/properties/count/anyOf/1 uniqueItems",
                "#/components/schemas/Unused/properties/deep/items if",
                "#/paths/~1things~1{thing_id}/parameters/0/schema maxProperties",
                "#/paths/~1things~1{thing_id}/patch/requestBody/content/application~1merge-patch+json/schema/properties/tags/items contains",
                "#/paths/~1things~1{thing_id}/patch/responses/200/content/application~1json/schema dependentRequired",
                "#/paths/~1things~1{thing_id}/patch/responses/200/headers/ETag/schema const",
            ])
    }

    @Test("formats: uuid, date and date-time on strings; int32 and int64 on integers; nothing else")
    func formats() throws {
        #expect(refusals(Self.contract(count: "{type: [string, 'null'], format: uuid}")).isEmpty)
        #expect(refusals(Self.contract(count: "{type: string, format: date}")).isEmpty)
        #expect(refusals(Self.contract(count: "{type: string, format: date-time}")).isEmpty)
        #expect(refusals(Self.contract(count: "{type: integer, format: int64, minimum: 1}")).isEmpty)
        #expect(refusals(Self.contract(count: "{type: [integer, 'null'], format: int32}")).isEmpty)
        for schema in [
            "{type: string, format: email}", "{type: string, format: uri}", "{format: hostname}",
            "{type: integer, format: uuid}", "{type: string, format: int64}", "{type: number, format: double}",
        ] {
            let issues = refusals(Self.contract(count: schema))
            #expect(issues.map(\.keyword) == ["format"], "\(schema)")
            #expect(issues.first?.path == Self.countPath)
        }
        let unknown = refusals(Self.contract(count: "{type: string, format: email}"))
        #expect(unknown.first?.reason.contains("email") == true)
    }

    @Test("the uuid format accepts exactly the 8-4-4-4-12 hex form, on 20,000 mutations of a UUID; what it accepts parses to itself")
    func uuidFormat() {
        let base = Array("3f9c4b1e-8C9A-4c3e-9f55-2a6c0d3b1a77")
        let replacements: [Character] = ["-", "0", "9", "a", "f", "A", "F", "g", "G", "/", ":", "@", "`", " ", "王", "\u{0}", "x"]
        let canonicalForm = try! NSRegularExpression(pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
        var rng = Xoshiro(seed: (7, 11, 13, 17))
        for _ in 0..<20_000 {
            var text = base
            for _ in 0..<Int.random(in: 0...2, using: &rng) {
                let position = Int.random(in: 0..<text.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: text[position] = replacements.randomElement(using: &rng)!
                case 1: text.remove(at: position)
                default: text.insert(replacements.randomElement(using: &rng)!, at: position)
                }
            }
            let string = String(text)
            let canonical = canonicalForm.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) != nil
            #expect(Formats.isUUID(string) == canonical, "\(string)")
            // Foundation's parser (sscanf on Linux) is laxer: it also takes spaces and misplaced
            // hyphens, which the contract's format does not.
            if canonical { #expect(UUID(uuidString: string)?.uuidString == string.uppercased(), "\(string)") }
        }
        #expect(!Formats.isUUID("") && !Formats.isUUID(String(base) + "0"))
    }

    @Test("JSON true and false are booleans, not numbers, and numbers are not booleans")
    func booleansAreNotNumbers() throws {
        #expect(try validate(#"{"name": "ab", "count": true}"#) == .invalid([.init(field: "count", message: "must be a whole number or null")]))
        #expect(try validate(#"{"name": "ab", "active": 0}"#) == .invalid([.init(field: "active", message: "must be true or false")]))
        #expect(try validate(#"{"name": "ab", "active": true, "count": 1}"#) == .valid)
    }

    @Test("forms that are not enforced: schema-valued additionalProperties, bad patterns, bad $refs, odd values")
    func unenforcedForms() throws {
        let cases: [(String, [String])] = [
            ("{type: object, additionalProperties: {type: string}}", ["additionalProperties"]),
            ("{type: string, pattern: '[a-'}", ["pattern"]),
            ("{$ref: '#/components/schemas/Nope'}", ["$ref"]),
            ("{$ref: 'other.yaml#/Thing'}", ["$ref"]),
            ("{$ref: '#/components/schemas/Thing', maxLength: 3}", ["maxLength"]),
            ("{type: integer, enum: [1, 2]}", ["enum"]),
            ("{type: strin}", ["type"]),
            ("{type: string, maxLength: -1}", ["maxLength"]),
            ("{type: string, minLength: '3'}", ["minLength"]),
            ("{type: array, items: [{type: string}]}", ["items"]),
            ("true", ["schema"]),
            ("{type: object, required: name}", ["required"]),
            ("{type: integer, minimum: 1, maximum: 2, multipleOf: 1, not: {}}", ["multipleOf", "not"]),
        ]
        for (schema, keywords) in cases {
            #expect(refusals(Self.contract(count: schema)).map(\.keyword) == keywords, "\(schema)")
        }
    }

    @Test("request bodies and parameters the validator would not read are refused")
    func unreadRequests() throws {
        let textBody = """
              /notes:
                post:
                  requestBody: {content: {text/plain: {schema: {type: string}}}}
                  responses: {'200': {description: ok}}
            """
        #expect(refusals(Self.contract(count: "{type: integer}", more: textBody)).map(\.keyword) == ["content"])
        let twoSchemas = """
              /notes:
                patch:
                  requestBody:
                    content:
                      application/json: {schema: {type: object}}
                      application/merge-patch+json: {schema: {type: array}}
                  responses: {'200': {description: ok}}
            """
        #expect(refusals(Self.contract(count: "{type: integer}", more: twoSchemas)).map(\.keyword) == ["schema"])
        let cookie = """
              /notes:
                get:
                  parameters: [{name: session, in: cookie, schema: {type: string}}]
                  responses: {'200': {description: ok}}
            """
        #expect(refusals(Self.contract(count: "{type: integer}", more: cookie)).map(\.keyword) == ["in"])
        let styled = """
              /notes:
                get:
                  parameters: [{name: ids, in: query, style: form, explode: false, schema: {type: array, items: {type: string}}}]
                  responses: {'200': {description: ok}}
            """
        #expect(refusals(Self.contract(count: "{type: integer}", more: styled)).map(\.keyword) == ["explode", "style", "type"])
    }

    @Test("annotations are accepted anywhere, $ref may carry them")
    func annotations() throws {
        let schema = "{type: integer, description: d, title: t, example: 1, examples: [1], default: 1, deprecated: false, "
            + "readOnly: true, writeOnly: false, externalDocs: {url: 'https://example.com'}, $comment: c, x-internal: true}"
        #expect(refusals(Self.contract(count: schema)).isEmpty)
        #expect(refusals(Self.contract(count: "{$ref: '#/components/schemas/Thing', description: nested}")).isEmpty)
    }

    /// (The HTTP tests load the bundled copy through `APIHandler`; this reads the published one,
    /// the top-level `openapi.yaml`, a symlink to the file that is bundled.)
    @Test("the contract the service ships loads")
    func bundledContract() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("openapi.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let validator = try ContractValidator(contract: text)
        #expect(validator.allowedMethods(forPath: "/v1/customers")?.contains("POST") == true)
    }

    /// A literal segment matches before a parameter (OpenAPI's rule): `/v1/reminders/scan` is the
    /// scan (POST), not a reminder whose id is "scan" (GET). The fuzzer found `OPTIONS
    /// /v1/reminders/scan` answered `Allow: GET` now and then: the first matching template won,
    /// in a dictionary's order.
    @Test("a literal path segment matches before a parameter, whatever the order of the templates")
    func literalBeforeParameter() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("openapi.yaml")
        let validator = try ContractValidator(contract: try String(contentsOf: url, encoding: .utf8))
        for _ in 0..<20 {
            #expect(validator.allowedMethods(forPath: "/v1/reminders/scan") == ["POST"])
            #expect(validator.allowedMethods(forPath: "/v1/reminders/7d1f0c52-3c43-4a55-9a0e-0f2b1e6f4a11") == ["GET"])
        }
        let contract = """
            openapi: 3.1.0
            info: {title: t, version: '1'}
            paths:
              /a/{x}/c: {get: {responses: {'200': {description: ok}}}}
              /a/b/{y}: {post: {responses: {'200': {description: ok}}}}
              /a/{x}/{y}: {delete: {responses: {'200': {description: ok}}}}
            """
        let small = try ContractValidator(contract: contract)
        #expect(small.allowedMethods(forPath: "/a/b/c") == ["POST"])
        #expect(small.allowedMethods(forPath: "/a/q/c") == ["GET"])
        #expect(small.allowedMethods(forPath: "/a/q/r") == ["DELETE"])
    }

    // MARK: Enforcing

    static let alternatives = """
        openapi: 3.1.0
        info: {title: t, version: '1'}
        paths:
          /things:
            post:
              parameters:
                - {name: ratio, in: query, schema: {type: number, minimum: 0, maximum: 1}}
              requestBody:
                content:
                  application/json:
                    schema: {$ref: '#/components/schemas/Alias'}
              responses: {'200': {description: ok}}
        components:
          schemas:
            Alias: {$ref: '#/components/schemas/Thing'}
            Thing:
              type: object
              additionalProperties: false
              properties:
                pick: {oneOf: [{type: string, maxLength: 3}, {type: string, minLength: 2}]}
                any: {anyOf: [{type: integer}, {type: string, format: uuid}]}
                kind: {type: [string, 'null'], enum: [a, b]}
                maybe: {type: [string, 'null'], enum: [a, null]}
        """

    func check(_ body: String, query: [(String, String)] = []) throws -> ContractValidator.Outcome {
        let validator = try ContractValidator(contract: Self.alternatives)
        return validator.validate(
            method: "POST", path: "/things", route: nil, query: { name in query.filter { $0.0 == name }.map(\.1) },
            header: { _ in nil }, body: Array(body.utf8))
    }

    @Test("oneOf takes exactly one, anyOf at least one; null must be in the enum; number parameters")
    func enforcing() throws {
        #expect(try check(#"{"pick": "a", "any": 3, "maybe": null}"#) == .valid)
        #expect(try check(#"{"pick": "abcd", "any": "3f9c4b1e-8c9a-4c3e-9f55-2a6c0d3b1a77"}"#) == .valid)
        #expect(try check(#"{"pick": "ab"}"#) == .invalid([.init(field: "pick", message: "matches more than one of its allowed forms")]))
        #expect(try check(#"{"any": "x"}"#) == .invalid([.init(field: "any", message: "must be a whole number")]))
        #expect(try check(#"{"kind": null}"#) == .invalid([.init(field: "kind", message: "must be one of: a, b")]))
        #expect(try check(#"{"other": 1}"#) == .invalid([.init(field: "other", message: "is not a known field")]))
        #expect(try check("{}", query: [("ratio", "0.25")]) == .valid)
        #expect(try check("{}", query: [("ratio", "1.5")]) == .invalid([.init(field: "ratio", message: "must be at most 1")]))
        #expect(try check("{}", query: [("ratio", "half")]) == .invalid([.init(field: "ratio", message: "must be a number")]))
    }
}
