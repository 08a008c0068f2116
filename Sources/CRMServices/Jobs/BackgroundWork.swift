public import JobQueue
import Logging
public import PostgresClient

/// Every job kind the service runs and every periodic schedule: the queue's own housekeeping
/// and each domain module's background work. `crm work` and `crm serve --with-worker` build their
/// worker from this.
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
        for module in services.modules {
            for kind in module.jobs(services) { registry.register(kind) }
            schedules += module.schedules(services)
        }
        self.registry = registry
        self.schedules = schedules
    }
}
