public import CRMDomain
public import CRMStore
import Foundation
public import PostgresClient

/// The leads section of the customer 360 view: the customer's leads (as a repeat buyer, or the
/// lead he was won from), newest first, at most 20, as the caller may see leads: left out
/// without `leadsRead`, and for a consultant only his own and the open pool's.
public struct Leads360Section: Customer360SectionProvider {
    public static let sectionName = "leads"
    public var name: String { Self.sectionName }
    let access: AccessService
    let leads = LeadRepository()

    public init(access: AccessService) {
        self.access = access
    }

    public func section(for customer: Customer, context: CallContext, in transaction: PostgresTransaction) async throws
        -> (any Sendable)?
    {
        guard context.principal.may(.leadsRead) else { return nil }
        let page = try await leads.list(
            scope: LeadService.scope(context.principal, tenant: .dealer(customer.dealerID)),
            filter: .init(customerID: customer.id), today: nil, page: PageRequest(limit: 20, cursor: nil), in: transaction)
        let today = try await access.dealerForBootstrap(customer.dealerID)?.today() ?? LocalDate(Date(), in: .current)
        return page.items.map { LeadView(lead: $0, today: today) }
    }
}
