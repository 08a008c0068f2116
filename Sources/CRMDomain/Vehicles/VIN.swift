import Foundation

/// A vehicle identification number: 17 characters from `0-9` and `A-Z` without `I`, `O`, `Q`,
/// whose 9th character is the ISO 3779 / GB 16735 check digit. Stored upper-case.
public struct VIN: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public var description: String { value }

    public enum Problem: Error, Equatable, Sendable {
        case wrongLength
        case invalidCharacter(Character)
        case checkDigitMismatch(expected: Character, found: Character)
    }

    public static func parse(_ input: String) -> Result<VIN, Problem> {
        let text = input.trimmingWhitespace().uppercased()
        let characters = Array(text)
        guard characters.count == 17 else { return .failure(.wrongLength) }
        var sum = 0
        for (index, character) in characters.enumerated() {
            guard let value = transliteration(character) else { return .failure(.invalidCharacter(character)) }
            sum += value * weights[index]
        }
        let remainder = sum % 11
        let expected: Character = remainder == 10 ? "X" : Character(String(remainder))
        guard characters[8] == expected else {
            return .failure(.checkDigitMismatch(expected: expected, found: characters[8]))
        }
        return .success(VIN(value: text))
    }

    /// Wraps a value already validated and stored.
    public init(stored: String) { self.value = stored }
    private init(value: String) { self.value = value }

    /// The check digit a 17-character VIN would need (used by demo data and tests).
    public static func withCheckDigit(_ draft: String) -> String? {
        var characters = Array(draft.uppercased())
        guard characters.count == 17 else { return nil }
        characters[8] = "0"
        var sum = 0
        for (index, character) in characters.enumerated() {
            guard let value = transliteration(character) else { return nil }
            sum += value * weights[index]
        }
        let remainder = sum % 11
        characters[8] = remainder == 10 ? "X" : Character(String(remainder))
        return String(characters)
    }

    static let weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]

    static func transliteration(_ character: Character) -> Int? {
        switch character {
        case "0"..."9": return Int(String(character))
        case "A", "J": return 1
        case "B", "K", "S": return 2
        case "C", "L", "T": return 3
        case "D", "M", "U": return 4
        case "E", "N", "V": return 5
        case "F", "W": return 6
        case "G", "P", "X": return 7
        case "H", "Y": return 8
        case "R", "Z": return 9
        default: return nil  // I, O, Q and anything else
        }
    }

    public static func message(for problem: Problem) -> String {
        switch problem {
        case .wrongLength: return "must be exactly 17 characters"
        case .invalidCharacter(let character):
            return "contains '\(character)'; a VIN uses 0-9 and A-Z without I, O and Q"
        case .checkDigitMismatch(let expected, let found):
            return "check digit (9th character) is '\(found)', but the other characters require '\(expected)'"
        }
    }
}
