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

/// What a caller may do. Each endpoint requires exactly one permission. Each domain declares
/// its own permissions next to its rules (`extension Permission { static let leadsRead = ... }`)
/// and which roles hold them in its module (CRMServices `DomainModule`); the permission matrix is
/// the union of the modules' grants.
public struct Permission: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ name: String) { self.rawValue = name }

    public var description: String { rawValue }
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

    /// Everything the caller may read, before any `dealer_id` narrowing.
    public var readScope: TenantScope { dealerID.map(TenantScope.dealer) ?? .group(groupID) }
}

extension Permission {
    /// The OEM group's own record.
    public static let groupRead = Permission("groupRead")
    public static let dealersRead = Permission("dealersRead")
    /// A dealer's admin edits its own dealer; creating dealers takes a group's admin key.
    public static let dealersManage = Permission("dealersManage")
    public static let keysManage = Permission("keysManage")
    public static let staffRead = Permission("staffRead")
    public static let staffWrite = Permission("staffWrite")
}
