import Foundation
import HTTPTypes
import Hummingbird
import Logging

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-ID")!
}

/// Gives every request an id (the caller's `X-Request-ID` when it is a sane token, else a new
/// one), tags the request's logger with it, publishes the `RequestScope`, and echoes the id on
/// the response, whatever the outcome.
struct RequestScopeMiddleware: RouterMiddleware {
    typealias Context = CRMRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let requestID = Self.acceptable(request.headers[.requestID]) ?? Self.generate()
        var context = context
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        context.logger[metadataKey: "hb.request.id"] = nil
        let scope = RequestScope(requestID: requestID, logger: context.logger, principal: nil, body: [], responseHeaders: nil)
        var response = try await RequestScope.$current.withValue(scope) {
            try await next(request, context)
        }
        response.headers[.requestID] = requestID
        return response
    }

    /// 1-128 characters of `[A-Za-z0-9._:-]`: anything else could forge log lines.
    static func acceptable(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128 else { return nil }
        let allowed = value.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: ":")
        }
        return allowed ? value : nil
    }

    /// A process-unique id: a random prefix per process and a counter (no random draw per
    /// request).
    static func generate() -> String {
        RequestID().description
    }
}
