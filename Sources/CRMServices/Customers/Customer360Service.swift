public import CRMDomain
import CRMStore
public import Foundation
import PostgresClient

/// The customer 360 view: one consistent snapshot of everything known about a customer.
public struct Customer360: Sendable {
    public var customer: Customer
    public var consents: [ConsentState]
    public var vehicles: [(vehicle: Vehicle, ownership: Ownership, latestReading: OdometerReading?)]
    /// The sections other domains contribute, as the caller may see them (`DomainModule.customer360`).
    public var sections: [Customer360Section]
}

/// Reads the 360 view in one repeatable-read snapshot; every domain module with a section adds it
/// without this view changing.
public struct Customer360Service: Sendable {
    let kit: ServiceKit
    let sections: [any Customer360SectionProvider]
    let customers = CustomerRepository()
    let consents = ConsentRepository()
    let vehicles = VehicleRepository()

    init(_ kit: ServiceKit, sections: [any Customer360SectionProvider]) {
        self.kit = kit
        self.sections = sections
    }

    public func view(_ id: UUID, context: CallContext) async throws -> Customer360 {
        try Authorization.require(.customersRead, context.principal)
        let scope = context.principal.readScope
        return try await kit.pool.withTransaction(isolation: .repeatableRead, readOnly: true) { tx in
            guard let customer = try await customers.find(id: id, scope: scope, in: tx) else {
                throw ServiceError.notFound("No such customer.")
            }
            let states = try await consents.current(customerID: id, dealerID: customer.dealerID, in: tx)
            let owned = try await vehicles.owned(byCustomer: id, dealerID: customer.dealerID, in: tx)
            var contributed: [Customer360Section] = []
            for provider in sections {
                if let section = try await provider.section(for: customer, context: context, in: tx) { contributed.append(section) }
            }
            return Customer360(
                customer: customer, consents: states,
                vehicles: owned.map { (vehicle: $0.0, ownership: $0.1, latestReading: $0.2) }, sections: contributed)
        }
    }
}
