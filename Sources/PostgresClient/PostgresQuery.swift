/// A statement and its bound parameters.
///
/// Written with string interpolation, every interpolated value becomes a `$n` placeholder and a
/// bound parameter; it is never spliced into the SQL text:
///
///     let query: PostgresQuery = "SELECT name FROM customers WHERE dealer_id = \(dealerID) AND phone = \(phone)"
///     // sql: "SELECT name FROM customers WHERE dealer_id = $1 AND phone = $2"
///
/// SQL text can only be assembled from string literals (`\(sql: "...")` takes a `StaticString`), so
/// dynamic filters are built by choosing between literals, never by formatting values. The only
/// values written into the text are the labelled ones, for the planner's sake: a row count
/// (`\(limit:)`) and the program's own enumeration cases or a yes/no (`\(constants:)`,
/// `\(constant:)`), none of which can carry SQL.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var sql: String
    public private(set) var bindings: PostgresBindings

    public init(unsafeSQL sql: String, bindings: PostgresBindings = PostgresBindings()) {
        self.sql = sql
        self.bindings = bindings
    }

    public init(stringLiteral value: StaticString) {
        self.sql = value.description
        self.bindings = PostgresBindings()
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.bindings = stringInterpolation.bindings
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql: String
        var bindings: PostgresBindings

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            bindings = PostgresBindings(capacity: interpolationCount)
        }

        public mutating func appendLiteral(_ literal: StaticString) {
            sql += literal.description
        }

        /// A bound parameter.
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            bindings.append(value)
            sql += "$\(bindings.count)"
        }

        /// A bound parameter that may be NULL. (Spelled out so the compiler does not mistake an
        /// optional for an accidental debug description.)
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            bindings.append(value)
            sql += "$\(bindings.count)"
        }

        /// A piece of SQL text that is itself a literal in the source.
        public mutating func appendInterpolation(sql literal: StaticString) {
            sql += literal.description
        }

        /// A row count written into the SQL text as a number (`LIMIT \(limit: page.limit + 1)`),
        /// not bound. PostgreSQL's generic plan for a bound `LIMIT` assumes a tenth of the rows,
        /// so it never beats a custom plan and the statement is planned anew at every execution;
        /// with the number in the text, one plan per page size is kept. An `Int` cannot carry SQL.
        public mutating func appendInterpolation(limit: Int) {
            precondition(limit >= 0, "a negative row count")
            sql += String(limit)
        }

        /// Cases of a closed enumeration written into the SQL text as an array constant
        /// (`status = ANY(\(constants: LeadStatus.open)::text[])`), not bound. PostgreSQL proves
        /// a partial index's predicate (`WHERE status IN (...)`) only from constants, so with a
        /// bound set the generic plan could not use the index, lost to a custom plan every time,
        /// and every execution was planned anew. The raw values come from the program's own
        /// enumerations, and only plain constants are accepted (`PostgresQuery.isPlainConstant`).
        public mutating func appendInterpolation<Value: RawRepresentable & CaseIterable>(constants values: [Value])
        where Value.RawValue == String {
            sql += "'{"
            for (index, value) in values.enumerated() {
                precondition(PostgresQuery.isPlainConstant(value.rawValue), "not a plain constant: \(value.rawValue)")
                if index > 0 { sql += "," }
                sql += value.rawValue
            }
            sql += "}'"
        }

        /// One case of a closed enumeration written into the SQL text as a string constant
        /// (`status = \(constant: status)`), not bound: one statement, and one kept plan, per
        /// case. A list filter on a skewed column is then planned for that case's real rarity;
        /// bound, PostgreSQL keeps a generic plan costed for an average case (the OEM group's
        /// escalated complaints walked the newest-first index and read every complaint to find
        /// the few). Only the program's own cases can be passed (a caller's value is parsed into
        /// one first), with plain raw values.
        public mutating func appendInterpolation<Value: RawRepresentable & CaseIterable>(constant value: Value)
        where Value.RawValue == String {
            precondition(PostgresQuery.isPlainConstant(value.rawValue), "not a plain constant: \(value.rawValue)")
            sql += "'"
            sql += value.rawValue
            sql += "'"
        }

        /// One case of a closed enumeration with an integer raw value, written as its number
        /// (`escalation_level >= \(constant: level)`), for the same reason. An integer cannot
        /// carry SQL.
        public mutating func appendInterpolation<Value: RawRepresentable & CaseIterable>(constant value: Value)
        where Value.RawValue: BinaryInteger {
            sql += String(value.rawValue)
        }

        /// A yes/no filter written as `true` or `false`, for the same reason (a partial index
        /// `WHERE open_recall` is proven only from the constant).
        public mutating func appendInterpolation(constant value: Bool) {
            sql += value ? "true" : "false"
        }

        /// A nested query fragment: its SQL (renumbered) and its bindings.
        public mutating func appendInterpolation(fragment: PostgresQuery) {
            sql += fragment.renumbered(offset: bindings.count)
            bindings.append(contentsOf: fragment.bindings)
        }
    }

    /// Whether an enumeration's raw value may be written into SQL text as a constant: lower-case
    /// letters, digits and `_` only, not empty.
    public static func isPlainConstant(_ rawValue: String) -> Bool {
        !rawValue.isEmpty && rawValue.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// Appends another fragment, renumbering its placeholders.
    public mutating func append(_ fragment: PostgresQuery) {
        sql += fragment.renumbered(offset: bindings.count)
        bindings.append(contentsOf: fragment.bindings)
    }

    public static func + (lhs: PostgresQuery, rhs: PostgresQuery) -> PostgresQuery {
        var result = lhs
        result.append(rhs)
        return result
    }

    /// The SQL with `$n` shifted by `offset` (placeholders inside string literals are not
    /// renumbered; fragments never put placeholders there).
    func renumbered(offset: Int) -> String {
        guard offset > 0, bindings.count > 0 else { return sql }
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        var index = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "'") { inString.toggle() }
            if byte == UInt8(ascii: "$"), !inString, index + 1 < bytes.count, bytes[index + 1] &- 48 < 10 {
                var number = 0
                index += 1
                while index < bytes.count, bytes[index] &- 48 < 10 {
                    number = number * 10 + Int(bytes[index] - 48)
                    index += 1
                }
                out.append(contentsOf: "$\(number + offset)".utf8)
                continue
            }
            out.append(byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { "\(sql) [\(bindings.count) parameters]" }
}

/// Parameter values in text format with their declared types.
public struct PostgresBindings: Sendable {
    public private(set) var values: [String?] = []
    public private(set) var types: [UInt32] = []

    public init() {}
    init(capacity: Int) {
        values.reserveCapacity(capacity)
        types.reserveCapacity(capacity)
    }

    public var count: Int { values.count }

    public mutating func append<Value: PostgresEncodable>(_ value: Value) {
        values.append(value.postgresText)
        types.append(Value.postgresType.rawValue)
    }

    mutating func append(contentsOf other: PostgresBindings) {
        values.append(contentsOf: other.values)
        types.append(contentsOf: other.types)
    }
}
