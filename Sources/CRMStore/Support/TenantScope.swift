public import CRMDomain
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
