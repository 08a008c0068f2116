public import CRMDomain
public import Foundation
public import PostgresClient

extension TenantScope {
    /// `column` restricted to the scope's dealers, as a bound condition: the tenant wall every
    /// repository query on dealer-owned rows puts in its WHERE clause.
    public func condition(_ column: StaticString = "dealer_id") -> PostgresQuery {
        switch self {
        case .dealer(let dealerID):
            return "\(sql: column) = \(dealerID)"
        case .group(let groupID):
            return "\(sql: column) IN (SELECT id FROM dealers WHERE group_id = \(groupID))"
        }
    }
}

/// "Today" in a due list: the one dealer's date when the list is one dealer's (`today`), else
/// each row's dealer's date at `now`, in that dealer's time zone (a group's lists span zones).
public func dealerToday(_ today: LocalDate?, now: Date, dealerColumn: StaticString) -> PostgresQuery {
    if let today { return "\(today)::date" }
    return "(\(now)::timestamptz AT TIME ZONE (SELECT d.time_zone FROM dealers d WHERE d.id = \(sql: dealerColumn)))::date"
}
