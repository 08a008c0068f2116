@_spi(Generated) import CRMContract
import Foundation
import HTTPTypes
@_spi(Generated) import OpenAPIRuntime

/// Query items read without the runtime's URI decoder where the answer is plain. The runtime
/// parses the whole query string again for every parameter an operation declares, unescaping
/// every key it passes (`+` replaced, then percent-decoded), which took about 7% of the CPU of a
/// page of overdue leads (twelve parameters). Here an item is read straight from the bytes when
/// nothing needs unescaping: an item that is not there, whatever its type, or a `String`, `Int` or
/// `Bool` that is. Whenever the runtime could answer otherwise (any `%`, `+`, byte outside ASCII,
/// pair without `=`, a value its type does not parse, a style other than exploded `form`, a
/// present item of another type) the runtime reads it, as before.
/// `QueryItemsTests` holds the two to the same answers over random query strings.
enum QueryItems {
    enum Plain<T> {
        case absent
        case value(T)
    }

    /// Item `name` of `query` as `T` when that is plain to read; nil when the runtime must decide.
    /// Like the runtime, the first of several items with the name wins.
    static func plain<T>(_ type: T.Type, named name: String, in query: Substring, style: ParameterStyle?, explode: Bool?)
        -> Plain<T>?
    {
        guard style == nil || style == .form, explode != false else { return nil }
        let bytes = query.utf8
        var found: Substring.UTF8View.SubSequence?
        var start = bytes.startIndex
        while true {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "&")) ?? bytes.endIndex
            let pair = bytes[start..<end]
            guard let separator = pair.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            for byte in pair where byte >= 0x80 || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "+") { return nil }
            if found == nil, pair[..<separator].elementsEqual(name.utf8) { found = pair[pair.index(after: separator)...] }
            if end == bytes.endIndex { break }
            start = bytes.index(after: end)
        }
        // Absent is absent whatever the type (the runtime answers nil before decoding anything).
        guard let found else { return .absent }
        let text = String(Substring(found))
        if T.self == String.self { return .value(unsafeBitCast(text, to: T.self)) }
        if T.self == Int.self, let number = Int(text) { return .value(unsafeBitCast(number, to: T.self)) }
        if T.self == Bool.self, let flag = Bool(text) { return .value(unsafeBitCast(flag, to: T.self)) }
        return nil
    }
}

extension QueryItems {
    /// The query of a request's path: what follows the first `?` before any `#`. The runtime's
    /// `soar_query` finds both by walking the path one `Character` at a time, and the generated
    /// server asks for it once per parameter an operation declares (twelve times for the leads
    /// list), which took 2.4% of the CPU of a page of overdue leads. An ASCII path (what HTTP
    /// clients send) is read byte by byte, where `?` and `#` are the same characters; any other
    /// path goes to the runtime. `QueryItemsTests` holds the two to the same answers.
    static func query(of request: HTTPRequest) -> Substring? {
        guard let path = request.path else { return nil }
        let utf8 = path.utf8
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return request.runtimeQuery }
        let end = utf8.firstIndex(of: UInt8(ascii: "#")) ?? utf8.endIndex
        guard let question = utf8[..<end].firstIndex(of: UInt8(ascii: "?")) else { return nil }
        return path[utf8.index(after: question)..<end]
    }
}

extension HTTPRequest {
    /// Shadows the runtime's `soar_query` for the generated server of this module (as the
    /// converter methods below do).
    var soar_query: Substring? { QueryItems.query(of: self) }
}

extension Converter {
    /// Shadows the runtime's method for the generated server of this module (as
    /// `setResponseBodyAsJSON` does): plain items are read by `QueryItems`, the rest by the runtime.
    func getOptionalQueryItemAsURI<T: Decodable>(
        in query: Substring?, style: ParameterStyle?, explode: Bool?, name: String, as type: T.Type
    ) throws -> T? {
        if let query, let plain = QueryItems.plain(T.self, named: name, in: query, style: style, explode: explode) {
            switch plain {
            case .absent: return nil
            case .value(let value): return value
            }
        }
        return try runtimeOptionalQueryItemAsURI(in: query, style: style, explode: explode, name: name, as: type)
    }

    func getRequiredQueryItemAsURI<T: Decodable>(
        in query: Substring?, style: ParameterStyle?, explode: Bool?, name: String, as type: T.Type
    ) throws -> T {
        if let query, case .value(let value)? = QueryItems.plain(T.self, named: name, in: query, style: style, explode: explode) {
            return value
        }
        return try runtimeRequiredQueryItemAsURI(in: query, style: style, explode: explode, name: name, as: type)
    }
}
