@testable import CRMAPI
import CRMContract
import Foundation
import OpenAPIRuntime
import PropertyBased
import Yams

// What the JSON writer's tests share: the contract's schemas as a tree, random JSON of a schema
// (built from swift-property-based's generators), a strict JSON reader that keeps member order
// and the raw text of strings and numbers, and the runtime's own coders.

// MARK: The schemas

/// A schema of `openapi.yaml`, as far as the response types use it.
indirect enum SchemaNode: Sendable {
    case ref(String)
    /// `properties` in the contract's order; `closed` for `additionalProperties: false`.
    case object(properties: [SchemaProperty], closed: Bool)
    case array(SchemaNode)
    /// `format: date-time` is a `Date` in the generated types; every other string is a `String`.
    case string(dateTime: Bool, choices: [String]?)
    case integer
    case number
    case boolean
    /// `type: [T, 'null']`.
    case nullable(SchemaNode)
}

struct SchemaProperty: Sendable {
    let name: String
    let schema: SchemaNode
    let required: Bool
}

struct ContractSchemas: Sendable {
    /// `components/schemas`, by name.
    let schemas: [String: SchemaNode]
    /// The schemas of every JSON response body (`application/json`, `application/problem+json`).
    let responseSchemas: Set<String>
    /// What the test cannot model (it fails on these, so the contract cannot outgrow the test).
    let unsupported: [String]

    static func load() throws -> ContractSchemas {
        guard let root = try Yams.compose(yaml: try Contract.yaml()) else { throw SchemaError("openapi.yaml is empty") }
        var unsupported: [String] = []
        var schemas: [String: SchemaNode] = [:]
        for (key, value) in root["components"]?["schemas"]?.mapping ?? [:] {
            guard let name = key.string else { continue }
            schemas[name] = node(value, at: name, unsupported: &unsupported)
        }
        var responses = Set<String>()
        let shared = root["components"]?["responses"]
        for (_, pathItem) in root["paths"]?.mapping ?? [:] {
            for (method, operation) in pathItem.mapping ?? [:] where method.string != "parameters" {
                for (_, response) in operation["responses"]?.mapping ?? [:] {
                    var response = response
                    if let ref = response["$ref"]?.string, let target = shared?[String(ref.split(separator: "/").last ?? "")] {
                        response = target
                    }
                    for (mediaType, content) in response["content"]?.mapping ?? [:] {
                        guard let type = mediaType.string, type.hasSuffix("json") else { continue }
                        if let ref = content["schema"]?["$ref"]?.string {
                            responses.insert(String(ref.split(separator: "/").last ?? ""))
                        } else {
                            unsupported.append("an inline response schema (\(type)): name it under components/schemas")
                        }
                    }
                }
            }
        }
        return ContractSchemas(schemas: schemas, responseSchemas: responses, unsupported: unsupported)
    }

    private static func node(_ yaml: Yams.Node, at path: String, unsupported: inout [String]) -> SchemaNode {
        if let ref = yaml["$ref"]?.string { return .ref(String(ref.split(separator: "/").last ?? "")) }
        for keyword in ["allOf", "oneOf", "anyOf", "not", "const", "prefixItems", "patternProperties"] where yaml[keyword] != nil {
            unsupported.append("\(path): \(keyword)")
        }
        var types = yaml["type"]?.sequence?.compactMap(\.string) ?? (yaml["type"]?.string).map { [$0] } ?? []
        let nullable = types.contains("null")
        types.removeAll { $0 == "null" }
        guard types.count == 1, let type = types.first else {
            unsupported.append("\(path): type \(types)")
            return .boolean
        }
        let base: SchemaNode
        switch type {
        case "object":
            let required = Set(yaml["required"]?.sequence?.compactMap(\.string) ?? [])
            var properties: [SchemaProperty] = []
            for (key, value) in yaml["properties"]?.mapping ?? [:] {
                guard let name = key.string else { continue }
                properties.append(
                    SchemaProperty(
                        name: name, schema: node(value, at: "\(path).\(name)", unsupported: &unsupported),
                        required: required.contains(name)))
            }
            let additional = yaml["additionalProperties"]
            if let additional, additional.bool != false, additional.bool != true {
                unsupported.append("\(path): typed additionalProperties")
            }
            base = .object(properties: properties, closed: additional?.bool == false)
        case "array":
            guard let items = yaml["items"] else {
                unsupported.append("\(path): array without items")
                return .boolean
            }
            base = .array(node(items, at: "\(path)[]", unsupported: &unsupported))
        case "string":
            let choices = yaml["enum"]?.sequence?.compactMap { $0.null != nil ? nil : $0.string }
            base = .string(dateTime: yaml["format"]?.string == "date-time", choices: choices)
        case "integer": base = .integer
        case "number": base = .number
        case "boolean": base = .boolean
        default:
            unsupported.append("\(path): type \(type)")
            base = .boolean
        }
        return nullable ? .nullable(base) : base
    }

    func resolve(_ node: SchemaNode) -> SchemaNode {
        if case .ref(let name) = node, let target = schemas[name] { return resolve(target) }
        return node
    }
}

struct SchemaError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: Random JSON of a schema

/// Random JSON text of a schema, from swift-property-based's generators: strings full of what
/// needs escaping (quotes, backslashes, slashes, every control character, DEL, U+2028, Chinese,
/// emoji), optional members present or absent, nullable ones also `null`, integers and doubles at
/// their extremes, timestamps with and without fractions and in other offsets.
enum RandomJSON {
    static let characters: [Character] = [
        "a", "Z", "0", "9", " ", "-", "_", ".", "@", "+", "\"", "\\", "/", "'", "<", ">", "&",
        "\u{0}", "\u{1}", "\u{7}", "\u{8}", "\t", "\n", "\u{B}", "\u{C}", "\r", "\r\n", "\u{E}", "\u{1F}", "\u{7F}",
        "\u{80}", "é", "ß", "Ω", "中", "文", "张", "伟", "😀", "👍🏽", "👨‍👩‍👧", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFD}",
        "\u{10FFFF}",
    ]
    static let text = Gen<Character?>.element(of: characters).compactMap { $0 }.string(of: 0...24)
    static let chance = Gen<Int>.int(in: 0..<100)
    static let count = Gen<Int>.int(in: 0...3)
    static let extremeIntegers: [Int] = [0, 1, -1, Int.max, Int.min, Int(Int32.max), Int(Int32.min), 9_007_199_254_740_993]
    static let anyInteger = Gen<Int>.int()
    static let smallInteger = Gen<Int>.int(in: -100_000...100_000)
    static let extremeDoubles: [Double] = [
        0, -0.0, 1, -1, 0.1, 0.5, 1.5, 100, 1e15, 1e16, 1e20, 1e21, 1e-5, 1e-7, 2.5e-7, .leastNonzeroMagnitude, .leastNormalMagnitude,
        1.7976931348623157e308, -1.7976931348623157e308, 123456789.123456789, 9_007_199_254_740_992, 0.30000000000000004,
    ]
    static let someDouble = Gen<Double>.double(in: -1e9...1e9)
    static let bits = Gen<UInt64>.uint64()
    static let year = Gen<Int>.int(in: 1...9999)
    static let usualYear = Gen<Int>.int(in: 1970...2100)
    static let month = Gen<Int>.int(in: 1...12)
    static let day = Gen<Int>.int(in: 1...28)
    static let hour = Gen<Int>.int(in: 0...23)
    static let minute = Gen<Int>.int(in: 0...59)
    static let fractionDigits = Gen<Int>.int(in: 1...9)
    static let offsetHours = Gen<Int>.int(in: 0...14)
    static let memberName = Gen<Character?>.element(of: Array("abcdefghijklmnopqrstuvwxyz_")).compactMap { $0 }
        .string(of: 1...10)

    /// A generator of JSON text of `schema` (a name under `components/schemas`).
    static func generator(_ name: String, in contract: ContractSchemas) -> Generator<String, Shrink.None<String>> {
        Generator { rng in
            var out = ""
            write(.ref(name), contract: contract, into: &out, rng: &rng, depth: 0)
            return out
        }
    }

    static func write(
        _ node: SchemaNode, contract: ContractSchemas, into out: inout String, rng: inout any SeededRandomNumberGenerator,
        depth: Int
    ) {
        switch contract.resolve(node) {
        case .ref:
            out += "null"
        case .nullable(let inner):
            if chance.run(using: &rng) < 25 { out += "null" } else { write(inner, contract: contract, into: &out, rng: &rng, depth: depth) }
        case .object(let properties, _) where properties.isEmpty:
            freeObject(into: &out, rng: &rng, depth: depth)
        case .object(let properties, _):
            out += "{"
            var first = true
            for property in properties where property.required || chance.run(using: &rng) < 70 {
                if !first { out += "," }
                first = false
                out += quoted(property.name) + ":"
                write(property.schema, contract: contract, into: &out, rng: &rng, depth: depth + 1)
            }
            out += "}"
        case .array(let items):
            out += "["
            for index in 0..<(depth > 4 ? 0 : count.run(using: &rng)) {
                if index > 0 { out += "," }
                write(items, contract: contract, into: &out, rng: &rng, depth: depth + 1)
            }
            out += "]"
        case .string(let dateTime, let choices):
            if let choices, !choices.isEmpty {
                out += quoted(choices[Int(UInt(chance.run(using: &rng)) % UInt(choices.count))])
            } else if dateTime {
                out += quoted(timestamp(rng: &rng))
            } else {
                out += quoted(text.run(using: &rng))
            }
        case .integer:
            out += String(integer(rng: &rng))
        case .number:
            out += number(rng: &rng).description
        case .boolean:
            out += Gen.bool.run(using: &rng) ? "true" : "false"
        }
    }

    static func integer(rng: inout any SeededRandomNumberGenerator) -> Int {
        switch chance.run(using: &rng) {
        case 0..<30: return extremeIntegers[Int(UInt(chance.run(using: &rng)) % UInt(extremeIntegers.count))]
        case 30..<60: return anyInteger.run(using: &rng)
        default: return smallInteger.run(using: &rng)
        }
    }

    static func number(rng: inout any SeededRandomNumberGenerator) -> Double {
        switch chance.run(using: &rng) {
        case 0..<35: return extremeDoubles[Int(UInt(chance.run(using: &rng)) % UInt(extremeDoubles.count))]
        case 35..<65:
            let value = Double(bitPattern: bits.run(using: &rng))
            return value.isFinite ? value : 0.25
        case 65..<80: return Double(smallInteger.run(using: &rng))
        default: return someDouble.run(using: &rng)
        }
    }

    /// RFC 3339 text: any year, with or without a fraction of 1-9 digits, in UTC or another offset.
    static func timestamp(rng: inout any SeededRandomNumberGenerator) -> String {
        let y = chance.run(using: &rng) < 80 ? usualYear.run(using: &rng) : year.run(using: &rng)
        var text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", y, month.run(using: &rng), day.run(using: &rng),
            hour.run(using: &rng), minute.run(using: &rng), minute.run(using: &rng))
        if chance.run(using: &rng) < 50 {
            text += "."
            let digits = fractionDigits.run(using: &rng)
            for _ in 0..<digits { text += String(chance.run(using: &rng) % 10) }
        }
        switch chance.run(using: &rng) {
        case 0..<60: text += "Z"
        default:
            let sign = Gen.bool.run(using: &rng) ? "+" : "-"
            text += sign + String(format: "%02d:%02d", offsetHours.run(using: &rng), [0, 30, 45][chance.run(using: &rng) % 3])
        }
        return text
    }

    /// A free-form object (`OpenAPIObjectContainer`): random members of random kinds.
    static func freeObject(into out: inout String, rng: inout any SeededRandomNumberGenerator, depth: Int) {
        out += "{"
        var seen = Set<String>()
        for _ in 0..<(depth > 3 ? 0 : count.run(using: &rng)) {
            let name = chance.run(using: &rng) < 50 ? memberName.run(using: &rng) : text.run(using: &rng)
            guard seen.insert(name).inserted else { continue }
            if seen.count > 1 { out += "," }
            out += quoted(name) + ":"
            switch chance.run(using: &rng) % 7 {
            case 0: out += quoted(text.run(using: &rng))
            case 1: out += String(integer(rng: &rng))
            case 2: out += number(rng: &rng).description
            case 3: out += Gen.bool.run(using: &rng) ? "true" : "false"
            case 4: out += "null"
            case 5:
                out += "["
                for index in 0..<count.run(using: &rng) { out += (index > 0 ? "," : "") + quoted(text.run(using: &rng)) }
                out += "]"
            default: freeObject(into: &out, rng: &rng, depth: depth + 1)
            }
        }
        out += "}"
    }

    /// JSON string syntax for generated text (not the writer's code: every control character as `\u00xx`).
    static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

// MARK: A strict JSON reader that keeps order and raw text

/// A parsed JSON value that keeps member order and the raw text of strings and numbers, so two
/// documents can be compared by value (members in any order) and by spelling.
indirect enum ParsedJSON {
    struct Member {
        let key: String
        let value: ParsedJSON
    }

    case object([Member])
    case array([ParsedJSON])
    /// `raw` is the text between the quotes, escapes as written.
    case string(raw: String, value: String)
    case number(String)
    case bool(Bool)
    case null

    static func parse(_ bytes: [UInt8]) throws -> ParsedJSON {
        var reader = Reader(bytes: bytes)
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.index == bytes.count else { throw SchemaError("trailing bytes at \(reader.index)") }
        return value
    }

    /// Nil when equal; else where and how they differ. Members compare as sets; strings and
    /// numbers by their exact spelling (the writer must escape and format as the encoder does).
    static func difference(_ a: ParsedJSON, _ b: ParsedJSON, at path: String = "$") -> String? {
        switch (a, b) {
        case (.object(let left), .object(let right)):
            let l = Dictionary(left.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            let r = Dictionary(right.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
            guard l.count == left.count, r.count == right.count else { return "\(path): a member repeated" }
            guard Set(l.keys) == Set(r.keys) else {
                return "\(path): members \(l.keys.sorted()) vs \(r.keys.sorted())"
            }
            for key in l.keys.sorted() {
                if let difference = difference(l[key]!, r[key]!, at: "\(path).\(key)") { return difference }
            }
            return nil
        case (.array(let left), .array(let right)):
            guard left.count == right.count else { return "\(path): \(left.count) vs \(right.count) elements" }
            for (index, pair) in zip(left, right).enumerated() {
                if let difference = difference(pair.0, pair.1, at: "\(path)[\(index)]") { return difference }
            }
            return nil
        case (.string(let left, _), .string(let right, _)):
            return left == right ? nil : "\(path): \"\(left)\" vs \"\(right)\""
        case (.number(let left), .number(let right)):
            return left == right ? nil : "\(path): \(left) vs \(right)"
        case (.bool(let left), .bool(let right)):
            return left == right ? nil : "\(path): \(left) vs \(right)"
        case (.null, .null):
            return nil
        default:
            return "\(path): \(a.kind) vs \(b.kind)"
        }
    }

    var kind: String {
        switch self {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .number: "number"
        case .bool: "boolean"
        case .null: "null"
        }
    }

    var members: [Member]? {
        if case .object(let members) = self { return members }
        return nil
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ literal: String) throws {
            for byte in literal.utf8 {
                guard index < bytes.count, bytes[index] == byte else { throw SchemaError("expected \(literal) at \(index)") }
                index += 1
            }
        }

        mutating func value(depth: Int) throws -> ParsedJSON {
            guard depth < 100 else { throw SchemaError("too deep") }
            skipSpace()
            guard index < bytes.count else { throw SchemaError("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [Member] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return .object(members)
                }
                while true {
                    skipSpace()
                    guard case .string(_, let key) = try value(depth: depth + 1) else { throw SchemaError("key expected at \(index)") }
                    skipSpace()
                    try expect(":")
                    members.append(Member(key: key, value: try value(depth: depth + 1)))
                    skipSpace()
                    if index < bytes.count, bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    try expect("}")
                    return .object(members)
                }
            case UInt8(ascii: "["):
                index += 1
                var elements: [ParsedJSON] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return .array(elements)
                }
                while true {
                    elements.append(try value(depth: depth + 1))
                    skipSpace()
                    if index < bytes.count, bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    try expect("]")
                    return .array(elements)
                }
            case UInt8(ascii: "\""):
                return try string()
            case UInt8(ascii: "t"):
                try expect("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try expect("null")
                return .null
            default:
                return try number()
            }
        }

        mutating func string() throws -> ParsedJSON {
            index += 1
            let start = index
            var scalars = String.UnicodeScalarView()
            var pendingHigh: UInt32?
            var plain: [UInt8] = []
            func flush() throws {
                guard !plain.isEmpty else { return }
                guard let text = String(validating: plain, as: UTF8.self) else { throw SchemaError("invalid UTF-8") }
                scalars.append(contentsOf: text.unicodeScalars)
                plain.removeAll()
            }
            while true {
                guard index < bytes.count else { throw SchemaError("unterminated string") }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") { break }
                guard byte >= 0x20 else { throw SchemaError("raw control character in a string at \(index)") }
                if byte != UInt8(ascii: "\\") {
                    guard pendingHigh == nil else { throw SchemaError("lone high surrogate") }
                    plain.append(byte)
                    index += 1
                    continue
                }
                try flush()
                index += 1
                guard index < bytes.count else { throw SchemaError("unterminated escape") }
                let escape = bytes[index]
                index += 1
                var decoded: UInt32
                switch escape {
                case UInt8(ascii: "\""): decoded = 0x22
                case UInt8(ascii: "\\"): decoded = 0x5C
                case UInt8(ascii: "/"): decoded = 0x2F
                case UInt8(ascii: "b"): decoded = 0x08
                case UInt8(ascii: "f"): decoded = 0x0C
                case UInt8(ascii: "n"): decoded = 0x0A
                case UInt8(ascii: "r"): decoded = 0x0D
                case UInt8(ascii: "t"): decoded = 0x09
                case UInt8(ascii: "u"):
                    guard index + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                    else { throw SchemaError("bad \\u escape") }
                    index += 4
                    decoded = code
                default: throw SchemaError("bad escape")
                }
                if let high = pendingHigh {
                    guard (0xDC00...0xDFFF).contains(decoded) else { throw SchemaError("lone high surrogate") }
                    decoded = 0x10000 + ((high - 0xD800) << 10) + (decoded - 0xDC00)
                    pendingHigh = nil
                } else if (0xD800...0xDBFF).contains(decoded) {
                    pendingHigh = decoded
                    continue
                }
                guard let scalar = Unicode.Scalar(decoded) else { throw SchemaError("lone surrogate") }
                scalars.append(scalar)
            }
            guard pendingHigh == nil else { throw SchemaError("lone high surrogate") }
            try flush()
            let raw = String(decoding: bytes[start..<index], as: UTF8.self)
            index += 1
            return .string(raw: raw, value: String(scalars))
        }

        mutating func number() throws -> ParsedJSON {
            let start = index
            func digits() -> Int {
                let from = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - from
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            let integerStart = index
            let integerDigits = digits()
            guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
                throw SchemaError("bad number at \(start)")
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw SchemaError("bad fraction at \(start)") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw SchemaError("bad exponent at \(start)") }
            }
            return .number(String(decoding: bytes[start..<index], as: UTF8.self))
        }
    }
}

// MARK: The runtime's coders

/// Coders set up exactly as OpenAPIRuntime's `Converter` sets them up from `Router`'s
/// configuration (`jsonEncodingOptions: []`, `RFC3339DateTranscoder`).
enum RuntimeCoders {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = []
        let transcoder = RFC3339DateTranscoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(try transcoder.encode(date))
        }
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        let transcoder = RFC3339DateTranscoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            try transcoder.decode(try decoder.singleValueContainer().decode(String.self))
        }
        return decoder
    }
}
