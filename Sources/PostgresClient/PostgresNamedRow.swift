import CLibPQ

/// Reads a result's rows by column name. Each name is resolved to its column position once per
/// result, not once per row: a decoder reads its columns in the same order for every row, so
/// the n-th lookup of the first row records its position and later rows reuse it (checked by the
/// name's identity, a pointer comparison; a decoder that reads in another order only pays a
/// fresh lookup).
public struct PostgresNamedRow {
    public let row: PostgresRow
    @usableFromInline let positions: PostgresColumnPositions
    @usableFromInline var step = 0

    @usableFromInline
    init(row: PostgresRow, positions: PostgresColumnPositions) {
        self.row = row
        self.positions = positions
    }

    /// The value of the column named `name`. Inlinable (as is `PostgresRow.decode`), so each call
    /// site is compiled for its type: generic code across the module boundary looked up type
    /// metadata and witness tables for every cell.
    @inlinable
    public mutating func callAsFunction<T: PostgresDecodable>(_ name: StaticString, as type: T.Type = T.self) throws -> T {
        defer { step += 1 }
        return try row.decode(try positions.position(of: name, step: step, in: row.rows), as: T.self)
    }

    /// True when the column named `name` holds SQL NULL.
    public mutating func isNull(_ name: StaticString) throws -> Bool {
        defer { step += 1 }
        return row.isNull(try positions.position(of: name, step: step, in: row.rows))
    }
}

/// The column positions one decoder resolved, by lookup order. Used by one task at a time (the
/// one mapping the result), so its storage skips the runtime's exclusivity checks (they were 2%
/// of the CPU of a page of 50 customers: one per cell).
@usableFromInline
final class PostgresColumnPositions: @unchecked Sendable {
    private struct Resolved {
        /// The static name's address: the same call site passes the same address.
        let name: UnsafeRawPointer
        let column: Int
    }
    @exclusivity(unchecked) private var resolved: [Resolved] = []

    @usableFromInline init() {}

    @usableFromInline
    func position(of name: StaticString, step: Int, in rows: PostgresRows) throws -> Int {
        let identity = UnsafeRawPointer(name.utf8Start)
        if step < resolved.count, resolved[step].name == identity { return resolved[step].column }
        return try resolve(name, identity: identity, step: step, in: rows)
    }

    private func resolve(_ name: StaticString, identity: UnsafeRawPointer, step: Int, in rows: PostgresRows) throws -> Int {
        // The static name's bytes against libpq's names: no String made per lookup.
        guard let column = rows.columnIndex(utf8: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        else {
            throw PostgresDecodingError(
                column: name.description, columnIndex: -1, targetType: "", postgresType: 0,
                reason: "no such column in the result (columns: \(rows.columnNames.joined(separator: ", ")))")
        }
        if step == resolved.count {
            resolved.append(Resolved(name: identity, column: column))
        } else if step < resolved.count {
            resolved[step] = Resolved(name: identity, column: column)
        }
        return column
    }
}

extension PostgresRows {
    /// Decodes every row with `decode`, which reads columns by name (`try row("id")`).
    @inlinable
    public func map<T>(named decode: (inout PostgresNamedRow) throws -> T) throws -> [T] {
        let positions = PostgresColumnPositions()
        var result: [T] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            var named = PostgresNamedRow(row: self[index], positions: positions)
            result.append(try decode(&named))
        }
        return result
    }

    /// The first row decoded by name, or nil.
    @inlinable
    public func first<T>(named decode: (inout PostgresNamedRow) throws -> T) throws -> T? {
        guard let row = firstRow else { return nil }
        var named = PostgresNamedRow(row: row, positions: PostgresColumnPositions())
        return try decode(&named)
    }
}
