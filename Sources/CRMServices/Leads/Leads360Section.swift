public import CRMDomain
import CRMStore
import Foundation
public import PostgresClient

/// The leads section of the customer 360 view: the customer's leads (as a repeat buyer, or the
/// lead he was won from), newest first, at most 20, as the caller may see leads: left out
/// without `leadsRead`, and for a consultant only his own and the open pool's.
struct Leads360Section: Customer360SectionProvider {
    let kit: ServiceKit
    let leads = LeadRepository()

    func section(for customer: Customer, context: CallContext, in transaction: PostgresTransaction) async throws
        -> Customer360Section?
    {
        guard Authorization.allows(context.principal, .leadsRead) else { return nil }
        let now = context.clock.now
        let page = try await leads.list(
            scope: LeadScope.of(context.principal, tenant: .dealer(customer.dealerID)), filter: LeadFilter(customerID: customer.id),
            today: nil, now: now, page: PageRequest(limit: 20, cursor: nil), in: transaction)
        guard let dealer = try await kit.access.dealer(customer.dealerID, in: transaction) else { return .leads([]) }
        return .leads(page.items.map { LeadView(lead: $0, today: dealer.today(at: now)) })
    }
}
