import Foundation
import Yams

/// The contract enforcing itself. `openapi.yaml` is read once at start-up; every request's path
/// parameters, query parameters, headers and JSON body are checked against the constraints it
/// declares (types, enums, lengths, ranges, patterns, formats, required members, no unknown
/// members) before any handler runs, and every violation is reported at once with its field.
/// The generated decoders check types and enums only; this closes the gap so that what the
/// contract forbids is refused, always with a 4xx.
struct ContractValidator: Sendable {
    /// A compiled schema: only the keywords this contract uses.
    final class Schema: @unchecked Sendable {
        // Immutable after the contract is compiled (cycles through $ref are closed at the end).
        var types: Set<String> = []
        var enumValues: [AnyHashable?]?
        var minLength: Int?
        var maxLength: Int?
        var pattern: NSRegularExpression?
        var format: String?
        var minimum: Double?
        var maximum: Double?
        var minItems: Int?
        var maxItems: Int?
        var items: Schema?
        var properties: [String: Schema] = [:]
        var required: [String] = []
        var closed = false
        var alternatives: [Schema] = []
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

    init(contract: String) throws {
        guard let document = try Yams.load(yaml: contract) as? [String: Any] else { throw ContractError.unreadable }
        let components = document["components"] as? [String: Any] ?? [:]
        let compiler = Compiler(
            schemas: components["schemas"] as? [String: Any] ?? [:],
            parameters: components["parameters"] as? [String: Any] ?? [:])
        var operations: [String: Operation] = [:]
        var operationsByRoute: [String: Operation] = [:]
        var methods: [String: Set<String>] = [:]
        let httpMethods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        for (path, item) in document["paths"] as? [String: Any] ?? [:] {
            guard let item = item as? [String: Any] else { continue }
            let shared = (item["parameters"] as? [Any] ?? []).compactMap(compiler.parameter)
            methods[Self.template(path)] = Set(item.keys.filter(httpMethods.contains).map { $0.uppercased() })
            for (method, value) in item where httpMethods.contains(method) {
                guard let operation = value as? [String: Any] else { continue }
                let own = (operation["parameters"] as? [Any] ?? []).compactMap(compiler.parameter)
                var body: Schema?
                if let requestBody = operation["requestBody"] as? [String: Any],
                    let content = requestBody["content"] as? [String: Any],
                    let media = (content["application/json"] ?? content["application/merge-patch+json"]) as? [String: Any],
                    let schema = media["schema"]
                {
                    body = compiler.compile(schema)
                }
                let compiled = Operation(parameters: shared + own, body: body)
                operations["\(method.uppercased()) \(Self.template(path))"] = compiled
                operationsByRoute[method.uppercased() + path] = compiled
            }
        }
        self.operations = operations
        self.operationsByRoute = operationsByRoute
        self.methods = methods
    }

    enum ContractError: Error { case unreadable }

    static func template(_ path: String) -> String {
        "/" + path.split(separator: "/").map { $0.hasPrefix("{") || $0.hasPrefix(":") ? "{}" : String($0) }.joined(separator: "/")
    }

    /// The template a concrete path matches, if any.
    private func match(_ path: String) -> String? {
        let segments = path.split(separator: "/")
        for template in methods.keys {
            let parts = template.split(separator: "/")
            if parts.count == segments.count, zip(parts, segments).allSatisfy({ $0 == "{}" || $0 == $1 }) { return template }
        }
        return nil
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
        if let schema = operation.body, let body, !body.isEmpty,
            let value = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        {
            Self.check(value, against: schema, field: "", into: &violations)
        }
        if !headerViolations.isEmpty { return .badHeaders(headerViolations) }
        return violations.isEmpty ? .valid : .invalid(violations.sorted { $0.field < $1.field })
    }

    // MARK: Checking values

    /// A parameter's text, read as the type its schema declares.
    static func check(string: String, against schema: Schema, field: String, into violations: inout [Violation]) {
        if schema.types.contains("integer") {
            guard let number = Int(string) else {
                violations.append(Violation(field: field, message: "must be a whole number"))
                return
            }
            check(number, against: schema, field: field, into: &violations)
        } else if schema.types.contains("boolean") {
            guard string == "true" || string == "false" else {
                violations.append(Violation(field: field, message: "must be true or false"))
                return
            }
        } else {
            check(string, against: schema, field: field, into: &violations)
        }
    }

    static func check(_ value: Any, against schema: Schema, field: String, into violations: inout [Violation]) {
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

    static func check(_ value: Any, against schema: Schema, path: FieldPath, into violations: inout [Violation]) {
        func fail(_ message: String) { violations.append(Violation(field: path.text, message: message)) }
        if !schema.alternatives.isEmpty {
            // anyOf/oneOf: valid when one alternative accepts it; else report the first's view.
            var firstErrors: [Violation]?
            for alternative in schema.alternatives {
                var errors: [Violation] = []
                check(value, against: alternative, path: path, into: &errors)
                if errors.isEmpty { return }
                if firstErrors == nil { firstErrors = errors }
            }
            violations += firstErrors ?? []
            return
        }
        if value is NSNull {
            if !schema.types.isEmpty, !schema.types.contains("null") { fail("must not be null") }
            return
        }
        if let values = schema.enumValues {
            let matches = values.contains { candidate in
                guard let candidate else { return false }
                if let text = value as? String { return candidate == AnyHashable(text) }
                return false
            }
            if !matches {
                fail("must be one of: \(values.compactMap { $0.map { "\($0)" } }.joined(separator: ", "))")
                return
            }
        }
        switch value {
        case _ where isJSONBoolean(value):
            if !(schema.types.isEmpty || schema.types.contains("boolean")) { fail("must be \(describe(schema.types))") }
        case let text as String:
            guard schema.types.isEmpty || schema.types.contains("string") else { return fail("must be \(describe(schema.types))") }
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
        case let number as NSNumber:
            let double = number.doubleValue
            if schema.types.contains("integer"), !schema.types.contains("number"), double.rounded() != double {
                return fail("must be a whole number")
            }
            if !schema.types.isEmpty, !schema.types.contains("integer"), !schema.types.contains("number") {
                return fail("must be \(describe(schema.types))")
            }
            if let minimum = schema.minimum, double < minimum { fail("must be at least \(format(minimum))") }
            if let maximum = schema.maximum, double > maximum { fail("must be at most \(format(maximum))") }
        case let array as [Any]:
            guard schema.types.isEmpty || schema.types.contains("array") else { return fail("must be \(describe(schema.types))") }
            if let minimum = schema.minItems, array.count < minimum { fail("must have at least \(minimum) entries") }
            if let maximum = schema.maxItems, array.count > maximum { fail("must have at most \(maximum) entries") }
            if let items = schema.items {
                for (index, element) in array.enumerated() {
                    check(element, against: items, path: path.appending(.index(index)), into: &violations)
                }
            }
        case let object as [String: Any]:
            guard schema.types.isEmpty || schema.types.contains("object") else { return fail("must be \(describe(schema.types))") }
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
        default:
            return
        }
    }

    /// JSON `true`/`false` as JSONSerialization returns them (a boxed boolean, which also
    /// bridges to numbers, so the type is what tells).
    private static func isJSONBoolean(_ value: Any) -> Bool {
        type(of: value) == Bool.self || String(describing: type(of: value)) == "__NSCFBoolean"
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

    private final class Compiler {
        let schemas: [String: Any]
        let parameterComponents: [String: Any]
        var compiled: [String: Schema] = [:]

        init(schemas: [String: Any], parameters: [String: Any]) {
            self.schemas = schemas
            self.parameterComponents = parameters
        }

        func parameter(_ raw: Any) -> Parameter? {
            guard var object = raw as? [String: Any] else { return nil }
            if let reference = object["$ref"] as? String, let name = reference.split(separator: "/").last {
                object = parameterComponents[String(name)] as? [String: Any] ?? [:]
            }
            guard let name = object["name"] as? String, let location = object["in"] as? String else { return nil }
            return Parameter(
                name: name, location: location, required: object["required"] as? Bool ?? false,
                schema: compile(object["schema"] ?? [:]))
        }

        func compile(_ raw: Any) -> Schema {
            guard let object = raw as? [String: Any] else { return Schema() }
            if let reference = object["$ref"] as? String, let name = reference.split(separator: "/").last.map(String.init) {
                if let done = compiled[name] { return done }
                let schema = Schema()
                compiled[name] = schema
                fill(schema, from: schemas[name] as? [String: Any] ?? [:])
                return schema
            }
            let schema = Schema()
            fill(schema, from: object)
            return schema
        }

        private func fill(_ schema: Schema, from object: [String: Any]) {
            if let type = object["type"] as? String { schema.types = [type] }
            if let types = object["type"] as? [Any] { schema.types = Set(types.map { $0 as? String ?? "null" }) }
            if let values = object["enum"] as? [Any] {
                schema.enumValues = values.map { value -> AnyHashable? in
                    if value is NSNull { return nil }
                    return (value as? String).map(AnyHashable.init)
                }
            }
            schema.minLength = object["minLength"] as? Int
            schema.maxLength = object["maxLength"] as? Int
            if let pattern = object["pattern"] as? String { schema.pattern = try? NSRegularExpression(pattern: pattern) }
            schema.format = object["format"] as? String
            schema.minimum = (object["minimum"] as? NSNumber)?.doubleValue ?? (object["minimum"] as? Int).map(Double.init)
            schema.maximum = (object["maximum"] as? NSNumber)?.doubleValue ?? (object["maximum"] as? Int).map(Double.init)
            schema.minItems = object["minItems"] as? Int
            schema.maxItems = object["maxItems"] as? Int
            if let items = object["items"] { schema.items = compile(items) }
            if let properties = object["properties"] as? [String: Any] {
                schema.properties = properties.mapValues(compile)
            }
            schema.required = object["required"] as? [String] ?? []
            schema.closed = (object["additionalProperties"] as? Bool) == false
            for combinator in ["anyOf", "oneOf"] {
                if let alternatives = object[combinator] as? [Any] { schema.alternatives = alternatives.map(compile) }
            }
        }
    }
}

/// The string formats the contract uses.
enum Formats {
    static func accepts(_ format: String, _ text: String) -> Bool {
        switch format {
        case "uuid": return UUID(uuidString: text) != nil
        case "date": return LocalDateCheck.valid(text)
        case "date-time": return Timestamps.parse(text) != nil
        default: return true
        }
    }

    static func message(_ format: String) -> String {
        switch format {
        case "uuid": return "is not a UUID"
        case "date": return "is not a date (YYYY-MM-DD)"
        case "date-time": return "is not an RFC 3339 timestamp (2026-11-23T08:00:00Z)"
        default: return "is not a valid \(format)"
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
