import CanonicalUUID
import Foundation
import Yams

/// The contract enforcing itself. `openapi.yaml` is read once at start-up; every request's path
/// parameters, query parameters, headers and JSON body are checked against the constraints it
/// declares (types, enums, lengths, ranges, patterns, formats, required members, no unknown
/// members) before any handler runs, and every violation is reported at once with its field.
/// The generated decoders check types and enums only; this closes the gap so that what the
/// contract forbids is refused, always with a 4xx.
struct ContractValidator: Sendable {
    /// A compiled schema. The compiler accepts only the keywords below (and annotations): any
    /// other keyword, format or form is an error at start-up (`ContractError.unenforced`), so a
    /// constraint in the contract is never silently left unchecked.
    final class Schema: @unchecked Sendable {
        // Immutable after the contract is compiled (cycles through $ref are closed at the end).
        var types: Set<String> = [] {
            didSet { kinds = Kinds(types) }
        }
        /// `types` as bits, which is what checking a value reads.
        private(set) var kinds: Kinds = []
        var enumValues: [AnyHashable?]?
        var minLength: Int?
        var maxLength: Int?
        var pattern: NSRegularExpression?
        var format: Formats.Format?
        var minimum: Double?
        var maximum: Double?
        var minItems: Int?
        var maxItems: Int?
        var items: Schema?
        var properties: [String: Schema] = [:]
        var required: [String] = []
        var closed = false
        var anyOf: [Schema] = []
        var oneOf: [Schema] = []
    }

    /// JSON types a schema allows (none: any).
    struct Kinds: OptionSet, Sendable {
        let rawValue: UInt8
        static let string = Kinds(rawValue: 1 << 0)
        static let integer = Kinds(rawValue: 1 << 1)
        static let number = Kinds(rawValue: 1 << 2)
        static let boolean = Kinds(rawValue: 1 << 3)
        static let array = Kinds(rawValue: 1 << 4)
        static let object = Kinds(rawValue: 1 << 5)
        static let null = Kinds(rawValue: 1 << 6)

        init(rawValue: UInt8) { self.rawValue = rawValue }

        init(_ names: Set<String>) {
            let bits: [String: Kinds] = [
                "string": .string, "integer": .integer, "number": .number, "boolean": .boolean, "array": .array,
                "object": .object, "null": .null,
            ]
            self = names.reduce(into: []) { $0.formUnion(bits[$1] ?? []) }
        }
    }

    struct Parameter: Sendable {
        let name: String
        let location: String
        let required: Bool
        let schema: Schema
    }

    struct Operation: Sendable {
        let parameters: [Parameter]
        let body: Schema?
        let pathParameters: [Parameter]
        let queryParameters: [Parameter]
        let headerParameters: [Parameter]

        init(parameters: [Parameter], body: Schema?) {
            self.parameters = parameters
            self.body = body
            pathParameters = parameters.filter { $0.location == "path" }
            queryParameters = parameters.filter { $0.location == "query" }
            headerParameters = parameters.filter { $0.location == "header" }
        }
    }

    struct Violation: Sendable, Equatable {
        let field: String
        let message: String
    }

    /// Operations keyed by "METHOD /template/{}".
    private let operations: [String: Operation]
    /// The same operations keyed by "METHOD" + the path as the contract spells it (which is
    /// what the router reports as the matched route).
    private let operationsByRoute: [String: Operation]
    /// Declared methods by normalised path template.
    private let methods: [String: Set<String>]

    /// Reads and compiles the contract. Every schema in it (components, parameters, request and
    /// response bodies, headers, and everything nested in them) may use only what `check`
    /// enforces, plus annotations; anything else is a `ContractError.unenforced` naming each
    /// keyword and where it is, so the service refuses to start rather than leave a constraint
    /// unchecked.
    init(contract: String) throws {
        guard let document = try Yams.load(yaml: contract) as? [String: Any] else { throw ContractError.unreadable }
        let compiler = Compiler(components: document["components"] as? [String: Any] ?? [:])
        compiler.compileComponents()
        var operations: [String: Operation] = [:]
        var operationsByRoute: [String: Operation] = [:]
        var methods: [String: Set<String>] = [:]
        let httpMethods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        let paths = document["paths"] as? [String: Any] ?? [:]
        for path in paths.keys.sorted() {
            let at = Compiler.pointer("#/paths", path)
            guard let item = paths[path] as? [String: Any] else {
                compiler.issue(at, "path item", "is not an object")
                continue
            }
            if item["$ref"] != nil { compiler.issue(at, "$ref", "path items by reference are not checked") }
            let shared = compiler.parameters(item["parameters"], at: at + "/parameters")
            methods[Self.template(path)] = Set(item.keys.filter(httpMethods.contains).map { $0.uppercased() })
            for method in item.keys.sorted() where httpMethods.contains(method) {
                guard let operation = item[method] as? [String: Any] else {
                    compiler.issue(at + "/" + method, "operation", "is not an object")
                    continue
                }
                let own = compiler.parameters(operation["parameters"], at: at + "/\(method)/parameters")
                let body = compiler.requestBody(operation["requestBody"], at: at + "/\(method)/requestBody")
                compiler.responses(operation["responses"], at: at + "/\(method)/responses")
                let compiled = Operation(parameters: shared + own, body: body)
                operations["\(method.uppercased()) \(Self.template(path))"] = compiled
                operationsByRoute[method.uppercased() + path] = compiled
            }
        }
        if !compiler.issues.isEmpty { throw ContractError.unenforced(compiler.sortedIssues) }
        self.operations = operations
        self.operationsByRoute = operationsByRoute
        self.methods = methods
    }

    /// Something in the contract that this validator would not enforce, and where it is (a JSON
    /// pointer into the contract, e.g. `#/components/schemas/Thing/properties/count`).
    struct Issue: Sendable, Equatable, Hashable, CustomStringConvertible {
        let path: String
        let keyword: String
        let reason: String
        var description: String { "\(path): \(keyword) \(reason)" }
    }

    enum ContractError: Error, CustomStringConvertible {
        case unreadable
        /// Keywords, formats or forms that `ContractValidator` does not enforce.
        case unenforced([Issue])

        var description: String {
            switch self {
            case .unreadable:
                return "the contract is not a YAML mapping"
            case .unenforced(let issues):
                return "the contract uses what ContractValidator does not enforce (enforce it there or change the contract):\n"
                    + issues.map { "  \($0)" }.joined(separator: "\n")
            }
        }
    }

    static func template(_ path: String) -> String {
        "/" + path.split(separator: "/").map { $0.hasPrefix("{") || $0.hasPrefix(":") ? "{}" : String($0) }.joined(separator: "/")
    }

    /// The template a concrete path matches, if any; where several do, the one whose first
    /// differing segment is literal (`/v1/reminders/scan` before `/v1/reminders/{}`), as OpenAPI
    /// matches concrete paths before templated ones.
    private func match(_ path: String) -> String? {
        let segments = path.split(separator: "/")
        var best: [Substring]?
        for template in methods.keys {
            let parts = template.split(separator: "/")
            guard parts.count == segments.count, zip(parts, segments).allSatisfy({ $0 == "{}" || $0 == $1 }) else { continue }
            guard let current = best else {
                best = parts
                continue
            }
            // The first segment where the two differ: one of them is a parameter there.
            if let (candidate, _) = zip(parts, current).first(where: { $0 != $1 }), candidate != "{}" { best = parts }
        }
        return best.map { "/" + $0.joined(separator: "/") }
    }

    /// The methods the contract declares for `path`, or nil for a path it does not know.
    func allowedMethods(forPath path: String) -> Set<String>? {
        match(path).flatMap { methods[$0] }
    }

    enum Outcome: Sendable, Equatable {
        case valid
        /// A path parameter does not fit: nothing can exist there (404).
        case noSuchResource
        /// A header does not fit (400).
        case badHeaders([Violation])
        /// Query or body values do not fit (422).
        case invalid([Violation])
    }

    /// Checks one request against its operation. `route` is the template the router matched
    /// (`/v1/customers/{customer_id}`) with its parameter values; without it the path is matched
    /// here.
    func validate(
        method: String, path: String, route: (template: String, parameter: (String) -> String?)?,
        query: (String) -> [String], header: (String) -> String?, body: [UInt8]?
    ) -> Outcome {
        let operation: Operation
        var pathValue: (String) -> String?
        if let route, let found = operationsByRoute[method + route.template] {
            operation = found
            pathValue = route.parameter
        } else {
            guard let template = match(path), let found = operations["\(method) \(template)"] else { return .valid }
            operation = found
            let templateParts: [Substring] = template.split(separator: "/")
            let pathParts: [Substring] = path.split(separator: "/")
            var values: [String] = []
            for (part, value) in zip(templateParts, pathParts) where part == "{}" {
                values.append(String(value).removingPercentEncoding ?? String(value))
            }
            let names = operation.pathParameters.map(\.name)
            pathValue = { name in names.firstIndex(of: name).flatMap { $0 < values.count ? values[$0] : nil } }
        }
        for parameter in operation.pathParameters {
            guard let value = pathValue(parameter.name) else { continue }
            var found: [Violation] = []
            Self.check(string: value, against: parameter.schema, field: parameter.name, into: &found)
            if !found.isEmpty { return .noSuchResource }
        }
        var headerViolations: [Violation] = []
        for parameter in operation.headerParameters {
            if let value = header(parameter.name) {
                Self.check(string: value, against: parameter.schema, field: parameter.name, into: &headerViolations)
            } else if parameter.required {
                headerViolations.append(Violation(field: parameter.name, message: "is required"))
            }
        }
        var violations: [Violation] = []
        for parameter in operation.queryParameters {
            let values = query(parameter.name)
            if values.count > 1 { violations.append(Violation(field: parameter.name, message: "is given more than once")) }
            if let value = values.first {
                Self.check(string: value, against: parameter.schema, field: parameter.name, into: &violations)
            } else if parameter.required {
                violations.append(Violation(field: parameter.name, message: "is required"))
            }
        }
        if let schema = operation.body, let body, !body.isEmpty, let value = JSONValue.parse(body) {
            Self.check(value, against: schema, field: "", into: &violations)
        }
        if !headerViolations.isEmpty { return .badHeaders(headerViolations) }
        return violations.isEmpty ? .valid : .invalid(violations.sorted { $0.field < $1.field })
    }

    // MARK: Checking values

    /// A parameter's text, read as the type its schema declares.
    static func check(string: String, against schema: Schema, field: String, into violations: inout [Violation]) {
        if schema.kinds.contains(.integer) {
            guard let number = Int(string) else {
                violations.append(Violation(field: field, message: "must be a whole number"))
                return
            }
            check(.number(Double(number)), against: schema, field: field, into: &violations)
        } else if schema.kinds.contains(.number) {
            guard let number = Double(string), number.isFinite else {
                violations.append(Violation(field: field, message: "must be a number"))
                return
            }
            check(.number(number), against: schema, field: field, into: &violations)
        } else if schema.kinds.contains(.boolean) {
            guard string == "true" || string == "false" else {
                violations.append(Violation(field: field, message: "must be true or false"))
                return
            }
        } else if schema.anyOf.isEmpty, schema.oneOf.isEmpty {
            // A plain string schema (every path id, most query parameters): checked as text,
            // without building a `JSONValue` first.
            checkText(string, against: schema, path: FieldPath(root: field), into: &violations)
        } else {
            check(.string(string), against: schema, field: field, into: &violations)
        }
    }

    static func check(_ value: JSONValue, against schema: Schema, field: String, into violations: inout [Violation]) {
        check(value, against: schema, path: FieldPath(root: field), into: &violations)
    }

    /// A JSON path built only when a violation needs it (checking a valid body allocates none).
    struct FieldPath {
        enum Step {
            case key(String)
            case index(Int)
        }
        let root: String
        var steps: [Step] = []

        init(root: String) { self.root = root }

        func appending(_ step: Step) -> FieldPath {
            var copy = self
            copy.steps.append(step)
            return copy
        }

        var text: String {
            var text = root
            for step in steps {
                switch step {
                case .key(let key): text = text.isEmpty ? key : "\(text).\(key)"
                case .index(let index): text += "[\(index)]"
                }
            }
            return text
        }
    }

    static func check(_ value: JSONValue, against schema: Schema, path: FieldPath, into violations: inout [Violation]) {
        func fail(_ message: String) { violations.append(Violation(field: path.text, message: message)) }
        // anyOf: one alternative must accept the value; oneOf: exactly one. Otherwise the first
        // alternative's view is reported. The schema's own keywords apply as well.
        if !schema.anyOf.isEmpty, let errors = alternatives(schema.anyOf, value, path: path, exactlyOne: false) {
            violations += errors
            return
        }
        if !schema.oneOf.isEmpty, let errors = alternatives(schema.oneOf, value, path: path, exactlyOne: true) {
            violations += errors
            return
        }
        let kinds = schema.kinds
        if case .null = value {
            if !kinds.isEmpty, !kinds.contains(.null) {
                fail("must not be null")
            } else if let values = schema.enumValues, !values.contains(where: { $0 == nil }) {
                fail(oneOfTheValues(values))
            }
            return
        }
        // `enum` lists strings (and null) only: any other value is not one of them.
        if let values = schema.enumValues {
            guard case .string = value else { return fail(oneOfTheValues(values)) }
        }
        switch value {
        case .null:
            return
        case .bool:
            if !(kinds.isEmpty || kinds.contains(.boolean)) { fail("must be \(describe(schema.types))") }
        case .string(let text):
            checkText(text, against: schema, path: path, into: &violations)
        case .number(let double):
            if kinds.contains(.integer), !kinds.contains(.number), double.rounded() != double {
                return fail("must be a whole number")
            }
            if !kinds.isEmpty, !kinds.contains(.integer), !kinds.contains(.number) {
                return fail("must be \(describe(schema.types))")
            }
            if let minimum = schema.minimum, double < minimum { fail("must be at least \(format(minimum))") }
            if let maximum = schema.maximum, double > maximum { fail("must be at most \(format(maximum))") }
        case .array(let array):
            guard kinds.isEmpty || kinds.contains(.array) else { return fail("must be \(describe(schema.types))") }
            if let minimum = schema.minItems, array.count < minimum { fail("must have at least \(minimum) entries") }
            if let maximum = schema.maxItems, array.count > maximum { fail("must have at most \(maximum) entries") }
            if let items = schema.items {
                for (index, element) in array.enumerated() {
                    check(element, against: items, path: path.appending(.index(index)), into: &violations)
                }
            }
        case .object(let object):
            guard kinds.isEmpty || kinds.contains(.object) else { return fail("must be \(describe(schema.types))") }
            for name in schema.required where object[name] == nil {
                violations.append(Violation(field: path.appending(.key(name)).text, message: "is required"))
            }
            for (key, child) in object {
                if let property = schema.properties[key] {
                    check(child, against: property, path: path.appending(.key(key)), into: &violations)
                } else if schema.closed {
                    violations.append(Violation(field: path.appending(.key(key)).text, message: "is not a known field"))
                }
            }
        }
    }

    /// A string value against the schema's own keywords (its `anyOf`/`oneOf` are the caller's).
    private static func checkText(_ text: String, against schema: Schema, path: FieldPath, into violations: inout [Violation]) {
        func fail(_ message: String) { violations.append(Violation(field: path.text, message: message)) }
        if let values = schema.enumValues {
            let candidate = AnyHashable(text)
            if !values.contains(where: { $0 == candidate }) { return fail(oneOfTheValues(values)) }
        }
        guard schema.kinds.isEmpty || schema.kinds.contains(.string) else { return fail("must be \(describe(schema.types))") }
        if text.utf8.contains(0) { fail("must not contain the NUL character") }
        let length = text.unicodeScalars.count
        if let minimum = schema.minLength, length < minimum {
            fail(minimum == 1 ? "must not be empty" : "must be at least \(minimum) characters")
        }
        if let maximum = schema.maxLength, length > maximum { fail("must be at most \(maximum) characters") }
        if let pattern = schema.pattern,
            pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil
        {
            fail("does not have the expected form")
        }
        if let format = schema.format, !Formats.accepts(format, text) { fail(Formats.message(format)) }
    }

    private static func oneOfTheValues(_ values: [AnyHashable?]) -> String {
        "must be one of: \(values.compactMap { $0.map { "\($0)" } }.joined(separator: ", "))"
    }

    /// Nil when the alternatives accept `value` (one of them, or exactly one); else what to report.
    private static func alternatives(_ schemas: [Schema], _ value: JSONValue, path: FieldPath, exactlyOne: Bool) -> [Violation]? {
        var firstErrors: [Violation]?
        var accepted = 0
        for alternative in schemas {
            var errors: [Violation] = []
            check(value, against: alternative, path: path, into: &errors)
            if errors.isEmpty {
                accepted += 1
                if !exactlyOne || accepted > 1 { break }
            } else if firstErrors == nil {
                firstErrors = errors
            }
        }
        if accepted == 1 || (accepted > 1 && !exactlyOne) { return nil }
        if accepted > 1 { return [Violation(field: path.text, message: "matches more than one of its allowed forms")] }
        return firstErrors ?? []
    }

    private static func format(_ number: Double) -> String {
        number.rounded() == number ? String(Int(number)) : String(number)
    }

    private static func describe(_ types: Set<String>) -> String {
        let names: [String: String] = [
            "string": "a string", "integer": "a whole number", "number": "a number", "boolean": "true or false",
            "array": "an array", "object": "an object", "null": "null",
        ]
        return types.sorted().compactMap { names[$0] }.joined(separator: " or ")
    }

    // MARK: Compiling the contract

    /// Schema keywords `check` enforces. `additionalProperties` only as a boolean; `format` only
    /// the formats in `Formats` (and int32/int64 on integers, which the generated decoders hold
    /// to); `enum` only with string and null values; `$ref` only to `#/components/schemas/...`.
    static let enforcedKeywords: Set<String> = [
        "type", "enum", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "minItems", "maxItems",
        "items", "properties", "required", "additionalProperties", "anyOf", "oneOf", "$ref",
    ]
    /// Keywords that constrain nothing (`x-...` extensions are annotations too).
    static let annotationKeywords: Set<String> = [
        "description", "title", "example", "examples", "default", "deprecated", "readOnly", "writeOnly",
        "externalDocs", "$comment",
    ]

    static func isAnnotation(_ keyword: String) -> Bool {
        annotationKeywords.contains(keyword) || keyword.hasPrefix("x-")
    }

    private final class Compiler {
        static let jsonTypes: Set<String> = ["string", "integer", "number", "boolean", "array", "object", "null"]
        /// Request body media types whose body is checked (one schema for all of them).
        static let jsonMediaTypes: Set<String> = ["application/json", "application/merge-patch+json"]
        static let parameterKeys: Set<String> = ["name", "in", "required", "schema"]
        static let parameterAnnotations: Set<String> = ["description", "deprecated", "example", "examples"]

        let components: [String: Any]
        let schemas: [String: Any]
        let parameterComponents: [String: Any]
        let requestBodyComponents: [String: Any]
        var compiled: [String: Schema] = [:]
        var compiledParameters: [String: Parameter?] = [:]
        var compiledRequestBodies: [String: Schema?] = [:]
        private(set) var issues: [Issue] = []

        init(components: [String: Any]) {
            self.components = components
            schemas = components["schemas"] as? [String: Any] ?? [:]
            parameterComponents = components["parameters"] as? [String: Any] ?? [:]
            requestBodyComponents = components["requestBodies"] as? [String: Any] ?? [:]
        }

        /// The issues in a stable order, each once.
        var sortedIssues: [Issue] {
            Array(Set(issues)).sorted { ($0.path, $0.keyword, $0.reason) < ($1.path, $1.keyword, $1.reason) }
        }

        func issue(_ path: String, _ keyword: String, _ reason: String) {
            issues.append(Issue(path: path, keyword: keyword, reason: reason))
        }

        /// A JSON pointer one step below `base` (RFC 6901 escaping).
        static func pointer(_ base: String, _ token: String) -> String {
            base + "/" + token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
        }

        /// The component `reference` names under `prefix` (`#/components/schemas/`), if it does.
        static func componentName(_ reference: Any, prefix: String, in table: [String: Any]) -> String? {
            guard let reference = reference as? String, reference.hasPrefix(prefix) else { return nil }
            let token = reference.dropFirst(prefix.count)
            guard !token.contains("/") else { return nil }
            let name = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            return table[name] == nil ? nil : name
        }

        /// Every component, referenced or not: the vocabulary holds for the whole contract.
        func compileComponents() {
            for name in schemas.keys.sorted() { _ = named(name) }
            for name in parameterComponents.keys.sorted() { _ = parameterComponent(name) }
            for name in requestBodyComponents.keys.sorted() { _ = requestBodyComponent(name) }
            headers(components["headers"], at: "#/components/headers")
            let responses = components["responses"] as? [String: Any] ?? [:]
            for name in responses.keys.sorted() { response(responses[name], at: Self.pointer("#/components/responses", name)) }
        }

        // MARK: Schemas

        func named(_ name: String) -> Schema {
            if let done = compiled[name] { return done }
            let schema = Schema()
            compiled[name] = schema
            let path = Self.pointer("#/components/schemas", name)
            if let object = schemas[name] as? [String: Any] {
                fill(schema, from: object, at: path)
            } else {
                issue(path, "schema", "is not an object (boolean schemas are not enforced)")
            }
            return schema
        }

        func compile(_ raw: Any, at path: String) -> Schema {
            guard let object = raw as? [String: Any] else {
                issue(path, "schema", "is not an object (boolean schemas are not enforced)")
                return Schema()
            }
            if let reference = object["$ref"] { return resolve(reference, beside: object, at: path) ?? Schema() }
            let schema = Schema()
            fill(schema, from: object, at: path)
            return schema
        }

        /// The schema a `$ref` names; only annotations may stand beside it.
        func resolve(_ reference: Any, beside object: [String: Any], at path: String) -> Schema? {
            for key in object.keys.sorted() where key != "$ref" && !ContractValidator.isAnnotation(key) {
                issue(path, key, "is not enforced beside $ref (only annotations may stand beside it)")
            }
            guard let name = Self.componentName(reference, prefix: "#/components/schemas/", in: schemas) else {
                issue(path, "$ref", "\(reference) does not name a schema in #/components/schemas")
                return nil
            }
            return named(name)
        }

        private func fill(_ schema: Schema, from object: [String: Any], at path: String) {
            if let reference = object["$ref"] {
                // A component that is another component's alias.
                if let target = resolve(reference, beside: object, at: path) { schema.anyOf = [target] }
                return
            }
            for key in object.keys.sorted() {
                let value = object[key]!
                switch key {
                case "type":
                    let names = value as? [Any] ?? [value]
                    if names.isEmpty { issue(path, key, "is empty") }
                    for name in names {
                        guard let name = name as? String, Self.jsonTypes.contains(name) else {
                            issue(path, key, "\(name) is not a JSON type")
                            continue
                        }
                        schema.types.insert(name)
                    }
                case "enum":
                    guard let values = value as? [Any], !values.isEmpty else {
                        issue(path, key, "is not a non-empty list")
                        continue
                    }
                    var allowed: [AnyHashable?] = []
                    var unenforced: [String] = []
                    for candidate in values {
                        if candidate is NSNull {
                            allowed.append(nil)
                        } else if let text = candidate as? String {
                            allowed.append(AnyHashable(text))
                        } else {
                            unenforced.append("\(candidate)")
                        }
                    }
                    if !unenforced.isEmpty {
                        issue(path, key, "values \(unenforced.joined(separator: ", ")) are not enforced (only strings and null are)")
                    }
                    schema.enumValues = allowed
                case "minLength", "maxLength", "minItems", "maxItems":
                    guard !(value is Bool), let count = value as? Int, count >= 0 else {
                        issue(path, key, "\(value) is not a non-negative integer")
                        continue
                    }
                    switch key {
                    case "minLength": schema.minLength = count
                    case "maxLength": schema.maxLength = count
                    case "minItems": schema.minItems = count
                    default: schema.maxItems = count
                    }
                case "minimum", "maximum":
                    let number: Double? = value is Bool ? nil : (value as? Int).map(Double.init) ?? value as? Double
                    guard let number, number.isFinite else {
                        issue(path, key, "\(value) is not a number")
                        continue
                    }
                    if key == "minimum" { schema.minimum = number } else { schema.maximum = number }
                case "pattern":
                    guard let text = value as? String else {
                        issue(path, key, "\(value) is not a string")
                        continue
                    }
                    do {
                        schema.pattern = try NSRegularExpression(pattern: text)
                    } catch {
                        issue(path, key, "\(text) is not a regular expression that compiles")
                    }
                case "format":
                    continue  // below, once the types are known
                case "items":
                    if value is [Any] {
                        issue(path, key, "as a list (tuple validation) is not enforced")
                    } else {
                        schema.items = compile(value, at: path + "/items")
                    }
                case "properties":
                    guard let properties = value as? [String: Any] else {
                        issue(path, key, "is not a mapping of names to schemas")
                        continue
                    }
                    for name in properties.keys.sorted() {
                        schema.properties[name] = compile(properties[name]!, at: Self.pointer(path + "/properties", name))
                    }
                case "required":
                    guard let names = value as? [Any], names.allSatisfy({ $0 is String }) else {
                        issue(path, key, "is not a list of names")
                        continue
                    }
                    schema.required = names.compactMap { $0 as? String }
                case "additionalProperties":
                    guard let allowed = value as? Bool else {
                        issue(path, key, "as a schema is not enforced (only false, or true)")
                        continue
                    }
                    schema.closed = !allowed
                case "anyOf", "oneOf":
                    guard let alternatives = value as? [Any], !alternatives.isEmpty else {
                        issue(path, key, "is not a non-empty list of schemas")
                        continue
                    }
                    let compiled = alternatives.enumerated().map { compile($1, at: path + "/\(key)/\($0)") }
                    if key == "anyOf" { schema.anyOf = compiled } else { schema.oneOf = compiled }
                default:
                    if !ContractValidator.isAnnotation(key) { issue(path, key, "is not enforced") }
                }
            }
            if let value = object["format"] { format(value, for: schema, at: path) }
        }

        private func format(_ value: Any, for schema: Schema, at path: String) {
            guard let name = value as? String else { return issue(path, "format", "\(value) is not a string") }
            if let format = Formats.Format(rawValue: name) {
                if schema.types.isEmpty || schema.types.contains("string") {
                    schema.format = format
                } else {
                    issue(path, "format", "\(name) is checked on strings only, and this schema has no string type")
                }
            } else if name == "int32" || name == "int64" {
                // The generated decoders read these as Int32/Int64 and refuse what does not fit.
                if !schema.types.contains("integer") || !schema.types.isSubset(of: ["integer", "null"]) {
                    issue(path, "format", "\(name) is accepted on integers only")
                }
            } else {
                let known = Formats.Format.allCases.map(\.rawValue).joined(separator: ", ")
                issue(path, "format", "\(name) is not checked (checked: \(known); int32 and int64 on integers)")
            }
        }

        // MARK: Parameters, bodies, responses

        func parameters(_ raw: Any?, at path: String) -> [Parameter] {
            guard let raw else { return [] }
            guard let list = raw as? [Any] else {
                issue(path, "parameters", "is not a list")
                return []
            }
            return list.enumerated().compactMap { index, item in parameter(item, at: path + "/\(index)") }
        }

        func parameter(_ raw: Any, at path: String) -> Parameter? {
            if let object = raw as? [String: Any], let reference = object["$ref"] {
                guard let name = Self.componentName(reference, prefix: "#/components/parameters/", in: parameterComponents) else {
                    issue(path, "$ref", "\(reference) does not name a parameter in #/components/parameters")
                    return nil
                }
                return parameterComponent(name)
            }
            return parameterObject(raw, at: path)
        }

        func parameterComponent(_ name: String) -> Parameter? {
            if let done = compiledParameters[name] { return done }
            let parameter = parameterObject(parameterComponents[name] as Any, at: Self.pointer("#/components/parameters", name))
            compiledParameters[name] = .some(parameter)
            return parameter
        }

        private func parameterObject(_ raw: Any, at path: String) -> Parameter? {
            guard let object = raw as? [String: Any] else {
                issue(path, "parameter", "is not an object")
                return nil
            }
            for key in object.keys.sorted()
            where !Self.parameterKeys.contains(key) && !Self.parameterAnnotations.contains(key) && !key.hasPrefix("x-") {
                issue(path, key, "is not supported on parameters (only name, in, required, schema and annotations)")
            }
            guard let name = object["name"] as? String else {
                issue(path, "name", "is missing")
                return nil
            }
            guard let location = object["in"] as? String, ["path", "query", "header"].contains(location) else {
                issue(path, "in", "\(object["in"] ?? "(none)") is not checked (only path, query and header parameters are)")
                return nil
            }
            let required = object["required"] ?? false
            if !(required is Bool) { issue(path, "required", "\(required) is not true or false") }
            guard let raw = object["schema"] else {
                issue(path, "schema", "is missing, so the parameter would not be checked")
                return nil
            }
            let schema = compile(raw, at: path + "/schema")
            if !schema.types.isDisjoint(with: ["array", "object"]) {
                issue(path + "/schema", "type", "\(schema.types.sorted()) is not checked on a parameter (one string, number, integer or boolean is)")
            }
            return Parameter(name: name, location: location, required: required as? Bool ?? false, schema: schema)
        }

        func requestBodyComponent(_ name: String) -> Schema? {
            if let done = compiledRequestBodies[name] { return done }
            let schema = requestBodyObject(requestBodyComponents[name] as Any, at: Self.pointer("#/components/requestBodies", name))
            compiledRequestBodies[name] = .some(schema)
            return schema
        }

        /// The schema a request body is checked against: one for its JSON media types.
        func requestBody(_ raw: Any?, at path: String) -> Schema? {
            guard let raw else { return nil }
            if let object = raw as? [String: Any], let reference = object["$ref"] {
                guard let name = Self.componentName(reference, prefix: "#/components/requestBodies/", in: requestBodyComponents) else {
                    issue(path, "$ref", "\(reference) does not name a request body in #/components/requestBodies")
                    return nil
                }
                return requestBodyComponent(name)
            }
            return requestBodyObject(raw, at: path)
        }

        private func requestBodyObject(_ raw: Any, at path: String) -> Schema? {
            guard let object = raw as? [String: Any], let content = object["content"] as? [String: Any] else {
                issue(path, "content", "is missing")
                return nil
            }
            var chosen: (schema: Any, path: String)?
            for type in content.keys.sorted() {
                let at = Self.pointer(path + "/content", type)
                guard Self.jsonMediaTypes.contains(type) else {
                    issue(at, "content", "\(type) bodies are not checked (only \(Self.jsonMediaTypes.sorted().joined(separator: " and ")) are)")
                    continue
                }
                guard let media = content[type] as? [String: Any], let schema = media["schema"] else {
                    issue(at, "schema", "is missing, so the body would not be checked")
                    continue
                }
                for key in media.keys.sorted() where key != "schema" && key != "example" && key != "examples" && !key.hasPrefix("x-") {
                    issue(at, key, "is not supported on a request body")
                }
                if let first = chosen {
                    if !Self.same(first.schema, schema) {
                        issue(at + "/schema", "schema", "differs from \(first.path); every JSON media type is checked against one schema")
                    }
                } else {
                    chosen = (schema, at + "/schema")
                }
            }
            return chosen.map { compile($0.schema, at: $0.path) }
        }

        /// Response bodies are not checked, but their schemas share the components: they are
        /// held to the same vocabulary.
        func responses(_ raw: Any?, at path: String) {
            guard let responses = raw as? [String: Any] else { return }
            for code in responses.keys.sorted() { response(responses[code], at: Self.pointer(path, code)) }
        }

        func response(_ raw: Any?, at path: String) {
            guard let object = raw as? [String: Any], object["$ref"] == nil else { return }
            headers(object["headers"], at: path + "/headers")
            let content = object["content"] as? [String: Any] ?? [:]
            for type in content.keys.sorted() {
                if let media = content[type] as? [String: Any], let schema = media["schema"] {
                    _ = compile(schema, at: Self.pointer(path + "/content", type) + "/schema")
                }
            }
        }

        func headers(_ raw: Any?, at path: String) {
            guard let headers = raw as? [String: Any] else { return }
            for name in headers.keys.sorted() {
                guard let header = headers[name] as? [String: Any], header["$ref"] == nil, let schema = header["schema"] else { continue }
                _ = compile(schema, at: Self.pointer(path, name) + "/schema")
            }
        }

        /// Structural equality of two YAML values.
        static func same(_ a: Any, _ b: Any) -> Bool {
            switch (a, b) {
            case (let a as [String: Any], let b as [String: Any]):
                return a.count == b.count && a.allSatisfy { key, value in b[key].map { same(value, $0) } ?? false }
            case (let a as [Any], let b as [Any]):
                return a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
            case (let a as Bool, let b as Bool): return a == b
            case (let a as String, let b as String): return a == b
            case (let a as Int, let b as Int): return a == b
            case (let a as Double, let b as Double): return a == b
            case (is NSNull, is NSNull): return true
            default: return false
            }
        }
    }
}

/// The string formats checked (any other format in the contract is an error at start-up).
enum Formats {
    enum Format: String, CaseIterable, Sendable {
        case uuid
        case date
        case dateTime = "date-time"
    }

    static func accepts(_ format: Format, _ text: String) -> Bool {
        switch format {
        case .uuid: return isUUID(text)
        case .date: return LocalDateCheck.valid(text)
        case .dateTime: return Timestamps.parse(text) != nil
        }
    }

    /// `8-4-4-4-12` hex digits, either case (`UUID(canonicalText:)`). Stricter than
    /// `UUID(uuidString:)`, whose `sscanf` on Linux also takes spaces and misplaced hyphens (and
    /// showed up in profiles of every request with an id in its path).
    static func isUUID(_ text: String) -> Bool { UUID(canonicalText: text) != nil }

    static func message(_ format: Format) -> String {
        switch format {
        case .uuid: return "is not a UUID"
        case .date: return "is not a date (YYYY-MM-DD)"
        case .dateTime: return "is not an RFC 3339 timestamp (2026-11-23T08:00:00Z)"
        }
    }
}

/// RFC 3339 timestamps, with or without fractional seconds.
enum Timestamps {
    static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}

import CRMDomain

enum LocalDateCheck {
    static func valid(_ text: String) -> Bool { LocalDate(text) != nil }
}
