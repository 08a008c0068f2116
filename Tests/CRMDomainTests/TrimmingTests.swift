import CRMDomain
import Foundation
import PropertyBased
import Testing

@Suite("Trimming white space")
struct TrimmingTests {
    /// Space separators, tab, line breaks, and look-alikes that are not white space (zero-width
    /// space, BOM, a combining mark that can follow a space in one Character), letters, Chinese
    /// and an emoji.
    static let alphabet: [Unicode.Scalar] = [
        " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}", "\u{2000}", "\u{2005}", "\u{200A}",
        "\u{2028}", "\u{2029}", "\u{202F}", "\u{205F}", "\u{3000}", "\u{200B}", "\u{FEFF}", "\u{301}", "\u{1F}",
        "\u{7F}", "a", "Z", "0", "王", "客", "\u{1F697}", "-",
    ]

    @Test("both trims equal Foundation's on 20,000 random strings of white space and look-alikes")
    func matchesFoundation() {
        var rng = Xoshiro(seed: (0x5EED, 0xC0FFEE, 0x4_5_5, 0x9E37_79B9_7F4A_7C15))
        for _ in 0..<20_000 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...8, using: &rng) {
                text.append(Self.alphabet[Int.random(in: 0..<Self.alphabet.count, using: &rng)])
            }
            let string = String(text)
            #expect(string.trimmingWhitespace() == string.trimmingCharacters(in: .whitespaces), "\(Array(string.unicodeScalars))")
            #expect(
                string.trimmingWhitespaceAndNewlines() == string.trimmingCharacters(in: .whitespacesAndNewlines),
                "\(Array(string.unicodeScalars))")
            let sub = string.dropFirst(0)
            #expect(sub.trimmingWhitespace() == string.trimmingCharacters(in: .whitespaces))
        }
    }

    @Test("every scalar of the Basic Multilingual Plane around text trims as Foundation trims it")
    func everySpaceSeparator() {
        for value in UInt32(0)...0xFFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let string = "\(Character(scalar))x\(Character(scalar))"
            #expect(string.trimmingWhitespaceAndNewlines() == string.trimmingCharacters(in: .whitespacesAndNewlines), "U+\(String(value, radix: 16))")
            #expect(string.trimmingWhitespace() == string.trimmingCharacters(in: .whitespaces), "U+\(String(value, radix: 16))")
        }
    }
}
