import Foundation
public import HTTPTypes
@_spi(Generated) import OpenAPIRuntime

extension Converter {
    /// The runtime's own reading of a query item. CRMAPI shadows `getOptionalQueryItemAsURI` and
    /// `getRequiredQueryItemAsURI` with a fast path for plain items (`QueryItems`) and falls back
    /// to these for everything else; declared here, where no shadow exists, so that they reach
    /// the runtime's methods.
    public func runtimeOptionalQueryItemAsURI<T: Decodable>(
        in query: Substring?, style: ParameterStyle?, explode: Bool?, name: String, as type: T.Type
    ) throws -> T? {
        try getOptionalQueryItemAsURI(in: query, style: style, explode: explode, name: name, as: type)
    }

    public func runtimeRequiredQueryItemAsURI<T: Decodable>(
        in query: Substring?, style: ParameterStyle?, explode: Bool?, name: String, as type: T.Type
    ) throws -> T {
        try getRequiredQueryItemAsURI(in: query, style: style, explode: explode, name: name, as: type)
    }
}

extension HTTPRequest {
    /// The runtime's query substring of the request's path; CRMAPI shadows `soar_query` with
    /// `QueryItems.query(of:)` and falls back to this.
    public var runtimeQuery: Substring? { soar_query }
}
