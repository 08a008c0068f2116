import Hummingbird

// The floor of an HTTP server on this machine, for `scripts/bench floor`: Hummingbird 2 with no
// middleware, answering GET /healthz with the same small JSON body as the service's.
let router = Router()
router.get("healthz") { _, _ -> Response in
    Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}")))
}
let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 8081
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
