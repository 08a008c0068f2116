@testable import CRMAPI
@_spi(Generated) import CRMContract
import Foundation
import HTTPTypes
@_spi(Generated) import OpenAPIRuntime
import Testing

@Suite("Query items: the plain fast path answers as the runtime's URI decoder does")
struct QueryItemsTests {
    static let converter = Converter(configuration: .init())

    /// The runtime's answer: the value, nil when absent, or that it failed.
    static func runtime<T: Decodable>(_ type: T.Type, _ name: String, _ query: String) -> Result<T?, any Error> {
        Result { try converter.runtimeOptionalQueryItemAsURI(in: query[...], style: .form, explode: true, name: name, as: T.self) }
    }

    static func check<T: Decodable & Equatable>(_ type: T.Type, _ name: String, _ query: String, plainCount: inout Int) {
        guard let plain = QueryItems.plain(T.self, named: name, in: query[...], style: .form, explode: true) else { return }
        plainCount += 1
        let expected: T?
        switch runtime(T.self, name, query) {
        case .success(let value): expected = value
        case .failure(let error):
            Issue.record("the runtime failed where the fast path answered: \(name) in \(query.debugDescription): \(error)")
            return
        }
        switch plain {
        case .absent: #expect(expected == nil, "\(name) in \(query.debugDescription)")
        case .value(let value): #expect(expected == value, "\(name) in \(query.debugDescription)")
        }
    }

    @Test("random query strings: every plain answer is the runtime's, and most items of real requests are plain")
    func agreesWithRuntime() {
        let pieces = ["limit", "a", "overdue", "=", "=", "&", "&", "50", "-3", "007", "true", "false", "True", "%41", "+",
                      "%2B", "é", "x", "", "li", "mit", "9223372036854775808", " "]
        let keys = ["limit", "a", "overdue", "li%6Dit", "a+", "", "é"]
        let values = ["50", "-3", "007", "true", "false", "True", "x", "", "%41", "a+b", "9223372036854775808", "1=2"]
        var generator = SystemRandomNumberGenerator()
        var plain = 0
        for _ in 0..<20_000 {
            // Half are pairs (repeated names among them), half any sequence of the pieces.
            let query =
                Bool.random(using: &generator)
                ? (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                    keys.randomElement(using: &generator)! + "=" + values.randomElement(using: &generator)!
                }.joined(separator: "&")
                : (0..<Int.random(in: 0...8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            for name in ["limit", "a", "overdue"] {
                Self.check(String.self, name, query, plainCount: &plain)
                Self.check(Int.self, name, query, plainCount: &plain)
                Self.check(Bool.self, name, query, plainCount: &plain)
                Self.check(Date.self, name, query, plainCount: &plain)
                Self.check([Int].self, name, query, plainCount: &plain)
            }
        }
        #expect(plain > 1_000)
        // The shapes real clients send are all plain.
        var count = 0
        Self.check(Int.self, "limit", "overdue=true&limit=50", plainCount: &count)
        Self.check(Bool.self, "overdue", "overdue=true&limit=50", plainCount: &count)
        Self.check(String.self, "cursor", "limit=50&cursor=AbC_-9", plainCount: &count)
        Self.check(String.self, "phone", "limit=50", plainCount: &count)
        #expect(count == 4)
        // Types it does not read and items that need unescaping go to the runtime.
        #expect(QueryItems.plain(Double.self, named: "a", in: "a=1", style: .form, explode: true) == nil)
        #expect(QueryItems.plain(Double.self, named: "b", in: "a=1", style: .form, explode: true) != nil)
        #expect(QueryItems.plain(String.self, named: "a", in: "a=x%20y", style: .form, explode: true) == nil)
        #expect(QueryItems.plain(String.self, named: "a", in: "a=1", style: .form, explode: false) == nil)
        #expect(QueryItems.plain(Int.self, named: "a", in: "a=x", style: .form, explode: true) == nil)
    }

    @Test("random paths: the query is the runtime's (ASCII read by bytes, any other path by the runtime)")
    func queryOfPathAgreesWithRuntime() {
        let pieces = ["/v1/leads", "/", "?", "?", "#", "#", "a=1", "&", "limit=50", "é", "\u{301}", "\r\n", "%20", "x", ""]
        var generator = SystemRandomNumberGenerator()
        var withQuery = 0
        for _ in 0..<20_000 {
            let path = (0..<Int.random(in: 0...7, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let request = HTTPRequest(method: .get, scheme: nil, authority: nil, path: path)
            let ours = QueryItems.query(of: request)
            #expect(ours == request.runtimeQuery, "\(path.debugDescription)")
            if ours != nil { withQuery += 1 }
        }
        #expect(withQuery > 1_000)
        #expect(QueryItems.query(of: HTTPRequest(method: .get, scheme: nil, authority: nil, path: nil)) == nil)
        #expect(QueryItems.query(of: HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/v1/leads?overdue=true&limit=50")) == "overdue=true&limit=50")
        // A combining accent makes `#` another character: no fragment, for both.
        #expect(QueryItems.query(of: HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/a?x=1#\u{301}y")) == "x=1#\u{301}y")
    }
}
