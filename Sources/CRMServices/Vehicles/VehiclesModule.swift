import CRMDomain

extension DomainModule {
    /// Vehicles, ownership, odometer readings.
    public static let vehicles = DomainModule(
        name: "vehicles",
        grants: [
            Grant(.vehiclesRead, Set(Role.allCases)),
            Grant(.vehiclesWrite, [.admin, .manager, .sales, .service, .crm, .integration]),
            Grant(.vehiclesDelete, [.admin, .manager]),
        ])
}
