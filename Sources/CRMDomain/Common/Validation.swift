import Foundation

/// Field-level validation messages collected before anything is written. The HTTP layer turns
/// them into a 422 with one entry per field.
public struct ValidationErrors: Error, Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let field: String
        public let message: String
        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public private(set) var entries: [Entry] = []
    public init() {}
    public init(field: String, _ message: String) { entries = [Entry(field: field, message: message)] }

    public var isEmpty: Bool { entries.isEmpty }

    public mutating func add(_ field: String, _ message: String) {
        entries.append(Entry(field: field, message: message))
    }

    public mutating func merge(_ other: ValidationErrors) { entries += other.entries }

    /// Throws self when anything was collected.
    public func throwIfAny() throws(ValidationErrors) {
        if !entries.isEmpty { throw self }
    }
}

/// Trimmed text with limits, for names and free-text fields.
public enum Text {
    /// The trimmed value, or nil (and a message) when empty or too long.
    public static func required(_ value: String, field: String, maxLength: Int, errors: inout ValidationErrors) -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            errors.add(field, "must not be empty")
            return nil
        }
        if trimmed.count > maxLength {
            errors.add(field, "must be at most \(maxLength) characters")
            return nil
        }
        return trimmed
    }

    /// Like `required`, but nil or blank input is fine and gives nil.
    public static func optional(_ value: String?, field: String, maxLength: Int, errors: inout ValidationErrors) -> String? {
        guard let value else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        if trimmed.count > maxLength {
            errors.add(field, "must be at most \(maxLength) characters")
            return nil
        }
        return trimmed
    }

    /// Tags: trimmed, non-empty, at most 50 of at most 40 characters each, duplicates removed
    /// (first occurrence order kept).
    public static func tags(_ values: [String], field: String, errors: inout ValidationErrors) -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for (index, value) in values.enumerated() {
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.count > 40 {
                errors.add("\(field)[\(index)]", "must be 1 to 40 characters")
                continue
            }
            if seen.insert(trimmed).inserted { result.append(trimmed) }
        }
        if result.count > 50 { errors.add(field, "at most 50 entries") }
        return result
    }
}
