public import CRMDomain
public import CRMStore
public import Foundation
public import PostgresClient

/// Staff members of a dealer.
public final class StaffService: Sendable {
    let pool: PostgresPool
    let access: AccessService
    let staff = StaffRepository()

    public init(pool: PostgresPool, access: AccessService) {
        self.pool = pool
        self.access = access
    }

    public func create(_ fields: StaffFields, dealerID requested: UUID?, context: CallContext) async throws -> StaffMember {
        try Authorization.require(.staffWrite, context.principal)
        let dealer = try await access.writeDealer(context.principal, requested: requested)
        return try await staff.insert(id: UUID(), dealerID: dealer.id, fields: try fields.validated(), in: pool)
    }

    public func get(_ id: UUID, context: CallContext) async throws -> StaffMember {
        try Authorization.require(.staffRead, context.principal)
        guard let member = try await staff.find(id: id, scope: Scopes.read(context.principal), in: pool) else {
            throw ServiceError.notFound("No such staff member.")
        }
        return member
    }

    public func list(
        filter: StaffRepository.Filter, dealerFilter: UUID?, page: PageRequest, context: CallContext
    ) async throws -> Page<StaffMember> {
        try Authorization.require(.staffRead, context.principal)
        let scope = try await access.readScope(context.principal, dealerFilter: dealerFilter)
        return try await staff.list(scope: scope, filter: filter, page: page, in: pool)
    }

    public func update(_ id: UUID, expectedVersion: Int, fields: StaffFields, context: CallContext) async throws
        -> StaffMember
    {
        try Authorization.require(.staffWrite, context.principal)
        return try await staff.update(
            id: id, expectedVersion: expectedVersion, fields: try fields.validated(), scope: Scopes.read(context.principal),
            in: pool
        ).unwrap(notFound: "No such staff member.")
    }
}
