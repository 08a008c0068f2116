// A typed client for the dealer CRM API, generated from `openapi.yaml` (the `Client` type, one
// method per operation). Integrators give it a transport (swift-openapi-async-http-client or
// swift-openapi-urlsession) and the server's URL:
//
//     let client = Client(serverURL: URL(string: "https://crm.example.com")!, transport: AsyncHTTPClientTransport())
//     let lead = try await client.getLead(path: .init(leadId: id)).ok.body.json
//
// The request and response types come from CRMContract, re-exported here.
@_exported public import CRMContract
