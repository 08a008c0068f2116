import Foundation

/// A phone number normalised to E.164 (`+8613812345678`).
///
/// Accepted input: a mainland China mobile number in any usual spelling (`13812345678`,
/// `138 1234 5678`, `138-1234-5678`, `+86 138 1234 5678`, `0086 13812345678`,
/// `86 13812345678`); a mainland landline written the usual way, with its area code after the
/// trunk `0` (`021-5888-1234`, `(0755) 8888 1234`, `010 6512 3456`), which becomes
/// `+86 21 58881234`; or any E.164 number written with its `+` (spaces, dashes, dots and
/// parentheses ignored).
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
        for character in input.trimmingWhitespace() {
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
        if !plus, digits.first == "0" {
            // A domestic landline: trunk 0, area code, subscriber number.
            let national = Substring(digits.dropFirst())
            if let problem = mainlandProblem(national) { return .failure(problem) }
            return .success(PhoneNumber(e164: "+86" + national))
        }
        if plus {
            guard (8...15).contains(digits.count), digits.first != "0" else { return .failure(.invalidLength) }
            if digits.hasPrefix("86"), let problem = mainlandProblem(digits.dropFirst(2)) { return .failure(problem) }
            return .success(PhoneNumber(e164: "+" + digits))
        }
        guard digits.count == 11 else {
            return .failure(.invalidLength)
        }
        guard isMainlandMobile(digits) else { return .failure(.notAMobileNumber) }
        return .success(PhoneNumber(e164: "+86" + digits))
    }

    /// What is wrong with a mainland national number (after +86 or the trunk 0), if anything: a
    /// mobile has 11 digits starting 1[3-9]; a landline is its area code (Beijing's is 10, other
    /// codes start 2-9) and subscriber number, 9 to 12 digits.
    private static func mainlandProblem(_ national: Substring) -> Problem? {
        if national.count == 11, national.first == "1" {
            return isMainlandMobile(String(national)) ? nil : .notAMobileNumber
        }
        if national.first == "1", !national.hasPrefix("10") { return .notAMobileNumber }
        if national.first == "0" || !(9...12).contains(national.count) { return .invalidLength }
        return nil
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
        case .notAMobileNumber:
            return "is not a mainland China mobile number (11 digits starting 13-19), a landline with its area code (021-5888-1234), nor E.164 with +"
        case .invalidLength:
            return "has the wrong number of digits (mainland mobile: 11; landline: 0, area code and number; E.164: 8 to 15 with +)"
        }
    }
}
