import Foundation

/// The API contract as published: `openapi.yaml`, bundled with the service (served at
/// `GET /openapi.yaml`). The types generated from it live in this module, shared by the server
/// (CRMAPI) and the client (CRMClient).
public enum Contract {
    /// The contract's text.
    public static func yaml() throws -> String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else { throw Missing() }
        return try String(contentsOf: url, encoding: .utf8)
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "openapi.yaml is missing from the service's resources" }
    }
}
