import CRMDomain

extension DomainModule {
    /// Leads: capture, assignment and the pool, follow-ups, loss approval, conversion, KPIs.
    public static let leads = DomainModule(
        name: "leads",
        grants: [
            Grant(.leadsRead, [.admin, .manager, .sales, .crm, .readonly, .integration]),
            Grant(.leadsWrite, [.admin, .manager, .sales, .crm, .integration]),
            Grant(.leadsAssign, [.admin, .manager, .crm]),
            Grant(.leadsApproveLoss, [.admin, .manager]),
            Grant(.leadsMerge, [.admin, .manager]),
            Grant(.leadsReport, [.admin, .manager, .crm, .readonly, .integration]),
        ],
        jobs: { LeadJobs.kinds($0.leads) },
        schedules: { LeadJobs.schedules(access: $0.access) },
        customer360: { Leads360Section(kit: $0) })
}
