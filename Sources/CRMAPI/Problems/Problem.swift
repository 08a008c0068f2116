import CRMContract
public import Foundation
public import HTTPTypes
import Hummingbird
import NIOCore

/// An RFC 9457 problem: the one error type handlers throw. The problem middleware renders it as
/// `application/problem+json`; anything else thrown is mapped to one (see `ProblemMapper`).
public struct Problem: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    /// A short, stable slug; the `type` URI is `https://crm.example/problems/<slug>`.
    public var slug: String
    public var title: String
    public var detail: String?
    public var errors: [FieldError]
    /// On a duplicate: the record that already exists (`existing_id`).
    public var existingID: String?
    /// On a duplicate lead: its consultant (`existing_consultant_id`).
    public var existingConsultantID: String?
    /// On a refused workflow move: the statuses allowed from the current one (`allowed_transitions`).
    public var allowedTransitions: [String]?
    public var headers: HTTPFields

    public struct FieldError: Sendable, Equatable, Codable {
        public var field: String
        public var message: String
        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public init(
        status: HTTPResponse.Status, slug: String, title: String, detail: String? = nil, errors: [FieldError] = [],
        existingID: String? = nil, existingConsultantID: String? = nil, headers: HTTPFields = [:]
    ) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors
        self.existingID = existingID
        self.existingConsultantID = existingConsultantID
        self.headers = headers
    }

    public var typeURI: String { "https://crm.example/problems/\(slug)" }

    // MARK: The catalogue (CONVENTIONS.md)

    public static func badRequest(_ detail: String, errors: [FieldError] = []) -> Problem {
        Problem(status: .badRequest, slug: "bad-request", title: "The request could not be read", detail: detail, errors: errors)
    }
    public static func unauthorized(_ detail: String) -> Problem {
        Problem(
            status: .unauthorized, slug: "unauthorized", title: "Missing or invalid credentials", detail: detail,
            headers: [.wwwAuthenticate: "Bearer realm=\"crm\""])
    }
    public static func forbidden(_ detail: String) -> Problem {
        Problem(status: .forbidden, slug: "forbidden", title: "Not allowed for this role", detail: detail)
    }
    public static func notFound(_ detail: String = "No such resource.") -> Problem {
        Problem(status: .notFound, slug: "not-found", title: "Not found", detail: detail)
    }
    public static func methodNotAllowed(_ detail: String) -> Problem {
        Problem(status: .methodNotAllowed, slug: "method-not-allowed", title: "Method not allowed", detail: detail)
    }
    public static func conflict(
        _ detail: String, slug: String = "conflict", existingID: String? = nil, existingConsultantID: String? = nil
    ) -> Problem {
        Problem(
            status: .conflict, slug: slug, title: "Conflict", detail: detail, existingID: existingID,
            existingConsultantID: existingConsultantID)
    }
    public static func preconditionFailed(_ detail: String) -> Problem {
        Problem(status: .preconditionFailed, slug: "stale-version", title: "The resource has changed", detail: detail)
    }
    public static func preconditionRequired(_ detail: String) -> Problem {
        Problem(status: .preconditionRequired, slug: "precondition-required", title: "If-Match is required", detail: detail)
    }
    public static func contentTooLarge(limit: Int) -> Problem {
        Problem(
            status: .contentTooLarge, slug: "content-too-large", title: "The request body is too large",
            detail: "The body exceeds the limit of \(limit) bytes.")
    }
    public static func unsupportedMediaType(_ detail: String) -> Problem {
        Problem(status: .unsupportedMediaType, slug: "unsupported-media-type", title: "Unsupported media type", detail: detail)
    }
    public static func unprocessable(_ errors: [FieldError], detail: String = "Some fields are invalid.") -> Problem {
        Problem(
            status: .unprocessableContent, slug: "validation", title: "Invalid field values", detail: detail, errors: errors)
    }
    public static func unprocessable(field: String, _ message: String) -> Problem {
        unprocessable([FieldError(field: field, message: message)], detail: "\(field): \(message)")
    }
    public static func tooManyRequests(_ detail: String) -> Problem {
        Problem(status: .tooManyRequests, slug: "throttled", title: "Too many requests", detail: detail)
    }
    public static func serviceUnavailable(_ detail: String, retryAfter: Int = 1) -> Problem {
        Problem(
            status: .serviceUnavailable, slug: "unavailable", title: "Service unavailable", detail: detail,
            headers: [.retryAfter: String(retryAfter)])
    }
    public static func internalError(requestID: String) -> Problem {
        Problem(
            status: .internalServerError, slug: "internal", title: "Internal error",
            detail: "An unexpected error occurred; it has been logged with request id \(requestID).")
    }

    // MARK: Rendering

    /// The contract's `Problem` schema for this problem, as the response writer encodes it
    /// (members in the schema's order; absent ones omitted).
    func rendered(requestID: String?) -> Components.Schemas.Problem {
        Components.Schemas.Problem(
            _type: typeURI, title: title, status: Int(status.code), detail: detail, requestId: requestID,
            errors: errors.isEmpty ? nil : errors.map { Components.Schemas.FieldError(field: $0.field, message: $0.message) },
            existingId: existingID, existingConsultantId: existingConsultantID, allowedTransitions: allowedTransitions)
    }

    /// The `application/problem+json` response, written by `JSONResponseWriter` like every
    /// other JSON response.
    func response(requestID: String?) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        let body = try JSONResponseWriter().encode(rendered(requestID: requestID))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
