import CRMClient
import Foundation
import HTTPTypes
import Testing

@Suite("The typed client")
struct TypedClientTests {
    @Test("create, read and patch a customer through the generated client; problems come back typed")
    func customerRoundTrip() async throws {
        try await withApp { (app: TestApp) in
            let tenants = try await Tenants.make(app.services)
            let api = app.api(tenants.keyA)
            let created = try await api.createCustomer(body: .json(.init(kind: .person, name: "王伟", phone: "139 1234 5678")))
            let customer = try created.created.body.json
            #expect(customer.phone == "+8613912345678")
            #expect(try created.created.headers.eTag == "\"1\"")
            let read = try await api.getCustomer(path: .init(customerId: customer.id))
            #expect(try read.ok.body.json.name == "王伟")
            let patched = try await api.updateCustomer(
                path: .init(customerId: customer.id), headers: .init(ifMatch: "\"1\""),
                body: .json(.init(name: "王大伟")))
            #expect(try patched.ok.body.json.name == "王大伟")
            let duplicate = try await api.createCustomer(body: .json(.init(kind: .person, name: "李四", phone: "13912345678")))
            #expect(try duplicate.conflict.body.applicationProblemJson.existingId == customer.id)
            let invalid = try await api.createCustomer(body: .json(.init(kind: .person, name: "李四", phone: "12")))
            #expect(try invalid.unprocessableContent.body.applicationProblemJson.fields == ["phone"])
        }
    }
}
