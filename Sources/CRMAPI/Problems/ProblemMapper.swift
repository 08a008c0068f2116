import CanonicalUUID
import CRMDomain
import CRMServices
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime

/// Turns anything a handler, the generated server or the database throws into a `Problem`.
/// Client input never becomes a 500: decoding and parameter errors are 400/422, an unreachable
/// database is 503; only genuine faults are 500 (and logged with the request id).
enum ProblemMapper {
    static func problem(for error: any Error, logger: Logger, requestID: String) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let error as ServiceError:
            return problem(forServiceError: error)
        case let errors as ValidationErrors:
            return .unprocessable(
                errors.entries.map { Problem.FieldError(field: $0.field, message: $0.message) },
                detail: errors.entries.map { "\($0.field): \($0.message)" }.joined(separator: "; "))
        case let violation as RuleViolation:
            var problem = Problem.conflict(violation.message)
            problem.allowedTransitions = violation.allowedTransitions
            return problem
        case is CursorError:
            return .badRequest("The cursor is not valid for this list; start again without one.", errors: [
                Problem.FieldError(field: "cursor", message: "is not a cursor of this list")
            ])
        case let error as ServerError:
            return problem(forServerError: error, logger: logger, requestID: requestID)
        case let error as DecodingError:
            return problem(forDecodingError: error)
        case let error as any HTTPResponseError:
            return problem(forHTTPError: error)
        default:
            // What the services know about infrastructure errors (the database away, busy, a
            // value it cannot store); anything else is a fault.
            if let meaning = ServiceError.classify(error) { return problem(for: meaning, logger: logger, requestID: requestID) }
            logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            return .internalError(requestID: requestID)
        }
    }

    private static func problem(forServerError error: ServerError, logger: Logger, requestID: String) -> Problem {
        let underlying = error.underlyingError
        if underlying is Problem || underlying is DecodingError || underlying is ServiceError || underlying is ValidationErrors
            || underlying is RuleViolation || underlying is CursorError || ServiceError.classify(underlying) != nil
        {
            return problem(for: underlying, logger: logger, requestID: requestID)
        }
        let status = error.httpStatus
        guard status.kind == .clientError else {
            logger.error(
                "unexpected error in operation",
                metadata: ["operation": "\(error.operationID)", "error": "\(String(reflecting: underlying))"])
            return .internalError(requestID: requestID)
        }
        // The contract check before the handler names every bad parameter and body member;
        // what the generated server still refuses here is described by its own error.
        let detail = "\(underlying)"
        switch status {
        case .unsupportedMediaType: return .unsupportedMediaType(detail)
        case .notAcceptable:
            return Problem(status: .notAcceptable, slug: "not-acceptable", title: "Not acceptable", detail: detail)
        case .notFound: return .notFound()
        default: return .badRequest(detail)
        }
    }

    static func problem(forServiceError error: ServiceError) -> Problem {
        switch error {
        case .unauthenticated(let detail): return .unauthorized(detail)
        case .forbidden(let detail): return .forbidden(detail)
        case .notFound(let detail): return .notFound(detail)
        case .conflict(let detail, let existingID, let details):
            // The problem's members are the contract's: `details` can name the duplicate's consultant.
            return .conflict(
                detail, slug: existingID == nil ? "conflict" : "duplicate", existingID: existingID?.lowercasedText,
                existingConsultantID: details["existing_consultant_id"])
        case .stale(let current):
            return .preconditionFailed(
                "The resource has changed since that version\(current.map { " (it is now at version \($0))" } ?? ""); read it again and reapply the change.")
        case .preconditionRequired(let detail): return .preconditionRequired(detail)
        case .unavailable(let detail, let retryAfter): return .serviceUnavailable(detail, retryAfter: retryAfter)
        }
    }

    /// A body that is not JSON at all is a 400; JSON with wrong, missing or unknown fields is a 422
    /// naming the field.
    static func problem(forDecodingError error: DecodingError) -> Problem {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    if !text.isEmpty { text += "." }
                    text += key.stringValue
                }
            }
            return text
        }
        switch error {
        case .typeMismatch(let type, let context):
            return .unprocessable(field: path(context.codingPath), "must be \(describe(type))")
        case .valueNotFound(let type, let context):
            return .unprocessable(field: path(context.codingPath), "must be \(describe(type)), not null")
        case .keyNotFound(let key, let context):
            return .unprocessable(field: path(context.codingPath + [key]), "is required")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .badRequest("The body is not valid JSON: \(context.debugDescription)")
            }
            let field = path(context.codingPath)
            if context.debugDescription.hasPrefix("Additional properties are disabled") {
                return .unprocessable(field: field, "is not a known field")
            }
            if context.debugDescription.hasPrefix("Unknown enum case") || context.debugDescription.contains("enum case") {
                return .unprocessable(field: field, "is not one of the allowed values")
            }
            return .unprocessable(field: field, context.debugDescription)
        @unknown default:
            return .badRequest("The body could not be decoded.")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is Substring.Type: return "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "of the documented type"
        }
    }

    private static func problem(forHTTPError error: any HTTPResponseError) -> Problem {
        switch error.status {
        case .notFound: return .notFound("No such route.")
        case .methodNotAllowed: return .methodNotAllowed("This method is not allowed on this path.")
        case .contentTooLarge: return Problem(status: .contentTooLarge, slug: "content-too-large", title: "The request body is too large")
        default:
            let detail = (error as? HTTPError)?.body ?? "\(error.status.reasonPhrase)"
            return Problem(status: error.status, slug: "http-\(error.status.code)", title: error.status.reasonPhrase, detail: detail)
        }
    }
}
