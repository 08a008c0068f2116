/// RFC 8259's tokens, as this module's two readers of a request body share them: `JSONReader`
/// (the values the validator checks) and `JSONMemberCheck` (repeated member names). A reader
/// keeps its text and its position; these read whitespace, literals, numbers and string escapes
/// at that position and move it past what they read.
protocol JSONTokens {
    var input: UnsafeBufferPointer<UInt8> { get }
    var position: Int { get set }
}

/// What a string escape naming half a surrogate pair (`\ud800` alone) reads as.
enum LoneSurrogates {
    /// U+FFFD, as `String` reads such text.
    case replaced
    /// Not read: the escape fails.
    case refused
}

extension JSONTokens {
    /// Moves past a UTF-8 byte order mark at the start.
    mutating func skipByteOrderMark() {
        if position == 0, input.count >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF { position = 3 }
    }

    mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    mutating func skipLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= input.count else { return false }
        for offset in 0..<count where input[position + offset] != literal.utf8Start[offset] { return false }
        position += count
        return true
    }

    /// Skips `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; false when malformed.
    mutating func skipNumber() -> Bool {
        if input[position] == UInt8(ascii: "-") { position += 1 }
        guard position < input.count else { return false }
        if input[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            guard skipDigits() else { return false }
        }
        if position < input.count, input[position] == UInt8(ascii: ".") {
            position += 1
            guard skipDigits() else { return false }
        }
        if position < input.count, input[position] == UInt8(ascii: "e") || input[position] == UInt8(ascii: "E") {
            position += 1
            if position < input.count, input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard skipDigits() else { return false }
        }
        return true
    }

    /// Skips one or more digits.
    mutating func skipDigits() -> Bool {
        let start = position
        while position < input.count, input[position] >= UInt8(ascii: "0"), input[position] <= UInt8(ascii: "9") {
            position += 1
        }
        return position > start
    }

    /// Four hex digits at `position`.
    mutating func hex4() -> UInt32? {
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

    /// Reads the escape after a backslash (`position` is past it): the scalar it names, a
    /// surrogate pair of `\u` escapes read as one. Nil when malformed, or for a lone surrogate
    /// when `loneSurrogates` is `.refused`.
    mutating func readEscape(loneSurrogates: LoneSurrogates) -> Unicode.Scalar? {
        guard position < input.count else { return nil }
        let escaped = input[position]
        position += 1
        switch escaped {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return Unicode.Scalar(escaped)
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            guard var scalar = hex4() else { return nil }
            if (0xD800...0xDBFF).contains(scalar), position + 1 < input.count, input[position] == UInt8(ascii: "\\"),
                input[position + 1] == UInt8(ascii: "u")
            {
                let save = position
                position += 2
                guard let low = hex4() else { return nil }
                if (0xDC00...0xDFFF).contains(low) {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    position = save  // a lone high surrogate; the next escape stands alone
                }
            }
            if let value = Unicode.Scalar(scalar) { return value }
            return loneSurrogates == .replaced ? "\u{FFFD}" : nil
        default:
            return nil
        }
    }
}
