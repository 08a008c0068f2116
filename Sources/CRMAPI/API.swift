public import Foundation
import OpenAPIRuntime
struct Handler: APIProtocol {
    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: "ok"))))
    }
}
public func contractURL() -> URL? { Bundle.module.url(forResource: "openapi", withExtension: "yaml") }
