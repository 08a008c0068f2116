import CRMDomain

extension DomainModule {
    /// Customers, their consent and audit trail, the 360 view.
    public static let customers = DomainModule(
        name: "customers",
        grants: [
            Grant(.customersRead, Set(Role.allCases)),
            Grant(.customersWrite, [.admin, .manager, .sales, .service, .crm, .integration]),
            Grant(.customersDelete, [.admin, .manager]),
            Grant(.customersErase, [.admin, .manager, .crm]),
            Grant(.consentsWrite, [.admin, .manager, .sales, .service, .crm, .integration]),
            Grant(.auditRead, [.admin, .manager]),
        ])
}
