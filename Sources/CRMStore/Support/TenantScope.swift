public import Foundation
public import PostgresClient

/// Which dealers' rows a caller may see. Every repository query that touches dealer-owned rows
/// takes a scope and puts `scope.condition(...)` in its WHERE clause: this is the one place the
/// tenant wall is built, so a caller never sees, lists or changes another dealer's rows.
public enum TenantScope: Sendable, Equatable {
    /// One dealer (a dealer's key, or a group key narrowed with `?dealer_id=`).
    case dealer(UUID)
    /// Every dealer of an OEM group (a group key).
    case group(UUID)

    /// `column` restricted to the scope's dealers, as a bound condition.
    public func condition(_ column: StaticString = "dealer_id") -> PostgresQuery {
        switch self {
        case .dealer(let dealerID):
            return "\(sql: column) = \(dealerID)"
        case .group(let groupID):
            return "\(sql: column) IN (SELECT id FROM dealers WHERE group_id = \(groupID))"
        }
    }

    /// The single dealer, when the scope is one dealer.
    public var singleDealer: UUID? {
        if case .dealer(let id) = self { return id }
        return nil
    }
}
