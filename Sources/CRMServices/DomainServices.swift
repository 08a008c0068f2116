public import CRMDomain
public import JobQueue
public import Logging
public import PostgresClient

/// Every domain service of the process, built once and shared by the HTTP layer, the worker and
/// the command line.
public struct DomainServices: Sendable {
    /// Where business time comes from (the system clock in production).
    public let clock: any BusinessClock
    public let modules: [DomainModule]
    public let access: AccessService
    public let staff: StaffService
    public let customers: CustomerService
    public let customer360: Customer360Service
    public let vehicles: VehicleService
    /// Enqueues background work, inside a use case's transaction when it is part of one.
    public let queue: JobQueue
    public let jobs: JobService
    public let leads: LeadService
    public let complaints: ComplaintService
    public let callbacks: CallbackService
    /// "May this customer receive marketing now, and if not, why?"
    public let suppression: MarketingSuppression
    public let serviceVisits: ServiceVisitService
    public let reminders: ReminderService
    public let callTasks: CallTaskService
    /// Signs and reads the list cursors clients get.
    public let cursors: CursorCodec
    /// Stored responses for `Idempotency-Key` replays.
    public let idempotency: IdempotencyService

    public init(
        pool: PostgresPool, logger: Logger, clock: any BusinessClock = SystemClock(), modules: [DomainModule] = DomainModule.all,
        idempotencyLease: Duration = .seconds(10)
    ) {
        self.clock = clock
        self.modules = modules
        let access = AccessService(pool: pool, logger: logger, clock: clock)
        let queue = JobQueue(pool: pool, logger: logger)
        let kit = ServiceKit(
            pool: pool, access: access, queue: queue, clock: clock, useCases: UseCaseRunner(pool: pool, access: access, queue: queue))
        self.access = access
        self.queue = queue
        staff = StaffService(kit)
        customers = CustomerService(kit, erasures: modules.compactMap { $0.erasure?(kit) })
        vehicles = VehicleService(kit)
        jobs = JobService(kit)
        callbacks = CallbackService(kit)
        leads = LeadService(kit, customers: customers, vehicles: vehicles, callbacks: callbacks)
        complaints = ComplaintService(kit, callbacks: callbacks)
        suppression = MarketingSuppression(kit: kit)
        serviceVisits = ServiceVisitService(kit, callbacks: callbacks)
        reminders = ReminderService(kit, logger: logger)
        callTasks = CallTaskService(kit)
        customer360 = Customer360Service(kit, sections: modules.compactMap { $0.customer360?(kit) })
        cursors = CursorCodec(pool: pool)
        idempotency = IdempotencyService(pool: pool, lease: idempotencyLease)
    }

    /// A call context for a caller of the HTTP API (or the command line) at this process's clock.
    public func context(for principal: Principal, requestID: String?) -> CallContext {
        CallContext(principal: principal, requestID: requestID, clock: clock)
    }
}
