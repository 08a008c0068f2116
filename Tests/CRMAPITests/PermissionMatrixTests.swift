import CRMDomain
import CRMServices
import Foundation
import Testing

/// The permission matrix is assembled from the domain modules (`DomainModule.grants`); these
/// are the checks that lived in CRMDomainTests while the matrix was a table in CRMDomain.
@Suite("Permission matrix")
struct PermissionMatrixTests {
    @Test("the permission matrix: admin may everything, readonly reads only, audit for managers and admins")
    func permissions() {
        #expect(PermissionMatrix.standard.permissions.allSatisfy { PermissionMatrix.allows(.admin, $0) })
        let writes: [Permission] = [.customersWrite, .customersDelete, .customersErase, .consentsWrite, .vehiclesWrite, .staffWrite, .keysManage]
        #expect(writes.allSatisfy { !PermissionMatrix.allows(.readonly, $0) })
        #expect(Role.allCases.filter { PermissionMatrix.allows($0, .auditRead) } == [.admin, .manager])
        #expect(Role.allCases.filter { PermissionMatrix.allows($0, .keysManage) } == [.admin])
        #expect(Role.allCases.allSatisfy { PermissionMatrix.allows($0, .customersRead) })
    }

    @Test("every module's permissions are distinct and admin holds each")
    func modules() {
        let all = DomainModule.all.flatMap { $0.grants.map(\.permission) }
        #expect(Set(all).count == all.count)
        #expect(all == PermissionMatrix.standard.permissions)
    }
}

@Suite("Documentation")
struct DocumentationTests {
    @Test("the README's permission table is the PermissionMatrix")
    func readmeMatrix() throws {
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md"),
            encoding: .utf8)
        let lines = readme.split(separator: "\n").map(String.init)
        guard let header = lines.firstIndex(where: { $0.hasPrefix("| Permission |") }) else {
            Issue.record("no permission table in the README")
            return
        }
        let roles = lines[header].split(separator: "|").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(roles == Role.allCases.map(\.rawValue))
        var documented = 0
        for line in lines[(header + 2)...] {
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let permission = Permission(rawValue: cells[0])
            #expect(PermissionMatrix.standard.permissions.contains(permission), "unknown permission \(cells[0])")
            for (role, cell) in zip(Role.allCases, cells.dropFirst()) {
                #expect((cell == "✓") == PermissionMatrix.allows(role, permission), "\(role) \(permission)")
            }
            documented += 1
        }
        #expect(documented == PermissionMatrix.standard.permissions.count)
    }
}
