import CRMClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import OpenAPIRuntime

/// The generated client (`CRMClient.Client`, from openapi.yaml) talking to the app under test
/// through Hummingbird's in-process test client: API tests call typed operations and read typed
/// outputs, so a contract change that the tests do not follow fails to compile.
struct InProcessTransport: ClientTransport {
    let client: any TestClientProtocol
    /// The API key sent as `Authorization: Bearer`, if any.
    let key: String?
    /// Extra headers for every request (`Idempotency-Key`, a raw `If-Match`...).
    var headers: HTTPFields = [:]

    func send(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String) async throws -> (HTTPResponse, HTTPBody?) {
        var fields = request.headerFields
        if let key { fields[.authorization] = "Bearer \(key)" }
        for field in headers { fields[field.name] = field.value }
        var buffer: ByteBuffer?
        if let body { buffer = ByteBuffer(bytes: try await [UInt8](collecting: body, upTo: 16 * 1024 * 1024)) }
        return try await client.execute(uri: request.path ?? "/", method: request.method, headers: fields, body: buffer) { response in
            (HTTPResponse(status: response.status, headerFields: response.headers), HTTPBody(Array(response.body.readableBytesView)))
        }
    }
}

extension TestApp {
    /// The typed API as the holder of `key` calls it.
    func api(_ key: String?, headers: HTTPFields = [:]) -> Client {
        Client(
            serverURL: URL(string: "http://localhost")!,
            configuration: Configuration(dateTranscoder: .iso8601),
            transport: InProcessTransport(client: client, key: key, headers: headers))
    }
}

/// A problem response as the typed client returns it for a documented error status.
extension Components.Schemas.Problem {
    /// The fields an invalid request named.
    var fields: [String] { (errors ?? []).map(\.field) }
}

/// The HTTP status a typed output stands for: the status of its documented case, or the code of
/// `.undocumented(statusCode:_:)`. For assertions on the status alone
/// (`status(of: output) == .notFound`); a test that reads the body uses the case
/// (`try output.notFound.problem`), which a contract change breaks at compile time.
func status(of output: some Sendable) -> HTTPResponse.Status {
    let mirror = Mirror(reflecting: output)
    guard mirror.displayStyle == .enum, let child = mirror.children.first, let label = child.label else {
        return HTTPResponse.Status(code: 999, reasonPhrase: "not an operation output: \(output)")
    }
    if label == "undocumented", let code = Mirror(reflecting: child.value).children.first?.value as? Int {
        return HTTPResponse.Status(code: code)
    }
    guard let code = documentedStatusCodes[label] else {
        return HTTPResponse.Status(code: 999, reasonPhrase: "unknown output case \(label)")
    }
    return HTTPResponse.Status(code: code)
}

/// The generated output cases (named after the contract's status codes) and their codes.
private let documentedStatusCodes: [String: Int] = [
    "ok": 200, "created": 201, "noContent": 204, "badRequest": 400, "unauthorized": 401, "forbidden": 403,
    "notFound": 404, "conflict": 409, "preconditionFailed": 412, "contentTooLarge": 413, "unsupportedMediaType": 415,
    "unprocessableContent": 422, "preconditionRequired": 428, "serviceUnavailable": 503,
]

// The problem+json body of each error response of the contract, as `try output.conflict.problem`.
extension Components.Responses.BadRequest {
    var problem: Components.Schemas.Problem { get throws { try body.applicationProblemJson } }
}
extension Components.Responses.Unauthorized {
    var problem: Components.Schemas.Problem { get throws { try body.applicationProblemJson } }
}
extension Components.Responses.Forbidden {
    var problem: Components.Schemas.Problem { get throws { try body.applicationProblemJson } }
}
extension Components.Responses.NotFound {
    var problem: Components.Schemas.Problem { get throws { try body.applicationProblemJson } }
}
extension Components.Responses.Conflict {
    var problem: Components.Schemas.Problem { get throws { try body.applicationProblemJson } }
}
extension Components.Responses.PreconditionFailed {
    var problem: Components.Schemas.Problem { get throws { try body.applicationProblemJson } }
}
extension Components.Responses.UnprocessableContent {
    var problem: Components.Schemas.Problem { get throws { try body.applicationProblemJson } }
}
extension Components.Responses.ServiceUnavailable {
    var problem: Components.Schemas.Problem { get throws { try body.applicationProblemJson } }
}

/// An RFC 3339 instant, as the typed client takes date-times.
func instant(_ text: String) -> Date {
    ISO8601DateFormatter().date(from: text)!
}

/// A text body (`/metrics`, `/openapi.yaml`) read whole.
func bodyText(_ body: HTTPBody) async throws -> String {
    try await String(collecting: body, upTo: 16 * 1024 * 1024)
}
