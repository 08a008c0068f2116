@testable import CRMAPI
import Foundation
import HummingbirdTesting
import Testing

@Suite("A JSON member given twice is refused")
struct DuplicateMemberTests {
    func repeated(_ json: String) -> String? {
        JSONMemberCheck.firstRepeatedMember(in: Array(json.utf8))
    }

    @Test("the first repeated name is found with its path, at any level")
    func found() {
        #expect(repeated(#"{"children": 999, "children": 1}"#) == "children")
        #expect(repeated(#"{"customer": {"name": "王伟", "children": 999, "children": 1}}"#) == "customer.children")
        #expect(repeated(#"{"a": {"b": {"c": {"d": 1, "d": 2}}}}"#) == "a.b.c.d")
        #expect(repeated(#"{"a": {}, "a": []}"#) == "a")
        #expect(repeated(#"{"a": -0.5e+10, "b": [true, false, null], "b": 1}"#) == "b")
        // Only the first is reported.
        #expect(repeated(#"{"x": {"y": 1, "y": 2}, "x": 3}"#) == "x.y")
    }

    @Test("arrays of objects: the path names the element")
    func arrays() {
        #expect(repeated(#"{"consents": [{"purpose": "marketing"}, {"purpose": "a", "purpose": "b"}]}"#) == "consents[1].purpose")
        #expect(repeated(#"[{"a": 1, "b": {"a": 1}}, {"a": 1, "a": 2}]"#) == "[1].a")
        #expect(repeated(#"{"p": {"q": [[{"r": 1}], [{"s": 0, "r": 2, "r": 3}]]}}"#) == "p.q[1][0].r")
    }

    @Test("names that differ only in escaping are the same name")
    func escapes() {
        #expect(repeated(#"{"a": 1, "\u0061": 2}"#) == "a")
        #expect(repeated(#"{"\u0061": 1, "a": 2}"#) == "a")
        #expect(repeated(#"{"na\u006De": 1, "n\u0061me": 2}"#) == "name")
        #expect(repeated(#"{"a\"b": 1, "a\u0022b": 2}"#) == #"a"b"#)
        #expect(repeated(#"{"a/b": 1, "a\/b": 2}"#) == "a/b")
        #expect(repeated(#"{"\u738b": 1, "王": 2}"#) == "王")
        #expect(repeated(#"{"\ud83d\ude97": 1, "🚗": 2}"#) == "🚗")
        // Distinct escapes are distinct names.
        #expect(repeated(#"{"a\n": 1, "a\t": 2, "a": 3}"#) == nil)
    }

    @Test("unicode names, including canonically equivalent spellings (one String key to Foundation)")
    func unicode() {
        #expect(repeated(#"{"名字": "王伟", "名字": "李四"}"#) == "名字")
        #expect(repeated(#"{"客户": {"名字": 1, "电话": 2, "名字": 3}}"#) == "客户.名字")
        #expect(repeated(#"{"caf\u00e9": 1, "cafe\u0301": 2}"#) == "café")
        #expect(repeated(#"{"名字": 1, "名子": 2}"#) == nil)
    }

    @Test("no false positives: the same name in sibling and nested objects, in strings, in arrays")
    func noFalsePositives() {
        #expect(repeated(#"{"a": {"name": 1}, "b": {"name": 2}, "name": 3}"#) == nil)
        #expect(repeated(#"[{"name": 1}, {"name": 2}, [{"name": 3}]]"#) == nil)
        #expect(repeated(#"{"name": {"name": {"name": 1}}}"#) == nil)
        #expect(repeated(#"{"s": "{\"a\": 1, \"a\": 2}", "t": "\\", "u": "}"}"#) == nil)
        #expect(repeated(#"{"a": 1, "A": 2, "a ": 3, "": 4}"#) == nil)
        #expect(repeated(#"{"kind": "person", "name": "王伟", "address": {"city": "上海"}, "tags": ["a", "a"]}"#) == nil)
        for scalar in [#"1"#, #""x""#, "null", "[]", "{}", " \n{ } "] { #expect(repeated(scalar) == nil) }
    }

    @Test("malformed JSON is left to the parser: no report, even with a repeated name in it")
    func malformed() {
        for json in [
            #"{"a": 1, "a": tru}"#, #"{"a": 1, "a": 2} x"#, #"{"a": 01, "a": 2}"#, #"{"a": 1, "a": 2"#, #"{"a" 1, "a": 2}"#,
            #"{"a": 1, "a": 2,}"#, #"{"a": "\x", "a": 1}"#, #"{"a": 1 "a": 2}"#, "", "{", #"{"a\u00g1": 1, "a": 1}"#,
        ] {
            #expect(repeated(json) == nil, "\(json)")
        }
    }

    @Test("large objects and deep nesting")
    func scale() {
        let members = (0..<5_000).map { "\"k\($0)\": \($0)" }.joined(separator: ",")
        #expect(repeated("{" + members + "}") == nil)
        #expect(repeated("{" + members + ", \"k17\": 1}") == "k17")
        #expect(repeated("{" + members + ", \"k\\u0034\": 1}") == "k4")
        #expect(repeated("{\"k4999\": 0, " + members + "}") == "k4999")
        let depth = 20_000
        let deep = String(repeating: #"{"a": ["#, count: depth) + #"{"z": 1, "z": 2}"# + String(repeating: "]}", count: depth)
        let path = repeated(deep)
        #expect(path?.hasPrefix("a[0].a[0].") == true)
        #expect(path?.hasSuffix("a[0].z") == true)
        let fine = String(repeating: #"{"a": ["#, count: depth) + #"{"z": 1}"# + String(repeating: "]}", count: depth)
        #expect(repeated(fine) == nil)
    }

    @Test("POST with a repeated member is a 400 naming it, and nothing is stored")
    func refusedOverHTTP() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let response = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA, raw: #"{"kind":"person","name":"王伟","name":"李四"}"#)
            #expect(response.status == .badRequest, "\(response.text)")
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(response.fieldErrors == ["name"])
            #expect((response["errors"] as? [[String: Any]])?.first?["message"] as? String == "is given more than once")
            #expect((response["detail"] as? String)?.contains("name") == true)

            let nested = try await app.client.call(
                .post, "/v1/customers", key: tenants.keyA,
                raw: #"{"kind":"person","name":"王伟","address":{"city":"上海","c\u0069ty":"北京"}}"#,
                headers: ["Idempotency-Key": "dup-1"])
            #expect(nested.status == .badRequest)
            #expect(nested.fieldErrors == ["address.city"])

            let list = try await app.client.call(.get, "/v1/customers", key: tenants.keyA)
            #expect(list.status == .ok)
            #expect(list.items.isEmpty, "\(list.text)")

            // The same body without the repeat is accepted.
            let created = try await app.client.call(.post, "/v1/customers", key: tenants.keyA, raw: #"{"kind":"person","name":"李四"}"#)
            #expect(created.status == .created, "\(created.text)")
        }
    }
}
