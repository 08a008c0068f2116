import Foundation

/// A phone number normalised to E.164 (`+8613812345678`).
///
/// Accepted input: a mainland China mobile number in any usual spelling (`13812345678`,
/// `138 1234 5678`, `138-1234-5678`, `+86 138 1234 5678`, `0086 13812345678`,
/// `86 13812345678`), or any E.164 number written with its `+` (spaces, dashes, dots and
/// parentheses ignored). Mainland numbers written without `+86` must be mobile numbers
/// (11 digits, `1[3-9]...`): a bare landline is ambiguous without its area code rules.
public struct PhoneNumber: Hashable, Sendable, CustomStringConvertible {
    /// The E.164 form.
    public let e164: String

    public var description: String { e164 }

    public enum Problem: Error, Equatable, Sendable {
        case empty
        case invalidCharacters
        case notAMobileNumber
        case invalidLength
    }

    public static func parse(_ input: String) -> Result<PhoneNumber, Problem> {
        var digits = ""
        var plus = false
        for character in input.trimmingCharacters(in: .whitespaces) {
            switch character {
            case "0"..."9": digits.append(character)
            case "+" where digits.isEmpty && !plus: plus = true
            case " ", "-", ".", "(", ")", "\u{3000}": continue
            default: return .failure(.invalidCharacters)
            }
        }
        if digits.isEmpty { return .failure(.empty) }
        if !plus, digits.hasPrefix("00") {
            plus = true
            digits.removeFirst(2)
        }
        if !plus, digits.count == 13, digits.hasPrefix("86") {
            plus = true
        }
        if plus {
            guard (8...15).contains(digits.count), digits.first != "0" else { return .failure(.invalidLength) }
            if digits.hasPrefix("86") {
                let national = digits.dropFirst(2)
                // A mainland mobile has 11 digits starting 1[3-9]; other +86 numbers are
                // landlines with their area code (Beijing's is 10), 9 to 12 digits.
                if national.count == 11, national.first == "1" {
                    guard isMainlandMobile(String(national)) else { return .failure(.notAMobileNumber) }
                } else if national.first == "1", !national.hasPrefix("10") {
                    return .failure(.notAMobileNumber)
                } else if !(9...12).contains(national.count) {
                    return .failure(.invalidLength)
                }
            }
            return .success(PhoneNumber(e164: "+" + digits))
        }
        guard digits.count == 11 else {
            return .failure(.invalidLength)
        }
        guard isMainlandMobile(digits) else { return .failure(.notAMobileNumber) }
        return .success(PhoneNumber(e164: "+86" + digits))
    }

    private static func isMainlandMobile(_ digits: String) -> Bool {
        let bytes = Array(digits.utf8)
        return bytes.count == 11 && bytes[0] == UInt8(ascii: "1") && (UInt8(ascii: "3")...UInt8(ascii: "9")).contains(bytes[1])
    }

    private init(e164: String) { self.e164 = e164 }

    /// Wraps a value already stored in E.164 form.
    public init(storedE164: String) { self.e164 = storedE164 }

    /// The E.164 form of a number given in any accepted spelling; nil for no number, and nil with
    /// a message on `field` for one that is not a phone number.
    public static func normalized(_ input: String?, field: String = "phone", errors: inout ValidationErrors) -> String? {
        guard let input else { return nil }
        switch parse(input) {
        case .success(let number): return number.e164
        case .failure(let problem):
            errors.add(field, message(for: problem))
            return nil
        }
    }

    public static func message(for problem: Problem) -> String {
        switch problem {
        case .empty: return "must not be empty"
        case .invalidCharacters: return "may contain only digits, a leading +, spaces, dashes, dots and parentheses"
        case .notAMobileNumber: return "is not a mainland China mobile number (11 digits starting 13-19), nor E.164 with +"
        case .invalidLength: return "has the wrong number of digits (mainland mobile: 11; E.164: 8 to 15 with +)"
        }
    }
}
