import Foundation
import HTTPTypes
@_spi(Generated) import OpenAPIRuntime

extension Converter {
    /// Every JSON response body of the generated server (`application/json` and
    /// `application/problem+json`), written by `JSONResponseWriter` instead of the runtime's
    /// `JSONEncoder`: the same text, keys in the schema's order.
    ///
    /// How it is plugged in: the generated `Server.swift` of this module calls
    /// `converter.setResponseBodyAsJSON(value, headerFields:contentType:)`, and Swift prefers a
    /// declaration of the current module over an identical one of a module it imports
    /// (OpenAPIRuntime's `@_spi(Generated) public` method), so every call site resolves to this one
    /// without a change to the generated code. `JSONWriterTests` checks it over HTTP: a response
    /// whose keys are not in the schema's order fails it, which is what the runtime's encoder
    /// (members in hash order) would give.
    func setResponseBodyAsJSON<T: Encodable>(_ value: T, headerFields: inout HTTPFields, contentType: String) throws
        -> HTTPBody
    {
        guard let writer = JSONResponseWriter(configuration: configuration) else {
            throw JSONWriterUnsupported(options: configuration.jsonEncodingOptions)
        }
        let bytes = try writer.encode(value)
        headerFields[.contentType] = contentType
        headerFields[.contentLength] = String(bytes.count)
        return HTTPBody(bytes)
    }
}

/// The server was configured with JSON output options the writer does not implement.
struct JSONWriterUnsupported: Error, CustomStringConvertible {
    let options: JSONEncodingOptions
    var description: String { "JSONResponseWriter writes compact JSON only; configured options: \(options.rawValue)" }
}
