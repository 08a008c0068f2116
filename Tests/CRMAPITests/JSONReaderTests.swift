@testable import CRMAPI
import Foundation
import PropertyBased
import Testing

/// `JSONReader` reads request bodies for `ContractValidator` (before it, `JSONSerialization`
/// did). The validator must check the values the generated decoders store, so the reader's
/// answer is compared with `JSONDecoder`'s (the runtime's decoder): every body it reads must
/// read the same there, and it must never take a body the decoder refuses.
///
/// JSONSerialization is not the yardstick: it reads some numbers one unit in the last place off
/// (`100.00000000000001` as `100.0`, `0.30000000000000004` as `0.3000000000000001`) where
/// JSONDecoder and the reader round correctly, and it takes trailing commas (`[1,]`).
@Suite("JSON reader")
struct JSONReaderTests {
    static let cases = Int(ProcessInfo.processInfo.environment["CRM_JSON_READER_CASES"] ?? "") ?? 3_000

    /// What JSONDecoder makes of `bytes`, or nil when it refuses them.
    static func decoded(_ bytes: [UInt8]) -> JSONValue? {
        (try? JSONDecoder().decode(DecodedJSON.self, from: Data(bytes)))?.value
    }

    /// What JSONSerialization makes of `bytes` (the validator's reader for what JSONReader leaves).
    static func foundation(_ bytes: [UInt8]) -> JSONValue? {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])).flatMap(JSONValue.init(foundation:))
    }

    @Test("random JSON texts, spelt every way RFC 8259 allows: read, and read as JSONDecoder reads them")
    func differential() async {
        await propertyCheck(count: Self.cases, input: RandomJSONText.generator) { text in
            let bytes = Array(text.utf8)
            let read = JSONReader.read(bytes)
            #expect(read != nil, "not read: \(text)")
            #expect(read == Self.decoded(bytes), "read differently: \(text)")
        }
    }

    @Test("a random byte changed, inserted or removed: whatever the reader takes, JSONDecoder takes the same way")
    func neverMoreLenient() async {
        let mutated = Generator { rng in
            var bytes = Array(RandomJSONText.generator.run(using: &rng).utf8)
            let interesting: [UInt8] = Array("{}[]\",:\\/-+.eE0123456789tfnulx \t\n\r".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xE4, 0xFF]
            let byte = interesting[Int(UInt(RandomJSON.chance.run(using: &rng)) % UInt(interesting.count))]
            let at = bytes.isEmpty ? 0 : Int(UInt(Gen<Int>.int(in: 0...Int.max).run(using: &rng)) % UInt(bytes.count))
            switch RandomJSON.chance.run(using: &rng) % 3 {
            case 0 where !bytes.isEmpty: bytes[at] = byte
            case 1: bytes.insert(byte, at: at)
            default: if !bytes.isEmpty { bytes.remove(at: at) }
            }
            return bytes
        }
        await propertyCheck(count: Self.cases * 2, input: mutated) { bytes in
            // A body with a repeated member is refused before the reader runs (and the decoder
            // keeps the first where the reader keeps the last).
            guard JSONMemberCheck.firstRepeatedMember(in: bytes) == nil, let read = JSONReader.read(bytes) else { return }
            #expect(read == Self.decoded(bytes), "taken differently: \(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test("texts that are not JSON are refused", arguments: [
        "", " ", "{", "}", "[,1]", "{\"a\" 1}", "{a:1}", "{'a':1}", "[1 2]", "01", "-", "-01", "1.",
        ".5", "+1", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "tru", "nul", "True", "\"a", "\"\\x\"", "\"\\u12\"",
        "\"\\u12G4\"", "\"a\u{01}b\"", "\"tab\there\"", "[1]]", "{} {}", "1 2", "\"\\\"",
    ])
    func refused(text: String) {
        #expect(JSONReader.read(Array(text.utf8)) == nil)
        #expect(Self.decoded(Array(text.utf8)) == nil, "JSONDecoder takes it, so the test is wrong: \(text)")
    }

    @Test("what the reader leaves to JSONSerialization: invalid UTF-8, lone surrogates, deep nesting, numbers out of range, trailing commas")
    func leftToFoundation() {
        let deep = Array(String(repeating: "[", count: JSONReader.maximumDepth + 1).utf8) + Array(String(repeating: "]", count: JSONReader.maximumDepth + 1).utf8)
        let shallow = Array(String(repeating: "[", count: JSONReader.maximumDepth).utf8) + Array(String(repeating: "]", count: JSONReader.maximumDepth).utf8)
        let texts: [[UInt8]] = [
            Array("\"\\ud800\"".utf8), Array("\"\\udc00\"".utf8), Array("\"\\ud800\\u0041\"".utf8), [0x22, 0xFF, 0x22],
            [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], Array("1e400".utf8), Array("[-1e400]".utf8), Array("1e-400".utf8), Array("-2.5e-367".utf8), Array("0e5".utf8), Array("[0E12]".utf8), deep,
            Array("[1,]".utf8), Array("{\"a\":1,}".utf8),
        ]
        for bytes in texts {
            #expect(JSONReader.read(bytes) == nil, "read: \(bytes)")
            #expect(JSONValue.parse(bytes) == Self.foundation(bytes), "parse differs from JSONSerialization: \(bytes)")
        }
        #expect(JSONReader.read(shallow) != nil, "nesting at the limit is read")
        #expect(JSONReader.read(Array("\u{FEFF}{\"a\":[true,false,null]}".utf8)) == .object(["a": .array([.bool(true), .bool(false), .null])]))
    }

    @Test("escapes decode to the characters they name, surrogate pairs to one scalar")
    func escapes() {
        let text = #""\"\\\/\b\f\n\r\t\u0041\u00e9\u4E2D\ud83d\ude97\u0000""#
        #expect(JSONReader.read(Array(text.utf8)) == .string("\"\\/\u{08}\u{0C}\n\r\tAé中🚗\u{0}"))
        #expect(JSONReader.read(Array(text.utf8)) == Self.decoded(Array(text.utf8)))
    }

    @Test("numbers are read correctly rounded, as JSONDecoder reads them (JSONSerialization is off by one unit at times)")
    func numbers() {
        for text in ["100.00000000000001", "0.30000000000000004", "1.0000000000000002", "-10707819.664916871"] {
            #expect(JSONReader.read(Array(text.utf8)) == .number(Double(text)!))
            #expect(JSONReader.read(Array(text.utf8)) == Self.decoded(Array(text.utf8)))
        }
    }
}

/// Any JSON value, through JSONDecoder (the test's yardstick for `JSONReader`).
struct DecodedJSON: Decodable {
    let value: JSONValue

    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var elements: [JSONValue] = []
            while !array.isAtEnd { elements.append(try array.decode(DecodedJSON.self).value) }
            value = .array(elements)
        } else if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var members: [String: JSONValue] = [:]
            for key in object.allKeys { members[key.stringValue] = try object.decode(DecodedJSON.self, forKey: key).value }
            value = .object(members)
        } else {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() {
                value = .null
            } else if let flag = try? single.decode(Bool.self) {
                value = .bool(flag)
            } else if let number = try? single.decode(Double.self) {
                value = .number(number)
            } else {
                value = .string(try single.decode(String.self))
            }
        }
    }

    struct AnyKey: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}

/// Random JSON text: every kind of value, nested, with the spellings RFC 8259 allows (whitespace
/// around every token, escaped and raw characters, numbers with fractions and exponents).
enum RandomJSONText {
    static let generator = Generator<String, Shrink.None<String>> { rng in
        var out = ""
        value(into: &out, rng: &rng, depth: 0)
        return out
    }

    static let whitespace = [" ", "\t", "\n", "\r", "  \n "]
    static let rawCharacters: [String] = ["a", "Z", "0", " ", "é", "王", "中", "🚗", "\u{7F}", "\u{80}", "\u{FFFF}", "/", "'"]
    static let escapes: [String] = [
        "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041", "\\u00e9", "\\u00E9", "\\u4e2d", "\\u0000",
        "\\u001f", "\\ud83d\\ude97", "\\uD83D\\uDE97", "\\uffff", "\\u2028",
    ]
    static let numbers: [String] = [
        "0", "-0", "1", "-1", "10", "1.5", "-1.5", "0.0", "1e2", "1E2", "1e+2", "1e-2", "-1.25E-3", "123456789012345678901234567890",
        "9007199254740993", "-9223372036854775808", "9223372036854775807", "18446744073709551616", "1.7976931348623157e308",
        "5e-324", "0.1", "2.5e-7", "1e21", "100.000",
    ]

    static func pick<T>(_ values: [T], _ rng: inout any SeededRandomNumberGenerator) -> T {
        values[Int(UInt(RandomJSON.chance.run(using: &rng)) % UInt(values.count))]
    }

    static func space(_ out: inout String, _ rng: inout any SeededRandomNumberGenerator) {
        if RandomJSON.chance.run(using: &rng) < 20 { out += pick(whitespace, &rng) }
    }

    static func string(into out: inout String, rng: inout any SeededRandomNumberGenerator) {
        out += "\""
        for _ in 0..<(RandomJSON.chance.run(using: &rng) % 8) {
            out += RandomJSON.chance.run(using: &rng) < 60 ? pick(rawCharacters, &rng) : pick(escapes, &rng)
        }
        out += "\""
    }

    static func value(into out: inout String, rng: inout any SeededRandomNumberGenerator, depth: Int) {
        space(&out, &rng)
        switch RandomJSON.chance.run(using: &rng) % (depth > 4 ? 5 : 7) {
        case 0: out += "null"
        case 1: out += RandomJSON.chance.run(using: &rng) < 50 ? "true" : "false"
        case 2:
            switch RandomJSON.chance.run(using: &rng) % 3 {
            case 0: out += pick(numbers, &rng)
            case 1: out += String(RandomJSON.integer(rng: &rng))
            default: out += RandomJSON.number(rng: &rng).description
            }
        case 3, 4: string(into: &out, rng: &rng)
        case 5:
            out += "["
            for index in 0..<RandomJSON.count.run(using: &rng) {
                if index > 0 { out += "," }
                value(into: &out, rng: &rng, depth: depth + 1)
            }
            space(&out, &rng)
            out += "]"
        default:
            out += "{"
            var names = Set<String>()
            for _ in 0..<RandomJSON.count.run(using: &rng) {
                var name = ""
                string(into: &name, rng: &rng)
                // Distinct names only, however spelt (a repeated name is refused before the reader
                // runs, and JSONDecoder keeps the first where the reader keeps the last).
                let decodedName = (try? JSONDecoder().decode(String.self, from: Data(name.utf8))) ?? name
                guard names.insert(decodedName).inserted else { continue }
                if names.count > 1 { out += "," }
                space(&out, &rng)
                out += name
                space(&out, &rng)
                out += ":"
                value(into: &out, rng: &rng, depth: depth + 1)
            }
            space(&out, &rng)
            out += "}"
        }
        space(&out, &rng)
    }
}
