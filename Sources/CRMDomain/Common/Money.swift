/// An amount of money in minor units (fen for CNY) with its ISO 4217 currency. Never a float.
public struct Money: Sendable, Equatable, Hashable {
    /// In minor units (fen).
    public var amountMinor: Int64
    /// ISO 4217, upper case (`CNY`).
    public var currency: String

    public init(amountMinor: Int64, currency: String) {
        self.amountMinor = amountMinor
        self.currency = currency
    }

    /// A price: a positive amount in a three-letter currency code (normalised to upper case).
    /// `field` prefixes the messages (`price` gives `price.amount`, `price.currency`).
    public static func price(amountMinor: Int64, currency: String, field: String, errors: inout ValidationErrors) -> Money? {
        var valid = true
        if amountMinor <= 0 {
            errors.add("\(field).amount", "must be positive (minor units, e.g. fen)")
            valid = false
        }
        let code = currency.uppercased()
        if code.count != 3 || !code.allSatisfy({ $0.isASCII && $0.isLetter }) {
            errors.add("\(field).currency", "must be an ISO 4217 code such as CNY")
            valid = false
        }
        return valid ? Money(amountMinor: amountMinor, currency: code) : nil
    }
}
