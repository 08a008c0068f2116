public import JobQueue
import Logging
public import PostgresClient

/// Every job kind the service runs and every periodic schedule, in one place: `crm work` and
/// `crm serve --with-worker` build their worker from this. Each domain contributes its kinds
/// here (its handlers live in its own folder).
public struct BackgroundWork: Sendable {
    public var registry: JobRegistry
    public var schedules: [PeriodicJob]

    /// How long finished jobs are kept before the hourly prune deletes them.
    public struct Retention: Sendable {
        public var completed: Duration
        public var discarded: Duration

        public init(completed: Duration, discarded: Duration) {
            self.completed = completed
            self.discarded = discarded
        }
    }

    public init(services: DomainServices, pool: PostgresPool, retention: Retention) {
        var registry = JobRegistry()
        registry.register(
            Maintenance.pruneKind(pool: pool, completedRetention: retention.completed, discardedRetention: retention.discarded))
        var schedules = [Maintenance.pruneSchedule]
        for kind in LeadJobs.kinds(services.leads) { registry.register(kind) }
        schedules += LeadJobs.schedules(access: services.access)
        self.registry = registry
        self.schedules = schedules
    }
}
