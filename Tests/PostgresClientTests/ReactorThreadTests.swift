import CRMTestSupport
import Foundation
@testable import PostgresClient
import Testing

@Suite("Reactor threads")
struct ReactorThreadTests {
    @Test("the reactor threads carry their names where top -H and /proc show threads")
    func namesVisibleToTheSystem() throws {
        let reactors = try Reactor.shared.get()
        func threadNames() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { task in
                try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        // A thread names itself once it runs.
        var names = try threadNames()
        for _ in 0..<100 where !reactors.indices.allSatisfy({ names.contains("pg-reactor-\($0)") }) {
            Thread.sleep(forTimeInterval: 0.02)
            names = try threadNames()
        }
        for index in reactors.indices {
            #expect(names.contains("pg-reactor-\(index)"), "threads: \(names.sorted())")
        }
    }
}
