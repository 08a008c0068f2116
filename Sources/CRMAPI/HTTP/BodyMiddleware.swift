import Hummingbird
import HTTPTypes
import NIOCore

/// Reads and checks the request before any handler: a body over the limit is refused with 413
/// before it is read whole (by `Content-Length`, or while streaming); otherwise it is buffered
/// once and published in the `RequestScope`. Then path, query, headers and body are checked
/// against the contract (`ContractValidator`): a path parameter that cannot name anything is a
/// 404, a bad header a 400, bad query or body values a 422 listing every violation.
struct RequestValidationMiddleware: RouterMiddleware {
    typealias Context = CRMRequestContext
    let maxBytes: Int
    let contract: ContractValidator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var request = request
        var bytes: [UInt8]?
        if request.method == .post || request.method == .patch || request.method == .put {
            if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxBytes {
                throw Problem.contentTooLarge(limit: maxBytes)
            }
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: maxBytes)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                throw Problem.contentTooLarge(limit: maxBytes)
            }
            let body = Array(buffer.readableBytesView)
            // A member named twice would be checked with one value and stored with the other.
            if let field = JSONMemberCheck.firstRepeatedMember(in: body) {
                throw Problem.badRequest(
                    "\(field): is given more than once", errors: [Problem.FieldError(field: field, message: "is given more than once")])
            }
            bytes = body
            request.body = RequestBody(buffer: buffer)
        }
        let parameters = context.parameters
        let query = request.uri.queryParameters
        let headers = request.headers
        var route: (template: String, parameter: (String) -> String?)?
        if let template = context.endpointPath {
            route = (template, { (name: String) -> String? in parameters.get(name).map { String($0) } })
        }
        let outcome = contract.validate(
            method: request.method.rawValue, path: request.uri.path, route: route,
            query: { (name: String) -> [String] in query.getAll(name).map { String($0) } },
            header: { (name: String) -> String? in HTTPField.Name(name).flatMap { headers[$0] } }, body: bytes)
        switch outcome {
        case .valid:
            break
        case .noSuchResource:
            throw Problem.notFound()
        case .badHeaders(let violations):
            throw Problem.badRequest(
                violations.map { "\($0.field): \($0.message)" }.joined(separator: "; "),
                errors: violations.map { Problem.FieldError(field: $0.field, message: $0.message) })
        case .invalid(let violations):
            let unknown = violations.filter { $0.message == "is not a known field" }.map(\.field)
            throw Problem.unprocessable(
                violations.map { Problem.FieldError(field: $0.field, message: $0.message) },
                detail: unknown.isEmpty
                    ? violations.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
                    : "Unknown fields: \(unknown.joined(separator: ", ")).")
        }
        guard let bytes else { return try await next(request, context) }
        return try await RequestScope.with({ $0.body = bytes }) {
            try await next(request, context)
        }
    }
}
