import Foundation

/// A JSON value as `ContractValidator` checks it: the request body read once into plain Swift
/// values, so that checking it needs no dynamic casts and no bridged Foundation objects.
enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The body as the validator reads it: UTF-8 JSON (RFC 8259, any top-level value, an optional
    /// byte order mark) by `JSONReader`; anything that reader does not take (other encodings,
    /// escaped lone surrogates, nesting deeper than its limit, text that is not JSON) is handed to
    /// `JSONSerialization` as before, so a body the validator used to check is still checked.
    /// Nil when neither reads it: the generated decoders report what is wrong with it.
    static func parse(_ bytes: [UInt8]) -> JSONValue? {
        if let value = JSONReader.read(bytes) { return value }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
            return nil
        }
        return JSONValue(foundation: object)
    }

    /// A value as `JSONSerialization` returns it.
    init?(foundation value: Any) {
        switch value {
        case is NSNull:
            self = .null
        case _ where Self.isFoundationBoolean(value):
            guard let flag = (value as? NSNumber)?.boolValue ?? (value as? Bool) else { return nil }
            self = .bool(flag)
        case let text as String:
            self = .string(text)
        case let number as NSNumber:
            self = .number(number.doubleValue)
        case let array as [Any]:
            var elements: [JSONValue] = []
            elements.reserveCapacity(array.count)
            for element in array {
                guard let converted = JSONValue(foundation: element) else { return nil }
                elements.append(converted)
            }
            self = .array(elements)
        case let object as [String: Any]:
            var members: [String: JSONValue] = [:]
            for (key, member) in object {
                guard let converted = JSONValue(foundation: member) else { return nil }
                members[key] = converted
            }
            self = .object(members)
        default:
            return nil
        }
    }

    /// JSON `true`/`false` as JSONSerialization returns them (a boxed boolean, which also
    /// bridges to numbers, so the type is what tells).
    private static func isFoundationBoolean(_ value: Any) -> Bool {
        let type = type(of: value)
        return type == Bool.self || type == foundationBooleanType
    }

    /// The class JSONSerialization gives `true` and `false` (read once, not named per value).
    private static let foundationBooleanType: Any.Type = {
        let parsed = try? JSONSerialization.jsonObject(with: Data("[true]".utf8)) as? [Any]
        return parsed.flatMap { $0.first }.map { type(of: $0) } ?? Bool.self
    }()
}

/// Reads UTF-8 JSON text into a `JSONValue`, strictly by RFC 8259's grammar. Returns nil for
/// anything else (the caller then asks `JSONSerialization`), including text it could read but
/// would rather not decide on: invalid UTF-8, an escaped lone surrogate, nesting deeper than
/// `maximumDepth`.
struct JSONReader {
    /// Arrays and objects nested deeper than this are left to `JSONSerialization` (the reader
    /// recurses; the limit keeps its stack small whatever the body).
    static let maximumDepth = 256

    private let input: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var depth = 0
    /// Decoded bytes of the string being read, when it has escapes.
    private var scratch: [UInt8] = []

    private init(input: UnsafeBufferPointer<UInt8>) {
        self.input = input
    }

    static func read(_ bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(input: buffer)
            if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { reader.position = 3 }
            guard let value = reader.value() else { return nil }
            reader.skipWhitespace()
            return reader.position == buffer.count ? value : nil
        }
    }

    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    private mutating func value() -> JSONValue? {
        skipWhitespace()
        guard position < input.count else { return nil }
        switch input[position] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        default: return nil
        }
    }

    private mutating func object() -> JSONValue? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { return nil }
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if position < input.count, input[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < input.count, input[position] == UInt8(ascii: "\""), let name = string() else { return nil }
            skipWhitespace()
            guard position < input.count, input[position] == UInt8(ascii: ":") else { return nil }
            position += 1
            guard let member = value() else { return nil }
            // A repeated name is refused before this reader runs (JSONMemberCheck); the last wins,
            // as in JSONSerialization.
            members[name] = member
            skipWhitespace()
            guard position < input.count else { return nil }
            switch input[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .object(members)
            default: return nil
            }
        }
    }

    private mutating func array() -> JSONValue? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { return nil }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < input.count, input[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            guard let element = value() else { return nil }
            elements.append(element)
            skipWhitespace()
            guard position < input.count else { return nil }
            switch input[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array(elements)
            default: return nil
            }
        }
    }

    /// A string starting at the opening quote; its bytes must be valid UTF-8.
    private mutating func string() -> String? {
        position += 1
        let start = position
        // Without escapes the text is the body's own bytes.
        while position < input.count {
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                let text = String(validating: UnsafeBufferPointer(rebasing: input[start..<position]), as: UTF8.self)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { return nil }
            position += 1
        }
        guard position < input.count else { return nil }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<position]))
        while position < input.count {
            let byte = input[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(validating: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                guard position < input.count else { return nil }
                let escaped = input[position]
                position += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escaped)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape() else { return nil }
                    scratch.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            default:
                if byte < 0x20 { return nil }
                scratch.append(byte)
                position += 1
            }
        }
        return nil
    }

    /// The scalar of `\uXXXX` (after the `u`), a surrogate pair read as one; nil for a lone
    /// surrogate.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let first = hex4() else { return nil }
        if (0xD800...0xDBFF).contains(first) {
            guard position + 1 < input.count, input[position] == UInt8(ascii: "\\"), input[position + 1] == UInt8(ascii: "u")
            else { return nil }
            position += 2
            guard let second = hex4(), (0xDC00...0xDFFF).contains(second) else { return nil }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
        }
        return Unicode.Scalar(first)
    }

    private mutating func hex4() -> UInt32? {
        guard position + 4 <= input.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = input[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, read as the nearest Double;
    /// nil when it is out of a Double's range, above or below.
    private mutating func number() -> JSONValue? {
        let start = position
        if input[position] == UInt8(ascii: "-") { position += 1 }
        guard position < input.count else { return nil }
        if input[position] == UInt8(ascii: "0") {
            position += 1
            // JSONDecoder refuses `0e5` and `0E5` (a zero, unsigned, then an exponent without its
            // sign), though RFC 8259 allows them: left to the fallback, never read where the
            // decoder would refuse.
            if position == start + 1, position + 1 < input.count,
                input[position] == UInt8(ascii: "e") || input[position] == UInt8(ascii: "E"),
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[position + 1])
            {
                return nil
            }
        } else {
            guard digits() else { return nil }
        }
        if position < input.count, input[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() else { return nil }
        }
        if position < input.count, input[position] == UInt8(ascii: "e") || input[position] == UInt8(ascii: "E") {
            position += 1
            if position < input.count, input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits() else { return nil }
        }
        let digits = UnsafeBufferPointer(rebasing: input[start..<position])
        guard let number = Double(String(decoding: digits, as: UTF8.self)), number.isFinite else { return nil }
        // Too small for a Double: JSONDecoder refuses it rather than read 0.
        if number == 0, digits.prefix(while: { $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }).contains(where: {
            (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0)
        }) {
            return nil
        }
        return .number(number)
    }

    /// One or more digits.
    private mutating func digits() -> Bool {
        let start = position
        while position < input.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[position]) { position += 1 }
        return position > start
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= input.count else { return false }
        for offset in 0..<count where input[position + offset] != word.utf8Start[offset] { return false }
        position += count
        return true
    }
}
