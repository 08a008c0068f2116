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

    /// Builds a page from `limit + 1` fetched rows: the extra row only says there is more.
    public static func from(_ rows: [Item], limit: Int, sort: String, key: (Item) -> [String]) -> Page<Item> {
        guard rows.count > limit, let last = rows.prefix(limit).last else { return Page(items: rows, nextCursor: nil) }
        return Page(items: Array(rows.prefix(limit)), nextCursor: Cursor(sort: sort, values: key(last)))
    }
}

/// An opaque keyset cursor: the sort it belongs to and the last row's sort values, base64url.
/// It carries no authority: every query still applies the caller's tenant scope.
public struct Cursor: Sendable, Equatable {
    public var sort: String
    public var values: [String]

    public init(sort: String, values: [String]) {
        self.sort = sort
        self.values = values
    }

    public var encoded: String {
        let text = ([sort] + values).map { $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\u{1F}", with: "\\u") }
            .joined(separator: "\u{1F}")
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Nil for anything that is not a cursor this service produced.
    public init?(encoded: String) {
        guard encoded.count <= 2048 else { return nil }
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: "\u{1F}", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "\\u", with: "\u{1F}").replacingOccurrences(of: "\\\\", with: "\\")
        }
        guard parts.count >= 2 else { return nil }
        self.sort = parts[0]
        self.values = Array(parts.dropFirst())
    }

    /// The values, checked to belong to `sort` and to have `count` entries.
    public func values(for sort: String, count: Int) throws(CursorError) -> [String] {
        guard self.sort == sort, values.count == count else { throw CursorError() }
        return values
    }
}

/// A cursor from another list or sort order, or tampered with.
public struct CursorError: Error, Sendable {
    public init() {}
}
