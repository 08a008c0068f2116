public import CRMDomain
import CRMStore
public import Foundation
import PostgresClient

/// Staff members of a dealer.
public final class StaffService: Sendable {
    let kit: ServiceKit
    let staff = StaffRepository()

    init(_ kit: ServiceKit) { self.kit = kit }

    public func create(_ fields: StaffFields, dealerID requested: UUID?, context: CallContext) async throws -> StaffMember {
        try await kit.useCases.create(.staffWrite, dealer: requested, context: context) { step in
            try await staff.insert(id: UUID(), dealerID: step.dealer.id, fields: try fields.validated(), now: step.now, in: step.tx)
        }
    }

    public func get(_ id: UUID, context: CallContext) async throws -> StaffMember {
        try Authorization.require(.staffRead, context.principal)
        guard let member = try await staff.find(id: id, scope: context.principal.readScope, in: kit.pool) else {
            throw ServiceError.notFound("No such staff member.")
        }
        return member
    }

    public func list(
        filter: StaffFilter, dealerFilter: UUID?, page: PageRequest, context: CallContext
    ) async throws -> Page<StaffMember> {
        try Authorization.require(.staffRead, context.principal)
        let scope = try await kit.access.readScope(context.principal, dealerFilter: dealerFilter)
        return try await staff.list(scope: scope, filter: filter, page: page, in: kit.pool)
    }

    /// Replaces the writable fields. Deactivating a staff member stops the API keys tied to him
    /// at once, in this process and (through `NOTIFY crm_api_keys`) in every other.
    public func update(_ id: UUID, expectedVersion: Int, fields: StaffFields, context: CallContext) async throws
        -> StaffMember
    {
        let updated = try await kit.useCases.change(
            .staffWrite, expectedVersion: expectedVersion, context: context, notFound: "No such staff member.",
            lock: { scope, tx in try await staff.lock(id: id, scope: scope, in: tx) }
        ) { current, step -> StaffMember in
            let clean = try fields.validated()
            var changed = current
            changed.fields = clean
            if current.fields.active != clean.active {
                try await step.tx.notify(channel: AccessService.keyChangesChannel, payload: "staff:\(id.lowercasedText)")
            }
            return try await staff.save(changed, now: step.now, in: step.tx)
        }
        kit.access.invalidateKeys()
        return updated
    }
}
