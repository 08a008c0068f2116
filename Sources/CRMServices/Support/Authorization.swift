public import CRMDomain

/// Which role holds which permission: the union of what every domain module grants
/// (`DomainModule.grants`), in the modules' order. The README prints the same table; a test
/// checks the two agree.
public struct PermissionMatrix: Sendable {
    /// Every permission, in the order the modules declare them.
    public let permissions: [Permission]
    private let grants: [Permission: Set<Role>]

    public init(modules: [DomainModule]) {
        var permissions: [Permission] = []
        var grants: [Permission: Set<Role>] = [:]
        for module in modules {
            for grant in module.grants where grants[grant.permission] == nil {
                permissions.append(grant.permission)
                grants[grant.permission] = grant.roles
            }
        }
        self.permissions = permissions
        self.grants = grants
    }

    /// The service's matrix: every module's grants.
    public static let standard = PermissionMatrix(modules: DomainModule.all)

    public func allows(_ role: Role, _ permission: Permission) -> Bool {
        grants[permission]?.contains(role) ?? false
    }

    public static func allows(_ role: Role, _ permission: Permission) -> Bool {
        standard.allows(role, permission)
    }
}

/// Permission checks against the matrix.
public enum Authorization {
    public static func require(_ permission: Permission, _ caller: Principal) throws(ServiceError) {
        guard PermissionMatrix.allows(caller.role, permission) else {
            throw ServiceError.forbidden("The role '\(caller.role.rawValue)' may not do this (\(permission.rawValue)).")
        }
    }

    public static func allows(_ caller: Principal, _ permission: Permission) -> Bool {
        PermissionMatrix.allows(caller.role, permission)
    }
}
