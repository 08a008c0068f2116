import CRMDomain
import Testing

@Suite("Pages from limit + 1 rows")
struct PagingTests {
    @Test("the extra row only says there is more: the page keeps the first `limit` rows, in order, and its cursor names the last kept")
    func pageFromRows() {
        for limit in 1...6 {
            for count in 0...(limit + 1) {
                let rows = Array(0..<count)
                let page = Page.from(rows, limit: limit, sort: "test") { [String($0)] }
                #expect(page.items == Array(rows.prefix(limit)), "limit \(limit), \(count) rows")
                if count > limit {
                    #expect(page.nextCursor == Cursor(sort: "test", values: [String(limit - 1)]))
                } else {
                    #expect(page.nextCursor == nil, "limit \(limit), \(count) rows")
                }
            }
        }
    }
}
