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
    /// PostgreSQL sends, where Foundation's parser (`sscanf`) showed up in profiles.
    public init?(canonicalText bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 36 else { return nil }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &value) { out -> Bool in
            var position = 0
            for index in 0..<16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    guard bytes[position] == UInt8(ascii: "-") else { return false }
                    position += 1
                }
                guard let high = Self.nibble(bytes[position]), let low = Self.nibble(bytes[position + 1]) else { return false }
                out[index] = high << 4 | low
                position += 2
            }
            return true
        }
        guard parsed else { return nil }
        self.init(uuid: value)
    }

    /// Parses `8-4-4-4-12` hex digits (either case) from a string; nil for anything else, including
    /// the spaces and misplaced hyphens that Foundation's `UUID(uuidString:)` lets through on Linux.
    public init?(canonicalText text: String) {
        var text = text
        guard let parsed = text.withUTF8({ UUID(canonicalText: $0) }) else { return nil }
        self = parsed
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
