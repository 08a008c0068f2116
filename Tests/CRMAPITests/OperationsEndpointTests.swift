import CRMAPI
import CRMApp
import CRMClient
import CRMTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

@Suite("Health, readiness, metrics, contract, request ids, problems")
struct OperationsEndpointTests {
    @Test("healthz is 200 and every response carries a generated X-Request-ID")
    func health() async throws {
        try await withApp { (client: any TestClientProtocol, _: PostgresPool, _: TestDatabase) in
            // Raw: the check is on the exact bytes of the body, which the typed client does not expose.
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
                let id = try #require(response.headers[HTTPField.Name("X-Request-ID")!])
                #expect(id.count >= 16 && id.allSatisfy(\.isHexDigit))
            }
        }
    }

    @Test("a caller's X-Request-ID is echoed and tags the request's log lines; a forged one is replaced")
    func requestIDInLogs() async throws {
        let logs = LogCapture()
        try await withApp(logs: logs) { (client: any TestClientProtocol, _: PostgresPool, _: TestDatabase) in
            // Raw: these test the X-Request-ID request header itself, a forged (multi-line) one included.
            try await client.execute(uri: "/readyz", method: .get, headers: [HTTPField.Name("X-Request-ID")!: "trace-42.a:b"]) {
                #expect($0.headers[HTTPField.Name("X-Request-ID")!] == "trace-42.a:b")
            }
            try await client.execute(uri: "/healthz", method: .get, headers: [HTTPField.Name("X-Request-ID")!: "bad id\nforged=1"]) {
                let id = $0.headers[HTTPField.Name("X-Request-ID")!]
                #expect(id != nil && id != "bad id\nforged=1")
            }
        }
        let tagged = logs.all.filter { $0.metadata["request_id"] == "trace-42.a:b" }
        #expect(tagged.contains { $0.message == "request" && $0.metadata["http.route"] == "/readyz" })
    }

    @Test("readyz reports the schema version when the database is migrated")
    func ready() async throws {
        try await withApp { (app: TestApp) in
            let response = try await app.api(nil).getReadiness()
            #expect(status(of: response) == .ok)
            let body = try response.ok.body.json
            #expect(body.status == .ready)
            #expect(body.schemaVersion >= 1)
        }
    }

    @Test("readyz is 503 problem+json while the schema is behind")
    func notMigrated() async throws {
        try await withApp { (client: any TestClientProtocol, pool: PostgresPool, _: TestDatabase) in
            try await pool.execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
            // Raw: the check is on the exact Content-Type header and the body text.
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(String(buffer: response.body).contains("crm migrate"))
            }
        }
    }

    @Test("database stopped: readyz 503 problem+json; started again: 200 within 5 seconds, same process")
    func readinessFollowsTheDatabase() async throws {
        let chaos = ChaosCluster.shared
        guard let adminURL = chaos.adminURL, chaos.isAvailable else {
            Issue.record("chaos cluster not configured: run through scripts/test")
            return
        }
        try await chaos.exclusive {
            try await withApp(adminURL: adminURL, testing: .live) { (app: TestApp) in
                let api = app.api(nil)
                #expect(try await status(of: api.getReadiness()) == .ok)
                try await chaos.stop()
                do {
                    for _ in 0..<3 {
                        // Raw: the check is on the exact Content-Type header, which the typed client does not expose.
                        try await app.client.execute(uri: "/readyz", method: .get) { response in
                            #expect(response.status == .serviceUnavailable)
                            #expect(response.headers[.contentType] == "application/problem+json")
                            #expect(response.headers[.retryAfter] != nil)
                        }
                    }
                } catch {
                    try? await chaos.start()
                    throw error
                }
                try await chaos.start()
                let restarted = ContinuousClock.now
                var ready = false
                while !ready, ContinuousClock.now - restarted < .seconds(5) {
                    ready = try await status(of: api.getReadiness()) == .ok
                    if !ready { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(ready, "readyz should be 200 within 5 s of the database coming back")
            }
        }
    }

    @Test("metrics expose request counts and latency by route and status, and the pool's gauges")
    func metrics() async throws {
        try await withApp { (app: TestApp) in
            let api = app.api(nil)
            _ = try await api.getHealth()
            _ = try await api.getReadiness()
            let response = try await api.getMetrics()
            #expect(status(of: response) == .ok)
            let text = try await bodyText(response.ok.body.plainText)
            #expect(text.contains(#"http_requests_total{method="GET",route="/healthz",status="200"}"#))
            #expect(text.contains(#"http_request_duration_seconds_bucket{method="GET",route="/readyz",status="200""#))
            #expect(text.contains(#"db_pool_connections{state="in_use"}"#))
            #expect(text.contains(#"db_pool_connections{state="idle"}"#))
            #expect(text.contains("db_pool_waiting"))
        }
    }

    @Test("the contract is served as YAML")
    func contract() async throws {
        try await withApp { (app: TestApp) in
            let response = try await app.api(nil).getContract()
            #expect(status(of: response) == .ok)
            // The generated client reads the body only under the contract's content type
            // (application/yaml, parameters allowed); any other is an error.
            #expect((try? response.ok.body.yaml) != nil)
            #expect(try await bodyText(response.ok.body.yaml).hasPrefix("openapi: 3.1"))
        }
    }

    @Test("/docs renders the contract with Swagger UI from DOCS_ASSETS_DIR, needs no key, and serves only plain file names")
    func docs() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crm-docs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("window.SwaggerUIBundle = function () {};".utf8).write(to: directory.appendingPathComponent("swagger-ui-bundle.js"))
        try Data(".swagger-ui { color: #333 }".utf8).write(to: directory.appendingPathComponent("swagger-ui.css"))
        try Data("secret".utf8).write(to: directory.appendingPathComponent("notes.txt"))
        try await withApp(environment: ["DOCS_ASSETS_DIR": directory.path]) { (app: TestApp) in
            let page = try await app.client.call(.get, "/docs")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("/docs/assets/swagger-ui-bundle.js") && page.text.contains("url: \"/openapi.yaml\""))
            let script = try await app.client.call(.get, "/docs/assets/swagger-ui-bundle.js")
            #expect(script.status == .ok && script.text == "window.SwaggerUIBundle = function () {};")
            #expect(script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            let style = try await app.client.call(.get, "/docs/assets/swagger-ui.css")
            #expect(style.status == .ok && style.headers[.contentType]?.hasPrefix("text/css") == true)
            // Only the page's own kinds of file, and never a path.
            #expect(try await app.client.call(.get, "/docs/assets/notes.txt").status == .notFound)
            #expect(try await app.client.call(.get, "/docs/assets/missing.js").status == .notFound)
            for path in ["/docs/assets/..%2F..%2Fetc%2Fpasswd", "/docs/assets/.hidden.js"] {
                let refused = try await app.client.call(.get, path)
                #expect([.badRequest, .notFound].contains(refused.status), "\(path): \(refused.status)")
                #expect(!refused.text.contains("root:"))
            }
        }
        // Without the files the page still answers and links to the raw contract.
        try await withApp { (app: TestApp) in
            let page = try await app.client.call(.get, "/docs")
            #expect(page.status == .ok && page.text.contains("href=\"/openapi.yaml\"") && !page.text.contains("swagger-ui-bundle.js\"></script>"))
        }
    }

    @Test("unknown routes are 404 problem+json with the request id; /v1 without a key is 401")
    func notFound() async throws {
        try await withApp { (client: any TestClientProtocol, _: PostgresPool, _: TestDatabase) in
            // Raw: no operation of the contract has these paths.
            try await client.execute(uri: "/v1/nothing-here", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/nothing-here", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(body?["status"] as? Int == 404)
                #expect(body?["type"] as? String == "https://crm.example/problems/not-found")
                #expect(body?["request_id"] as? String == response.headers[HTTPField.Name("X-Request-ID")!])
            }
        }
    }
}

@Suite("Configuration from the environment")
struct ConfigurationTests {
    @Test("defaults apply to every variable except DATABASE_URL")
    func defaults() throws {
        let configuration = try ServiceConfiguration(environment: ["DATABASE_URL": "postgresql://x/y"])
        #expect(configuration.port == 8080)
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.poolSize == 10)
        #expect(configuration.logFormat == .text)
        #expect(configuration.ioMode == .reactor)
        #expect(configuration.maxBodyBytes == 1_048_576)
    }

    @Test("a missing or malformed value names the variable")
    func errors() {
        #expect(throws: ConfigurationError(variable: "DATABASE_URL", problem: "is not set (required)")) {
            try ServiceConfiguration(environment: [:])
        }
        for (name, value) in [
            ("PORT", "eighty"), ("PORT", "70000"), ("LOG_LEVEL", "loud"), ("LOG_FORMAT", "xml"), ("DB_POOL_SIZE", "0"),
            ("DB_IO_MODE", "magic"), ("MAX_BODY_BYTES", "-1"), ("DB_POOL_MIN", "99"),
        ] {
            do {
                _ = try ServiceConfiguration(environment: ["DATABASE_URL": "postgresql://x/y", name: value])
                Issue.record("\(name)=\(value) should be refused")
            } catch let error as ConfigurationError {
                #expect(error.variable == name)
                #expect(error.description.contains(name))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test("the README lists every variable with its default")
    func readmeListsVariables() throws {
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md"), encoding: .utf8)
        for variable in ServiceConfiguration.variables {
            #expect(readme.contains("`\(variable.name)`"), "README does not list \(variable.name)")
            if let value = variable.defaultValue { #expect(readme.contains("`\(value)`"), "README lacks the default of \(variable.name)") }
        }
    }
}
