import CLibPQ

/// The rows of one statement's result. Owns the libpq `PGresult`; a `PGresult` is immutable once
/// received, so it is safe to read from any thread, hence `@unchecked Sendable`.
public final class PostgresRows: @unchecked Sendable, RandomAccessCollection {
    let handle: OpaquePointer
    public let count: Int
    public let columnCount: Int
    /// Rows affected by an INSERT/UPDATE/DELETE (0 when the command reports none).
    public let affectedRows: Int

    init(handle: OpaquePointer) {
        self.handle = handle
        self.count = Int(PQntuples(handle))
        self.columnCount = Int(PQnfields(handle))
        if let tuples = PQcmdTuples(handle), tuples.pointee != 0 {
            self.affectedRows = Int(String(cString: tuples)) ?? 0
        } else {
            self.affectedRows = 0
        }
    }

    deinit { PQclear(handle) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    /// The result's column names in order.
    public var columnNames: [String] {
        (0..<columnCount).map { columnName($0) }
    }

    func columnName(_ index: Int) -> String {
        guard let name = PQfname(handle, Int32(index)) else { return "#\(index)" }
        return String(cString: name)
    }

    func columnIndex(_ name: String) -> Int? {
        var name = name
        return name.withUTF8 { columnIndex(utf8: $0) }
    }

    /// The first column whose name is these UTF-8 bytes.
    func columnIndex(utf8 name: UnsafeBufferPointer<UInt8>) -> Int? {
        for index in 0..<columnCount {
            if let cName = PQfname(handle, Int32(index)), cStringEquals(cName, name) { return index }
        }
        return nil
    }

    /// The first row, if any.
    public var firstRow: PostgresRow? { isEmpty ? nil : self[0] }
}

@inline(__always)
private func cStringEquals(_ cString: UnsafePointer<CChar>, _ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
    var index = 0
    while index < utf8.count {
        let c = UInt8(bitPattern: cString[index])
        if c == 0 || c != utf8[index] { return false }
        index += 1
    }
    return cString[index] == 0
}

/// One row of a result.
public struct PostgresRow: Sendable {
    @usableFromInline let rows: PostgresRows
    public let index: Int

    /// Decodes the value of column `column` (by position). Inlinable, so that each call site is
    /// compiled for its type; the libpq calls stay behind `cell(_:target:)`.
    @inlinable
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        do {
            guard let cell = try cell(column, target: T.self) else { return try T.decodeNull() }
            return try T.decode(cell)
        } catch let failure as PostgresCell.Failure {
            throw decodingError(column, target: T.self, failure)
        }
    }

    /// The cell at `column`, nil for SQL NULL; a decoding error naming `target` for a column the
    /// result does not have.
    @usableFromInline
    func cell(_ column: Int, target: Any.Type) throws -> PostgresCell? {
        guard column >= 0, column < rows.columnCount else {
            throw PostgresDecodingError(
                column: "#\(column)", columnIndex: column, targetType: "\(target)", postgresType: 0,
                reason: "the result has only \(rows.columnCount) columns")
        }
        let handle = rows.handle
        let row = Int32(index)
        let col = Int32(column)
        // Two libpq calls for most cells: only an empty value can be SQL NULL (libpq gives NULL a
        // length of 0), so only then is `PQgetisnull` asked.
        let length = PQgetlength(handle, row, col)
        if length == 0, PQgetisnull(handle, row, col) != 0 { return nil }
        guard let pointer = PQgetvalue(handle, row, col) else { return nil }
        return PostgresCell(
            bytes: UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: Int(length)))
    }

    /// A decoder's failure with the column's name, index and type.
    @usableFromInline
    func decodingError(_ column: Int, target: Any.Type, _ failure: PostgresCell.Failure) -> PostgresDecodingError {
        PostgresDecodingError(
            column: rows.columnName(column), columnIndex: column, targetType: "\(target)",
            postgresType: PQftype(rows.handle, Int32(column)), reason: failure.reason)
    }

    /// Decodes the value of the column named `column`.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let position = rows.columnIndex(column) else {
            throw PostgresDecodingError(
                column: column, columnIndex: -1, targetType: "\(T.self)", postgresType: 0,
                reason: "no such column in the result (columns: \(rows.columnNames.joined(separator: ", ")))")
        }
        return try decode(position, as: T.self)
    }

    /// True when the column holds SQL NULL.
    public func isNull(_ column: Int) -> Bool {
        PQgetisnull(rows.handle, Int32(index), Int32(column)) == 1
    }
}
