import CRMDomain

extension DomainModule {
    /// Groups, dealers, staff and API keys.
    public static let access = DomainModule(
        name: "access",
        grants: [
            Grant(.groupRead, [.admin, .manager, .crm, .readonly, .integration]),
            Grant(.dealersRead, Set(Role.allCases)),
            Grant(.dealersManage, [.admin]),
            Grant(.keysManage, [.admin]),
            Grant(.staffRead, Set(Role.allCases)),
            Grant(.staffWrite, [.admin, .manager]),
        ])
}
