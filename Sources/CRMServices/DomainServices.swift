public import JobQueue
public import Logging
public import PostgresClient

/// Every domain service of the process, built once and shared by the HTTP layer, the worker and
/// the command line.
public struct DomainServices: Sendable {
    public let access: AccessService
    public let staff: StaffService
    public let customers: CustomerService
    public let vehicles: VehicleService
    /// Enqueues background work, inside a use case's transaction when it is part of one.
    public let queue: JobQueue
    public let jobs: JobService
    public let leads: LeadService

    /// - Parameter customer360Sections: the sections other domains contribute to the customer
    ///   360 view.
    public init(pool: PostgresPool, logger: Logger, customer360Sections: [any Customer360SectionProvider] = []) {
        access = AccessService(pool: pool, logger: logger)
        staff = StaffService(pool: pool, access: access)
        customers = CustomerService(pool: pool, access: access, sections: customer360Sections + [Leads360Section(access: access)])
        vehicles = VehicleService(pool: pool, access: access)
        queue = JobQueue(pool: pool, logger: logger)
        jobs = JobService(pool: pool, access: access, queue: queue)
        leads = LeadService(pool: pool, access: access, customers: customers, vehicles: vehicles, queue: queue)
    }
}
