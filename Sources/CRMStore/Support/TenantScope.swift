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

extension TenantScope {
    /// The tenant wall of a list's query that `page` finishes: one dealer's id, or, for a group,
    /// the dealer `page` reads the rows of each time (`scope_dealer`).
    public func pageCondition(_ column: StaticString) -> PostgresQuery {
        switch self {
        case .dealer(let dealerID):
            return "\(sql: column) = \(dealerID)"
        case .group:
            return "\(sql: column) = scope_dealer.id"
        }
    }

    /// A page of a list: `query` (a SELECT of the rows of `alias`, walled by `pageCondition`) in
    /// `order`, at most `limit` rows. One dealer's page reads its rows in order from the dealer's
    /// index. A group's page reads the first `limit` rows of each of its dealers the same way (a
    /// lateral subquery per dealer) and keeps the first `limit` of those: the page is the same,
    /// and no longer a join and sort of every row of the group, page after page (0.79 s a page
    /// over 1.28 million leads).
    public func page(_ query: PostgresQuery, alias: StaticString, order: StaticString, limit: Int) -> PostgresQuery {
        switch self {
        case .dealer:
            return "\(fragment: query) ORDER BY \(sql: order) LIMIT \(limit: limit)"
        case .group(let groupID):
            return """
                SELECT \(sql: alias).* FROM dealers scope_dealer CROSS JOIN LATERAL (
                    \(fragment: query) ORDER BY \(sql: order) LIMIT \(limit: limit)) AS \(sql: alias)
                WHERE scope_dealer.group_id = \(groupID) ORDER BY \(sql: order) LIMIT \(limit: limit)
                """
        }
    }
}

/// "Today" in a due list: the one dealer's date when the list is one dealer's (`today`), else
/// each row's dealer's date at `now`, in that dealer's time zone (a group's lists span zones).
public func dealerToday(_ today: LocalDate?, now: Date, dealerColumn: StaticString) -> PostgresQuery {
    if let today { return "\(today)::date" }
    return "(\(now)::timestamptz AT TIME ZONE (SELECT d.time_zone FROM dealers d WHERE d.id = \(sql: dealerColumn)))::date"
}
