import ArgumentParser
import CRMAPI
import CRMContract
import Foundation

/// Encoding response bodies, no server: the OpenAPI runtime's `JSONEncoder` (configured as the
/// service configures it) against `JSONResponseWriter`, on one customer and on a page of 50.
struct JSONBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json", abstract: "Time JSONEncoder against JSONResponseWriter on customer responses.")

    @Option(help: "Encodes per timed round.") var iterations = 2000
    @Option(help: "Timed rounds (the median is printed).") var rounds = 7

    func run() throws {
        let customer = try Self.sampleCustomer()
        let page = Components.Schemas.CustomerList(
            data: (0..<50).map { index in
                var copy = customer
                copy.id = String(format: "0b5c2f6e-1d3a-4e8b-9c7d-%012d", index)
                copy.name = "客户\(index)"
                copy.version = index + 1
                return copy
            },
            nextCursor: "djEuY3JlYXRlZF9hdC4yMDI2LTExLTIzVDA4OjAwOjAwWi4wYjVjMmY2ZQ")
        try measure("customer", customer, iterations: iterations)
        try measure("customer_page_50", page, iterations: max(1, iterations / 50))
    }

    func measure<T: Encodable>(_ name: String, _ value: T, iterations: Int) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = []
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339DateTranscoder.format(date))
        }
        let writer = JSONResponseWriter()
        let bytes = try writer.encode(value).count
        func median(_ body: () throws -> Int) rethrows -> Double {
            var samples: [Double] = []
            var sink = 0
            for _ in 0..<iterations { sink &+= try body() }  // warm-up
            for _ in 0..<rounds {
                let started = ContinuousClock.now
                for _ in 0..<iterations { sink &+= try body() }
                let elapsed = ContinuousClock.now - started
                samples.append(
                    (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(iterations))
            }
            if sink == 42 { print("") }
            return samples.sorted()[samples.count / 2]
        }
        let encoderMicros = try median { try encoder.encode(value).count }
        let writerMicros = try median { try writer.encode(value).count }
        print(
            "bench=json case=\(name) bytes=\(bytes) jsonencoder_us=\(String(format: "%.1f", encoderMicros)) "
                + "writer_us=\(String(format: "%.1f", writerMicros)) speedup=\(String(format: "%.2f", encoderMicros / writerMicros))")
    }

    /// A customer with every member filled, as `GET /v1/customers/{id}` returns one.
    static func sampleCustomer() throws -> Components.Schemas.Customer {
        let json = #"""
            {"id":"0b5c2f6e-1d3a-4e8b-9c7d-2a6f4e8b1c3d","dealer_id":"7f3e9a1b-5c2d-4e6f-8a0b-1c2d3e4f5a6b",
             "kind":"person","name":"张伟","surname":"张","gender":"male","phone":"13912345678",
             "email":"zhang.wei@example.cn","birthday":"1986-04-12",
             "address":{"province":"上海市","city":"上海市","district":"浦东新区","community":"联洋社区",
                        "street":"芳甸路 88 弄 6 号 1202 室","postal_code":"200135"},
             "occupation":"工程师","employer":"上海某科技有限公司","income_band":"300k_500k",
             "hobbies":["高尔夫","自驾游"],"marital_status":"married","children":2,
             "preferred_brands":["BMW","Audi"],
             "preferences":{"colour":"矿石白","trim":"M 运动套装","decision_days":30},
             "tags":["vip","老客户转介绍"],"notes":"周末方便联系 / prefers WeChat, \"no calls\" before 10:00",
             "created_at":"2026-11-23T08:00:00Z","updated_at":"2026-11-24T09:30:15Z","version":3}
            """#
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            try RFC3339DateTranscoder().decode(try decoder.singleValueContainer().decode(String.self))
        }
        return try decoder.decode(Components.Schemas.Customer.self, from: Data(json.utf8))
    }
}
