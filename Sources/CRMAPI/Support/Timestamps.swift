import CRMContract
package import Foundation
package import OpenAPIRuntime

/// RFC 3339 timestamps for the generated coders: written as `2026-11-23T08:00:00Z` (UTC, whole
/// seconds) without a formatter object; read with or without fractional seconds and with any
/// offset.
package struct RFC3339DateTranscoder: DateTranscoder {
    package init() {}

    package func encode(_ date: Date) throws -> String { Self.format(date) }

    package func decode(_ text: String) throws -> Date {
        guard let date = Timestamps.parse(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "'\(text)' is not an RFC 3339 timestamp"))
        }
        return date
    }

    package static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        write(date, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the 20 bytes of `format(date)` (the JSON response writer writes them straight
    /// into its buffer).
    static func write(_ date: Date, into bytes: inout [UInt8]) {
        let total = Int64(date.timeIntervalSince1970.rounded(.down))
        var days = total / 86_400
        var seconds = total % 86_400
        if seconds < 0 {
            seconds += 86_400
            days -= 1
        }
        // Days to civil date (Howard Hinnant).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let base = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 20))
        func put(_ value: Int64, _ start: Int, _ width: Int) {
            var value = value
            for index in stride(from: base + start + width - 1, through: base + start, by: -1) {
                bytes[index] = UInt8(48 + value % 10)
                value /= 10
            }
        }
        put(year, 0, 4)
        bytes[base + 4] = UInt8(ascii: "-")
        put(month, 5, 2)
        bytes[base + 7] = UInt8(ascii: "-")
        put(day, 8, 2)
        bytes[base + 10] = UInt8(ascii: "T")
        put(seconds / 3600, 11, 2)
        bytes[base + 13] = UInt8(ascii: ":")
        put(seconds % 3600 / 60, 14, 2)
        bytes[base + 16] = UInt8(ascii: ":")
        put(seconds % 60, 17, 2)
        bytes[base + 19] = UInt8(ascii: "Z")
    }
}
