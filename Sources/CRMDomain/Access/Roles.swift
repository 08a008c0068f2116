public import Foundation

/// The role an API key carries.
public enum Role: String, Sendable, CaseIterable, Codable {
    case admin
    case manager
    /// Sales consultant.
    case sales
    /// Service advisor.
    case service
    /// CRM team: lead acquisition, loyalty, data management.
    case crm
    case readonly
    /// A system integration (OEM group system, dealer DMS).
    case integration
}

/// What a caller may do. Each endpoint requires exactly one permission.
public enum Permission: String, Sendable, CaseIterable {
    case groupRead
    case dealersRead
    case dealersManage
    case keysManage
    case staffRead
    case staffWrite
    case customersRead
    case customersWrite
    case customersDelete
    case customersErase
    case consentsWrite
    case auditRead
    case vehiclesRead
    case vehiclesWrite
    case vehiclesDelete
    /// The background job queue: list and read jobs.
    case jobsRead
    /// Retry or cancel a job.
    case jobsManage
    /// Read leads (a sales consultant: his own and the shared pool).
    case leadsRead
    /// Capture and work leads: edit, follow up, progress, declare lost, convert (a consultant: his own).
    case leadsWrite
    /// Assign leads to consultants, round-robin them, release them to the pool.
    case leadsAssign
    /// Approve or reject a declared loss.
    case leadsApproveLoss
    /// Merge duplicate leads.
    case leadsMerge
    /// Lead KPIs.
    case leadsReport
}

/// The permission matrix: which role may do what. One table, read by every endpoint; the README
/// prints the same table.
///
/// Scope is separate from the matrix: a dealer key acts on its own dealer only; a group key acts
/// on the dealers of its group (reads across them; writes name the dealer).
public enum PermissionMatrix {
    public static let grants: [Role: Set<Permission>] = [
        .admin: Set(Permission.allCases),
        .manager: [
            .groupRead, .dealersRead, .staffRead, .staffWrite, .customersRead, .customersWrite, .customersDelete,
            .customersErase, .consentsWrite, .auditRead, .vehiclesRead, .vehiclesWrite, .vehiclesDelete, .jobsRead,
            .leadsRead, .leadsWrite, .leadsAssign, .leadsApproveLoss, .leadsMerge, .leadsReport,
        ],
        .sales: [
            .dealersRead, .staffRead, .customersRead, .customersWrite, .consentsWrite, .vehiclesRead, .vehiclesWrite,
            .leadsRead, .leadsWrite,
        ],
        .service: [.dealersRead, .staffRead, .customersRead, .customersWrite, .consentsWrite, .vehiclesRead, .vehiclesWrite],
        .crm: [
            .groupRead, .dealersRead, .staffRead, .customersRead, .customersWrite, .customersErase, .consentsWrite,
            .vehiclesRead, .vehiclesWrite, .leadsRead, .leadsWrite, .leadsAssign, .leadsReport,
        ],
        .readonly: [.groupRead, .dealersRead, .staffRead, .customersRead, .vehiclesRead, .leadsRead, .leadsReport],
        .integration: [
            .groupRead, .dealersRead, .staffRead, .customersRead, .customersWrite, .consentsWrite, .vehiclesRead,
            .vehiclesWrite, .leadsRead, .leadsWrite, .leadsReport,
        ],
    ]

    public static func allows(_ role: Role, _ permission: Permission) -> Bool {
        grants[role]?.contains(permission) ?? false
    }
}

/// Who is calling: the authenticated API key and what it belongs to.
public struct Principal: Sendable, Equatable {
    public let keyID: UUID
    public let role: Role
    public let groupID: UUID
    /// Set for a dealer key; nil for a group key.
    public let dealerID: UUID?
    /// The staff member the key is tied to ("my leads").
    public let staffID: UUID?

    public init(keyID: UUID, role: Role, groupID: UUID, dealerID: UUID?, staffID: UUID?) {
        self.keyID = keyID
        self.role = role
        self.groupID = groupID
        self.dealerID = dealerID
        self.staffID = staffID
    }

    public var isGroupKey: Bool { dealerID == nil }

    public func may(_ permission: Permission) -> Bool { PermissionMatrix.allows(role, permission) }
}
