import CRMServices
import CRMStore
import Foundation
import Logging
import OpenAPIRuntime
import PostgresClient

/// Implements the generated `APIProtocol`: one method per operation in `openapi.yaml`. The
/// operations live in extensions in one folder per domain (`Tenancy/`, `Customers/`,
/// `Vehicles/`, ...); each maps the typed input to a domain service call and the result to a typed
/// output. Errors are thrown (`Problem`, `ServiceError`, `ValidationErrors`) and rendered as
/// problem+json by the middleware.
struct APIHandler: APIProtocol {
    let dependencies: AppDependencies
    /// The contract served at `GET /openapi.yaml`, read once from the bundled resource.
    let contract: String
    /// The contract's constraints, checked on every request before a handler runs.
    let contractValidator: ContractValidator

    var services: DomainServices { dependencies.services }

    init(dependencies: AppDependencies) throws {
        self.dependencies = dependencies
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw ContractError.missing
        }
        self.contract = try String(contentsOf: url, encoding: .utf8)
        self.contractValidator = try ContractValidator(contract: contract)
    }

    enum ContractError: Error, CustomStringConvertible {
        case missing
        var description: String { "openapi.yaml is missing from the service's resources" }
    }
}
