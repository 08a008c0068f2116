/// UUIDs as text in the one form the service reads and writes: 8-4-4-4-12 hex digits, lower case
/// when written. Its own target at the bottom of the graph, so that the PostgreSQL client (which
/// re-exports it to the layers above) and the HTTP layer (which may not import the client) use
/// the same code.
public import Foundation

extension UUID {
    /// The canonical lower-case text (`8-4-4-4-12` hex digits), as PostgreSQL writes UUIDs.
    /// Written by hand: Foundation's `uuidString` formats through `snprintf` and it is on every
    /// bound parameter and rendered id.
    public var lowercasedText: String {
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                digits.withUTF8Buffer { hex in
                    var position = 0
                    for (index, byte) in raw.enumerated() {
                        if index == 4 || index == 6 || index == 8 || index == 10 {
                            out[position] = UInt8(ascii: "-")
                            position += 1
                        }
                        out[position] = hex[Int(byte >> 4)]
                        out[position + 1] = hex[Int(byte & 0x0f)]
                        position += 2
                    }
                }
                return 36
            }
        }
    }

    /// Parses `8-4-4-4-12` hex digits (either case); nil for anything else. Used for the text
    /// PostgreSQL sends, where Foundation's parser (`sscanf`) showed up in profiles: the hyphens
    /// are checked at their four places, then the 32 digits are read through a table (one load
    /// each, no branch per digit), any non-digit marking the result invalid.
    public init?(canonicalText bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 36, let text = bytes.baseAddress else { return nil }
        let hyphen = UInt8(ascii: "-")
        guard text[8] == hyphen, text[13] == hyphen, text[18] == hyphen, text[23] == hyphen else { return nil }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let valid = Self.hexValues.withUnsafeBufferPointer { table -> Bool in
            withUnsafeMutableBytes(of: &value) { out -> Bool in
                var invalid: UInt8 = 0
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 { position += 1 }
                    let high = table[Int(text[position])]
                    let low = table[Int(text[position + 1])]
                    invalid |= high | low
                    out[index] = high << 4 | (low & 0x0F)
                    position += 2
                }
                return invalid & Self.notHex == 0
            }
        }
        guard valid else { return nil }
        self.init(uuid: value)
    }

    /// Bit 4 (`notHex`) set for a byte that is no hex digit; else the digit's value.
    private static let notHex: UInt8 = 0x10
    private static let hexValues: [UInt8] = (0...255).map { byte -> UInt8 in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt8(byte) - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt8(byte) - UInt8(ascii: "A") + 10
        default: return notHex
        }
    }

    /// Parses `8-4-4-4-12` hex digits (either case) from a string; nil for anything else, including
    /// the spaces and misplaced hyphens that Foundation's `UUID(uuidString:)` lets through on Linux.
    public init?(canonicalText text: String) {
        var text = text
        guard let parsed = text.withUTF8({ UUID(canonicalText: $0) }) else { return nil }
        self = parsed
    }
}
