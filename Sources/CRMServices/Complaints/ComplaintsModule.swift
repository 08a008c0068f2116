import CRMDomain
public import JobQueue
import Logging

extension DomainModule {
    /// Complaints: intake, SLA clocks and escalation, resolution, satisfaction callbacks and
    /// their surveys, survey integrity, KPIs.
    public static let complaints = DomainModule(
        name: "complaints",
        grants: [
            Grant(.complaintsRead, [.admin, .manager, .service, .crm, .readonly, .integration]),
            Grant(.complaintsWrite, [.admin, .manager, .service, .crm, .integration]),
            Grant(.complaintsResolve, [.admin, .manager]),
            Grant(.complaintsClose, [.admin, .manager]),
            Grant(.surveysAudit, [.admin, .manager, .readonly]),
            Grant(.surveysDefine, [.admin, .manager, .integration]),
        ],
        jobs: { ComplaintJobs.kinds($0.complaints) },
        schedules: { _ in ComplaintJobs.schedules() },
        customer360: { Complaints360Section(kit: $0) },
        erasure: { ComplaintErasure(kit: $0) })
}

/// The complaints domain's background work.
public enum ComplaintJobs {
    /// The SLA scan: warnings at 80% of a deadline, breaches and their escalations.
    public static let escalateKind = "complaints.escalate"

    static func kinds(_ complaints: ComplaintService) -> [JobKind] {
        [
            JobKind(name: escalateKind, timeout: .seconds(120)) { context in
                let raised = try await complaints.escalate()
                if raised > 0 { context.logger.info("complaint SLA events raised", metadata: ["count": "\(raised)"]) }
                return .completed
            }
        ]
    }

    /// Every minute, over every dealer at once (the scan reads only the complaints with an event
    /// due, through one index); a missed minute is caught up by the next run, so no catch-up.
    static func schedules() -> [PeriodicJob] {
        [
            PeriodicJob(
                name: escalateKind, recurrence: .every(.seconds(60)), maxCatchUp: 1,
                makeJob: { _, _ in JobRequest(kind: escalateKind, priority: 2, maxAttempts: 3) })
        ]
    }
}
