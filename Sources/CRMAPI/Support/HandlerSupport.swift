import CanonicalUUID
import CRMContract
import CRMDomain
import CRMServices
import Foundation
import HTTPTypes

/// Small conversions every handler needs, each failing with the right problem.
enum Input {
    /// A path id: a malformed one cannot name anything, so it is a 404 like a missing one.
    static func pathID(_ text: String, _ what: String) throws -> UUID {
        guard let id = UUID(canonicalText: text) else { throw Problem.notFound("No such \(what).") }
        return id
    }

    /// An id in a body or query: malformed is a 422 naming the field.
    static func id(_ text: String?, field: String) throws -> UUID? {
        guard let text else { return nil }
        guard let id = UUID(canonicalText: text) else { throw Problem.unprocessable(field: field, "is not a UUID") }
        return id
    }

    /// A required id in a body: malformed is a 422 naming the field.
    static func id(_ text: String, field: String) throws -> UUID {
        guard let id = UUID(canonicalText: text) else { throw Problem.unprocessable(field: field, "is not a UUID") }
        return id
    }

    static func date(_ text: String?, field: String) throws -> LocalDate? {
        guard let text else { return nil }
        guard let date = LocalDate(text) else { throw Problem.unprocessable(field: field, "is not a date (YYYY-MM-DD)") }
        return date
    }

    /// The version an `If-Match` names (`"3"`, `W/"3"`, `3`); nil for `*` (any version) or, where
    /// the header is optional, for none.
    static func expectedVersion(_ ifMatch: String?) throws -> Int? {
        guard let ifMatch else { return nil }
        let trimmed = ifMatch.trimmingWhitespace()
        if trimmed == "*" { return nil }
        var text = Substring(trimmed)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 { text = text.dropFirst().dropLast() }
        // An ETag this service never issued can only be stale.
        guard let version = Int(text), version > 0 else {
            throw ServiceError.stale(currentVersion: nil)
        }
        return version
    }

    /// Converts between two string enums with the same raw values (domain <-> contract).
    static func convert<T: RawRepresentable>(_ value: some RawRepresentable<String>, to type: T.Type = T.self) throws -> T
    where T.RawValue == String {
        guard let converted = T(rawValue: value.rawValue) else { throw EnumMismatch(value: value.rawValue, type: "\(T.self)") }
        return converted
    }

    struct EnumMismatch: Error, CustomStringConvertible {
        let value: String
        let type: String
        var description: String { "enum value '\(value)' has no counterpart in \(type)" }
    }
}

enum Output {
    /// Sets `ETag: "<version>"` on the response.
    static func etag(_ version: Int) {
        RequestScope.now.responseHeaders?.set(.eTag, "\"\(version)\"")
    }

    /// Sets `Location` on a 201 response.
    static func location(_ path: String) {
        RequestScope.now.responseHeaders?.set(.location, path)
    }
    static func id(_ id: UUID) -> String { id.lowercasedText }
}

/// JSON merge patch (RFC 7396), applied to a JSON object.
enum MergePatch {
    static func apply(_ patch: Any, to target: Any) -> Any {
        guard let patchObject = patch as? [String: Any] else { return patch }
        var result = (target as? [String: Any]) ?? [:]
        for (key, value) in patchObject {
            if value is NSNull {
                result.removeValue(forKey: key)
            } else {
                result[key] = apply(value, to: result[key] ?? NSNull())
            }
        }
        return result
    }

    /// Applies the raw PATCH body to `current` (the contract's generated input type, built from
    /// the stored record) and decodes the result back as that type: the same checks as a create,
    /// and type errors name the field (422). Timestamps go through the API's one RFC 3339
    /// transcoder.
    static func merge<T: Codable>(body: [UInt8], into current: T) throws -> T {
        let patch: Any
        do {
            patch = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw Problem.badRequest("The body is not valid JSON.")
        }
        guard patch is [String: Any] else {
            throw Problem.unprocessable(field: "", "a merge patch must be a JSON object")
        }
        let transcoder = RFC3339DateTranscoder()
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(try transcoder.encode(date))
        }
        let currentObject = try JSONSerialization.jsonObject(with: encoder.encode(current))
        let merged = apply(patch, to: currentObject)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            try transcoder.decode(try decoder.singleValueContainer().decode(String.self))
        }
        return try decoder.decode(T.self, from: JSONSerialization.data(withJSONObject: merged))
    }
}
