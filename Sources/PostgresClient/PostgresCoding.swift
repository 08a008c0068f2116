@_exported public import CanonicalUUID
public import Foundation

/// Object identifiers of the built-in types the client declares for parameters and recognises in
/// results.
public struct PostgresType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Let the server infer the parameter's type from its context.
    public static let unspecified = PostgresType(rawValue: 0)
    public static let bool = PostgresType(rawValue: 16)
    public static let bytea = PostgresType(rawValue: 17)
    public static let int8 = PostgresType(rawValue: 20)
    public static let int2 = PostgresType(rawValue: 21)
    public static let int4 = PostgresType(rawValue: 23)
    public static let text = PostgresType(rawValue: 25)
    public static let json = PostgresType(rawValue: 114)
    public static let float4 = PostgresType(rawValue: 700)
    public static let float8 = PostgresType(rawValue: 701)
    public static let varchar = PostgresType(rawValue: 1043)
    public static let date = PostgresType(rawValue: 1082)
    public static let timestamp = PostgresType(rawValue: 1114)
    public static let timestamptz = PostgresType(rawValue: 1184)
    public static let numeric = PostgresType(rawValue: 1700)
    public static let uuid = PostgresType(rawValue: 2950)
    public static let jsonb = PostgresType(rawValue: 3802)
    public static let int8Array = PostgresType(rawValue: 1016)
    public static let int4Array = PostgresType(rawValue: 1007)
    public static let uuidArray = PostgresType(rawValue: 2951)
}

// MARK: - Encoding (parameters, text format)

/// A Swift value that can be bound as a statement parameter. Parameters travel in PostgreSQL's
/// text format, separately from the SQL text: a value is never spliced into a statement.
public protocol PostgresEncodable: Sendable {
    /// The type declared for the parameter; `.unspecified` lets the server infer it.
    static var postgresType: PostgresType { get }
    /// The text representation, or nil for SQL NULL.
    var postgresText: String? { get }
}

extension PostgresEncodable {
    public static var postgresType: PostgresType { .unspecified }
}

extension String: PostgresEncodable {
    public var postgresText: String? { self }
}
extension Substring: PostgresEncodable {
    public var postgresText: String? { String(self) }
}
extension Int: PostgresEncodable {
    public static var postgresType: PostgresType { .int8 }
    public var postgresText: String? { String(self) }
}
extension Int64: PostgresEncodable {
    public static var postgresType: PostgresType { .int8 }
    public var postgresText: String? { String(self) }
}
extension Int32: PostgresEncodable {
    public static var postgresType: PostgresType { .int4 }
    public var postgresText: String? { String(self) }
}
extension Int16: PostgresEncodable {
    public static var postgresType: PostgresType { .int2 }
    public var postgresText: String? { String(self) }
}
extension Bool: PostgresEncodable {
    public static var postgresType: PostgresType { .bool }
    public var postgresText: String? { self ? "t" : "f" }
}
extension Double: PostgresEncodable {
    public static var postgresType: PostgresType { .float8 }
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self > 0 ? "Infinity" : "-Infinity" }
        return String(self)
    }
}
extension Decimal: PostgresEncodable {
    public static var postgresType: PostgresType { .numeric }
    public var postgresText: String? { isNaN ? "NaN" : description }
}
extension UUID: PostgresEncodable {
    public static var postgresType: PostgresType { .uuid }
    public var postgresText: String? { lowercasedText }
}
extension Date: PostgresEncodable {
    public static var postgresType: PostgresType { .timestamptz }
    public var postgresText: String? { PostgresTimestamp.format(self) }
}
extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresType: PostgresType { Wrapped.postgresType }
    public var postgresText: String? {
        switch self {
        case .none: return nil
        case .some(let value): return value.postgresText
        }
    }
}
extension Array: PostgresEncodable where Element: PostgresEncodable {
    public static var postgresType: PostgresType {
        switch Element.postgresType {
        case .int8: return .int8Array
        case .int4: return .int4Array
        case .uuid: return .uuidArray
        default: return .unspecified
        }
    }
    /// An array literal: `{"a","b",NULL}`; every element quoted and escaped.
    public var postgresText: String? {
        var text = "{"
        for (index, element) in enumerated() {
            if index > 0 { text += "," }
            guard let elementText = element.postgresText else {
                text += "NULL"
                continue
            }
            text += "\""
            for character in elementText {
                if character == "\"" || character == "\\" { text += "\\" }
                text.append(character)
            }
            text += "\""
        }
        return text + "}"
    }
}

/// A `jsonb` value: raw JSON text in both directions.
public struct PostgresJSON: PostgresEncodable, PostgresDecodable, Hashable {
    public var raw: String
    public init(raw: String) { self.raw = raw }

    /// Encodes a Swift value with `JSONEncoder` (sorted keys, so equal values give equal text).
    public init(encoding value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        self.raw = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(raw.utf8))
    }

    public static var postgresType: PostgresType { .jsonb }
    public var postgresText: String? { raw }
    public static func decode(_ cell: PostgresCell) throws -> PostgresJSON { PostgresJSON(raw: cell.string) }
}

/// `bytea` values.
public struct PostgresBytes: PostgresEncodable, PostgresDecodable, Hashable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public static var postgresType: PostgresType { .bytea }
    public var postgresText: String? {
        let digits: [Character] = Array("0123456789abcdef")
        var text = "\\x"
        text.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return text
    }
    public static func decode(_ cell: PostgresCell) throws -> PostgresBytes {
        let text = cell.bytes
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"), text.count % 2 == 0 else {
            throw PostgresCell.Failure("bytea is not in hex format")
        }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: throw PostgresCell.Failure("invalid hex digit in bytea")
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((text.count - 2) / 2)
        var index = 2
        while index < text.count {
            out.append(try nibble(text[index]) << 4 | nibble(text[index + 1]))
            index += 2
        }
        return PostgresBytes(out)
    }
}

// MARK: - Decoding (results, text format)

/// One non-NULL value of a result row, in PostgreSQL's text format.
public struct PostgresCell {
    /// The value's bytes (not NUL-terminated), valid while the result lives.
    public let bytes: UnsafeBufferPointer<UInt8>

    public init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Thrown by decoders; the row adds the column's name and index.
    public struct Failure: Error {
        public var reason: String
        public init(_ reason: String) { self.reason = reason }
    }

    /// Parses a (possibly signed) decimal integer without allocating.
    public func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard !bytes.isEmpty else { throw Failure("empty value is not an integer") }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
        } else if bytes[0] == UInt8(ascii: "+") {
            index = 1
        }
        guard index < bytes.count else { throw Failure("'\(string)' is not an integer") }
        var value: T = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { throw Failure("'\(string)' is not an integer") }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) =
                negative
                ? shifted.subtractingReportingOverflow(T(digit)) : shifted.addingReportingOverflow(T(digit))
            guard !overflow1, !overflow2 else { throw Failure("'\(string)' does not fit in \(T.self)") }
            value = next
            index += 1
        }
        return value
    }
}

/// A Swift type a result value can be decoded into.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value.
    static func decode(_ cell: PostgresCell) throws -> Self
    /// Called for SQL NULL; throws unless the type can represent it (Optional).
    static func decodeNull() throws -> Self
}

extension PostgresDecodable {
    public static func decodeNull() throws -> Self { throw PostgresCell.Failure("value is NULL") }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Wrapped? { try Wrapped.decode(cell) }
    public static func decodeNull() throws -> Wrapped? { nil }
}

extension String: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> String { cell.string }
}
extension Int: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Int { try cell.integer(Int.self) }
}
extension Int64: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Int64 { try cell.integer(Int64.self) }
}
extension Int32: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Int32 { try cell.integer(Int32.self) }
}
extension Int16: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Int16 { try cell.integer(Int16.self) }
}
extension Bool: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Bool {
        guard cell.bytes.count == 1 else { throw PostgresCell.Failure("'\(cell.string)' is not a boolean") }
        switch cell.bytes[0] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: throw PostgresCell.Failure("'\(cell.string)' is not a boolean")
        }
    }
}
extension Double: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Double {
        let text = cell.string
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default:
            guard let value = Double(text) else { throw PostgresCell.Failure("'\(text)' is not a number") }
            return value
        }
    }
}
extension Decimal: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Decimal {
        let text = cell.string
        if text == "NaN" { return .nan }
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            throw PostgresCell.Failure("'\(text)' is not a numeric value")
        }
        return value
    }
}
extension UUID: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> UUID {
        guard let value = UUID(canonicalText: cell.bytes) ?? UUID(uuidString: cell.string) else {
            throw PostgresCell.Failure("'\(cell.string)' is not a UUID")
        }
        return value
    }
}
extension Date: PostgresDecodable {
    public static func decode(_ cell: PostgresCell) throws -> Date {
        try PostgresTimestamp.parse(cell.bytes)
    }
}

/// A calendar date (`date` columns) with no time and no zone.
public struct PostgresDate: Hashable, Sendable, Comparable, CustomStringConvertible, PostgresEncodable,
    PostgresDecodable
{
    public var year: Int
    public var month: Int
    public var day: Int
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public static var postgresType: PostgresType { .date }
    public var postgresText: String? { description }
    public var description: String {
        let y = year >= 0 && year < 10000 ? String(year).leftPadded(to: 4) : String(year)
        return "\(y)-\(String(month).leftPadded(to: 2))-\(String(day).leftPadded(to: 2))"
    }
    public static func < (lhs: PostgresDate, rhs: PostgresDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
    public static func decode(_ cell: PostgresCell) throws -> PostgresDate {
        let b = cell.bytes
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else {
            throw PostgresCell.Failure("'\(cell.string)' is not a date (YYYY-MM-DD)")
        }
        return PostgresDate(
            year: try PostgresTimestamp.digits(b, 0, 4), month: try PostgresTimestamp.digits(b, 5, 2),
            day: try PostgresTimestamp.digits(b, 8, 2))
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// Parses a one-dimensional array literal (`{a,"b c",NULL}`).
    public static func decode(_ cell: PostgresCell) throws -> [Element] {
        var result: [Element] = []
        try PostgresArrayLiteral.forEachElement(in: cell.bytes) { element in
            if let element {
                result.append(try Element.decode(PostgresCell(bytes: element)))
            } else {
                result.append(try Element.decodeNull())
            }
        }
        return result
    }
}

enum PostgresArrayLiteral {
    /// Calls `body` with the bytes of each element of a one-dimensional array literal, in order,
    /// and nil for an unquoted `NULL`. An element is a slice of `bytes` unless it is quoted with
    /// backslash escapes; only then is it unescaped, into a buffer reused for every element.
    static func forEachElement(
        in bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>?) throws -> Void
    ) throws {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), comma = UInt8(ascii: ",")
        var index = 0
        // Skip an optional dimension decoration such as "[0:2]=".
        if bytes.first == UInt8(ascii: "[") {
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else {
                throw PostgresCell.Failure("malformed array literal")
            }
            index = equals + 1
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else {
            throw PostgresCell.Failure("malformed array literal")
        }
        index += 1
        let end = bytes.count - 1
        if index == end { return }
        var unescaped: [UInt8] = []
        while index <= end {
            if bytes[index] == UInt8(ascii: "{") {
                throw PostgresCell.Failure("multi-dimensional arrays are not supported")
            }
            if bytes[index] == quote {
                index += 1
                let start = index
                var escapes = false
                while index < end, bytes[index] != quote {
                    if bytes[index] == backslash {
                        escapes = true
                        index += 1
                    }
                    guard index < end else { throw PostgresCell.Failure("malformed array literal") }
                    index += 1
                }
                if escapes {
                    unescaped.removeAll(keepingCapacity: true)
                    var position = start
                    while position < index {
                        if bytes[position] == backslash { position += 1 }
                        unescaped.append(bytes[position])
                        position += 1
                    }
                    try unescaped.withUnsafeBufferPointer { try body($0) }
                } else {
                    try body(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                }
                index += 1  // closing quote
            } else {
                let start = index
                while index < end, bytes[index] != comma { index += 1 }
                let element = UnsafeBufferPointer(rebasing: bytes[start..<index])
                try body(element.elementsEqual("NULL".utf8) ? nil : element)
            }
            // index is at ',' or at end
            index += 1
        }
    }
}

// MARK: - Timestamps

/// Text timestamps as the server sends them with `DateStyle=ISO` and `TimeZone=UTC`
/// (`2026-11-23 08:00:00.123456+00`), parsed and formatted without a formatter object.
public enum PostgresTimestamp {
    static func digits(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) throws -> Int {
        guard start + count <= b.count else { throw PostgresCell.Failure("truncated date/time value") }
        var value = 0
        for i in start..<(start + count) {
            let d = b[i] &- UInt8(ascii: "0")
            guard d < 10 else { throw PostgresCell.Failure("invalid digit in date/time value") }
            value = value * 10 + Int(d)
        }
        return value
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) throws -> Date {
        if b.count == 8, String(decoding: b, as: UTF8.self) == "infinity" { return .distantFuture }
        if b.count == 9, String(decoding: b, as: UTF8.self) == "-infinity" { return .distantPast }
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else {
            throw PostgresCell.Failure("'\(String(decoding: b, as: UTF8.self))' is not an ISO timestamp")
        }
        let year = try digits(b, 0, 4)
        let month = try digits(b, 5, 2)
        let day = try digits(b, 8, 2)
        var seconds = Double(daysFromCivil(year: year, month: month, day: day)) * 86400
        guard b.count > 10 else { return Date(timeIntervalSince1970: seconds) }  // a plain date
        guard b.count >= 19, b[10] == UInt8(ascii: " ") || b[10] == UInt8(ascii: "T") else {
            throw PostgresCell.Failure("'\(String(decoding: b, as: UTF8.self))' is not an ISO timestamp")
        }
        let hour = try digits(b, 11, 2)
        let minute = try digits(b, 14, 2)
        let second = try digits(b, 17, 2)
        seconds += Double(hour * 3600 + minute * 60 + second)
        var index = 19
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            var fraction = 0
            var scale = 1
            while index < b.count, b[index] &- UInt8(ascii: "0") < 10 {
                if scale < 1_000_000 {
                    fraction = fraction * 10 + Int(b[index] - UInt8(ascii: "0"))
                    scale *= 10
                }
                index += 1
            }
            seconds += Double(fraction) / Double(scale)
        }
        if index < b.count {
            let sign: Double
            switch b[index] {
            case UInt8(ascii: "+"): sign = 1
            case UInt8(ascii: "-"): sign = -1
            default: throw PostgresCell.Failure("unexpected text after timestamp")
            }
            let offsetHours = try digits(b, index + 1, 2)
            var offset = offsetHours * 3600
            if index + 3 < b.count, b[index + 3] == UInt8(ascii: ":") {
                offset += try digits(b, index + 4, 2) * 60
                if index + 6 < b.count, b[index + 6] == UInt8(ascii: ":") {
                    offset += try digits(b, index + 7, 2)
                }
            }
            seconds -= sign * Double(offset)
        }
        return Date(timeIntervalSince1970: seconds)
    }

    /// `YYYY-MM-DD HH:MM:SS.ffffff+00`, microsecond precision like the server.
    public static func format(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var micros = Int64((interval * 1_000_000).rounded())
        var days = micros / 86_400_000_000
        micros -= days * 86_400_000_000
        if micros < 0 {
            micros += 86_400_000_000
            days -= 1
        }
        let civil = civilFromDays(Int(days))
        let secondsOfDay = Int(micros / 1_000_000)
        let fraction = Int(micros % 1_000_000)
        let date = PostgresDate(year: civil.year, month: civil.month, day: civil.day).description
        return date + " " + String(secondsOfDay / 3600).leftPadded(to: 2) + ":"
            + String(secondsOfDay % 3600 / 60).leftPadded(to: 2) + ":" + String(secondsOfDay % 60).leftPadded(to: 2)
            + "." + String(fraction).leftPadded(to: 6) + "+00"
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
