public import CRMDomain
public import JobQueue
import Logging
public import PostgresClient

/// What one domain adds to the service, declared once in its own folder: which roles hold its
/// permissions, the job kinds and periodic schedules of its background work, and its section of
/// the customer 360 view. The permission matrix, `BackgroundWork` and the 360 view read the list
/// of modules (`DomainModule.all`); adding a domain adds one module to that list.
public struct DomainModule: Sendable {
    /// One permission and the roles that hold it.
    public struct Grant: Sendable {
        public let permission: Permission
        public let roles: Set<Role>

        public init(_ permission: Permission, _ roles: Set<Role>) {
            self.permission = permission
            self.roles = roles
        }
    }

    public let name: String
    public let grants: [Grant]
    /// The job kinds its background work runs.
    let jobs: @Sendable (DomainServices) -> [JobKind]
    /// Its periodic schedules.
    let schedules: @Sendable (DomainServices) -> [PeriodicJob]
    /// Its section of the customer 360 view, if it has one.
    let customer360: (@Sendable (ServiceKit) -> any Customer360SectionProvider)?
    /// What it wipes when a customer is erased, if it keeps words of his.
    let erasure: (@Sendable (ServiceKit) -> any CustomerErasureStep)?

    public init(
        name: String, grants: [Grant], jobs: @escaping @Sendable (DomainServices) -> [JobKind] = { _ in [] },
        schedules: @escaping @Sendable (DomainServices) -> [PeriodicJob] = { _ in [] },
        customer360: (@Sendable (ServiceKit) -> any Customer360SectionProvider)? = nil,
        erasure: (@Sendable (ServiceKit) -> any CustomerErasureStep)? = nil
    ) {
        self.name = name
        self.grants = grants
        self.jobs = jobs
        self.schedules = schedules
        self.customer360 = customer360
        self.erasure = erasure
    }

    /// Every domain of the service, in the order the permission matrix lists them.
    public static let all: [DomainModule] = [.access, .customers, .vehicles, .jobs, .leads, .complaints, .reminders, .idempotency]
}

/// What every domain service is built from: the pool, the job queue, access (tenancy, dealers)
/// and the clock.
public struct ServiceKit: Sendable {
    public let pool: PostgresPool
    public let access: AccessService
    public let queue: JobQueue
    public let clock: any BusinessClock
    public let useCases: UseCaseRunner
}

/// A section of the customer 360 view that a domain contributes, read inside the view's
/// snapshot transaction; nil leaves it out (the caller's role may not read that domain).
public protocol Customer360SectionProvider: Sendable {
    func section(for customer: Customer, context: CallContext, in transaction: PostgresTransaction) async throws
        -> Customer360Section?
}

/// The typed sections of the customer 360 view, one case per domain that has one: the HTTP
/// layer renders them with an exhaustive switch, so a new section that is not rendered, or a
/// section whose type changes, fails to compile instead of silently disappearing.
public enum Customer360Section: Sendable {
    /// The customer's leads, newest first, as the caller may see them.
    case leads([LeadView])
    /// The customer's complaints, newest first (the open ones stop marketing to him).
    case complaints([ComplaintView])
    /// His latest service visits and, when the caller may read them, reminders.
    case service(visits: [ServiceVisit], reminders: [Reminder]?)
}

/// What a domain wipes when a customer is erased: the words that are his (descriptions, notes,
/// comments), inside the erasure's transaction; the facts and counts stay.
public protocol CustomerErasureStep: Sendable {
    func erase(customer: Customer, in step: UseCase) async throws
}
