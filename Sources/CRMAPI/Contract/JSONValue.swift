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
    /// escaped lone surrogates, nesting deeper than its limit, some numbers, trailing commas,
    /// text that is not JSON) is handed to `JSONSerialization` as before, so a body the validator
    /// used to check is still checked.
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
/// `maximumDepth`, numbers `JSONDecoder` refuses (out of a Double's range, `0e5`). It never takes
/// a text `JSONDecoder` refuses, and reads numbers as it does (`JSONReaderTests`).
struct JSONReader: JSONTokens {
    /// Arrays and objects nested deeper than this are left to `JSONSerialization` (the reader
    /// recurses; the limit keeps its stack small whatever the body).
    static let maximumDepth = 256

    let input: UnsafeBufferPointer<UInt8>
    var position = 0
    private var depth = 0
    /// Decoded bytes of the string being read, when it has escapes.
    private var scratch: [UInt8] = []

    private init(input: UnsafeBufferPointer<UInt8>) {
        self.input = input
    }

    static func read(_ bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(input: buffer)
            reader.skipByteOrderMark()
            guard let value = reader.value() else { return nil }
            reader.skipWhitespace()
            return reader.position == buffer.count ? value : nil
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
        case UInt8(ascii: "t"): return skipLiteral("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return skipLiteral("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return skipLiteral("null") ? .null : nil
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
                guard let scalar = readEscape(loneSurrogates: .refused) else { return nil }
                scratch.append(contentsOf: UTF8.encode(scalar)!)
            default:
                if byte < 0x20 { return nil }
                scratch.append(byte)
                position += 1
            }
        }
        return nil
    }

    /// A number (RFC 8259's grammar, `skipNumber`) read as the nearest Double; nil when it is out
    /// of a Double's range, above or below, or spelt as JSONDecoder refuses.
    private mutating func number() -> JSONValue? {
        let start = position
        guard skipNumber() else { return nil }
        let text = UnsafeBufferPointer(rebasing: input[start..<position])
        // JSONDecoder refuses `0e5` and `0E5` (an unsigned zero, then an exponent without its
        // sign), though RFC 8259 allows them: left to the fallback, never read where the decoder
        // would refuse.
        if text.count > 2, text[0] == UInt8(ascii: "0"), text[1] == UInt8(ascii: "e") || text[1] == UInt8(ascii: "E"),
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[2])
        {
            return nil
        }
        guard let number = Double(String(decoding: text, as: UTF8.self)), number.isFinite else { return nil }
        // Too small for a Double: JSONDecoder refuses it rather than read 0.
        if number == 0, text.prefix(while: { $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }).contains(where: {
            (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0)
        }) {
            return nil
        }
        return .number(number)
    }
}
