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
        let trimmed = value.trimmingWhitespaceAndNewlines()
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

    /// Two tag lists as one: first seen first, duplicates removed, at most `maxTags` kept (what a
    /// merge of two records keeps, so the result still passes validation).
    public static func union(_ first: [String], _ second: [String]) -> [String] {
        var seen = Set<String>()
        return Array((first + second).filter { seen.insert($0).inserted }.prefix(maxTags))
    }

    /// Two free texts as one, one per line, cut to `maxLength` characters.
    public static func joined(_ first: String?, _ second: String?, maxLength: Int) -> String? {
        guard let first else { return second.map { String($0.prefix(maxLength)) } }
        guard let second else { return String(first.prefix(maxLength)) }
        return String((first + "\n" + second).prefix(maxLength))
    }

    /// Like `required`, but nil or blank input is fine and gives nil.
    public static func optional(_ value: String?, field: String, maxLength: Int, errors: inout ValidationErrors) -> String? {
        guard let value else { return nil }
        let trimmed = value.trimmingWhitespaceAndNewlines()
        if trimmed.isEmpty { return nil }
        if trimmed.count > maxLength {
            errors.add(field, "must be at most \(maxLength) characters")
            return nil
        }
        return trimmed
    }

    /// At most this many entries in a tag list.
    public static let maxTags = 50
    /// At most this many characters in one tag.
    public static let maxTagLength = 40

    /// Tags: trimmed, non-empty, at most `maxTags` of at most `maxTagLength` characters each,
    /// duplicates removed (first occurrence order kept).
    public static func tags(_ values: [String], field: String, errors: inout ValidationErrors) -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for (index, value) in values.enumerated() {
            let trimmed = value.trimmingWhitespaceAndNewlines()
            if trimmed.isEmpty || trimmed.count > maxTagLength {
                errors.add("\(field)[\(index)]", "must be 1 to \(maxTagLength) characters")
                continue
            }
            if seen.insert(trimmed).inserted { result.append(trimmed) }
        }
        if result.count > maxTags { errors.add(field, "at most \(maxTags) entries") }
        return result
    }
}
