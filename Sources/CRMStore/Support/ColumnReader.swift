import PostgresClient

/// Reads a row's columns in order, so a decoder lists fields in the same order as the SELECT.
struct ColumnReader {
    let row: PostgresRow
    private(set) var index = 0

    init(_ row: PostgresRow) { self.row = row }

    mutating func next<T: PostgresDecodable>(_ type: T.Type = T.self) throws -> T {
        defer { index += 1 }
        return try row.decode(index, as: T.self)
    }

    /// A jsonb column decoded as a Codable value (nil for SQL NULL).
    mutating func json<T: Decodable>(_ type: T.Type) throws -> T? {
        try next(PostgresJSON?.self)?.decode(T.self)
    }
}
