import CRMStore
import Foundation
import Logging
import OpenAPIRuntime
import PostgresClient

/// Implements the generated `APIProtocol`: one method per operation in `openapi.yaml`. The
/// operations live in extensions grouped by domain under `Operations/` (and, later, by domain
/// folders); each maps the typed input to a domain service call and the result to a typed output.
struct APIHandler: APIProtocol {
    let dependencies: AppDependencies
    /// The contract served at `GET /openapi.yaml`, read once from the bundled resource.
    let contract: String

    init(dependencies: AppDependencies) throws {
        self.dependencies = dependencies
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw ContractError.missing
        }
        self.contract = try String(contentsOf: url, encoding: .utf8)
    }

    enum ContractError: Error, CustomStringConvertible {
        case missing
        var description: String { "openapi.yaml is missing from the service's resources" }
    }
}
