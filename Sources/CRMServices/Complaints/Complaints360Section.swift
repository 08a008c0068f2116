import CRMDomain
import CRMStore
import Foundation
import PostgresClient

/// The complaints section of the customer 360 view: his complaints awaiting handling (these
/// stop marketing to him) and the latest handled ones, newest first, at most 20; left out
/// without `complaintsRead`.
struct Complaints360Section: Customer360SectionProvider {
    let kit: ServiceKit
    let complaints = ComplaintRepository()

    func section(for customer: Customer, context: CallContext, in transaction: PostgresTransaction) async throws
        -> Customer360Section?
    {
        guard Authorization.allows(context.principal, .complaintsRead) else { return nil }
        let now = context.clock.now
        let page = try await complaints.list(
            scope: .dealer(customer.dealerID), filter: ComplaintFilter(customerID: customer.id), now: now,
            page: PageRequest(limit: 20, cursor: nil), in: transaction)
        return .complaints(page.items.map { ComplaintView(complaint: $0, now: now) })
    }
}
