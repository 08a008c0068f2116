import CRMDomain
import JobQueue

extension DomainModule {
    /// The background queue as administrators see it.
    public static let jobs = DomainModule(
        name: "jobs",
        grants: [
            Grant(.jobsRead, [.admin, .manager]),
            Grant(.jobsManage, [.admin]),
        ])
}
