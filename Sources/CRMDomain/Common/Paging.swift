public import Foundation

/// A page request: at most `limit` items after `cursor`.
public struct PageRequest: Sendable {
    public var limit: Int
    public var cursor: Cursor?

    public init(limit: Int, cursor: Cursor?) {
        self.limit = limit
        self.cursor = cursor
    }
}

/// One page of a keyset-paginated list.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: Cursor?

    public init(items: [Item], nextCursor: Cursor?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// Builds a page from `limit + 1` fetched rows: the extra row only says there is more. The rows
    /// are taken, not copied (copying a page of 50 customers retained every field of each).
    public static func from(_ rows: consuming [Item], limit: Int, sort: String, key: (Item) -> [String]) -> Page<Item> {
        var items = rows
        guard items.count > limit, limit > 0 else { return Page(items: items, nextCursor: nil) }
        items.removeLast(items.count - limit)
        let cursor = Cursor(sort: sort, values: key(items[limit - 1]))
        return Page(items: items, nextCursor: cursor)
    }

    /// The same page with its items transformed.
    public func map<T>(_ transform: (Item) throws -> T) rethrows -> Page<T> {
        Page<T>(items: try items.map(transform), nextCursor: nextCursor)
    }
}

/// A keyset cursor: the sort it belongs to and the last row's sort values. Clients see it only
/// signed and encoded (CRMServices `CursorCodec`), so a cursor they send back is one this
/// service made. It carries no authority: every query still applies the caller's tenant scope.
public struct Cursor: Sendable, Equatable {
    public var sort: String
    public var values: [String]

    public init(sort: String, values: [String]) {
        self.sort = sort
        self.values = values
    }

    /// The values, checked to belong to `sort` and to have `count` entries.
    public func values(for sort: String, count: Int) throws(CursorError) -> [String] {
        guard self.sort == sort, values.count == count else { throw CursorError() }
        return values
    }

    /// Value `index` as a UUID.
    public func uuid(_ index: Int) throws(CursorError) -> UUID {
        guard index < values.count, let id = UUID(uuidString: values[index]) else { throw CursorError() }
        return id
    }

    /// Value `index` as a calendar date.
    public func date(_ index: Int) throws(CursorError) -> LocalDate {
        guard index < values.count, let date = LocalDate(values[index]) else { throw CursorError() }
        return date
    }

    /// Value `index` as an instant (written by `value(of:)`).
    public func timestamp(_ index: Int) throws(CursorError) -> Date {
        guard index < values.count, let micros = Int64(values[index]), abs(micros) < 300_000_000_000_000_000 else { throw CursorError() }
        return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    /// An instant as a cursor value: whole microseconds since 1970 (PostgreSQL's precision, so
    /// the row compares equal when the cursor comes back).
    public static func value(of instant: Date) -> String {
        String(Int64((instant.timeIntervalSince1970 * 1_000_000).rounded()))
    }

    /// Value `index` as a whole number.
    public func integer(_ index: Int) throws(CursorError) -> Int64 {
        guard index < values.count, let number = Int64(values[index]) else { throw CursorError() }
        return number
    }
}

/// A cursor from another list or sort order, or not one this service made.
public struct CursorError: Error, Sendable {
    public init() {}
}
