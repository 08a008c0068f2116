import Foundation

/// `GET /docs`: the contract rendered for people by Swagger UI, whose files the scripts install
/// from PyPI (none are committed) and the server reads once at start from `DOCS_ASSETS_DIR`.
/// Without them the page says so and links to the raw contract.
struct DocsPage: Sendable {
    enum AssetKind: Sendable { case javascript, css, png }

    struct Asset: Sendable {
        var kind: AssetKind
        var bytes: [UInt8]
    }

    /// The files served under `/docs/assets/`, by name.
    let assets: [String: Asset]

    /// Reads the `.js`, `.css` and `.png` files of `assetsDirectory` (not its subfolders).
    init(assetsDirectory: String?) {
        var assets: [String: Asset] = [:]
        if let assetsDirectory, let names = try? FileManager.default.contentsOfDirectory(atPath: assetsDirectory) {
            for name in names where Self.isAssetName(name) {
                let kind: AssetKind
                switch (name as NSString).pathExtension {
                case "js": kind = .javascript
                case "css": kind = .css
                case "png": kind = .png
                default: continue
                }
                guard let data = FileManager.default.contents(atPath: assetsDirectory + "/" + name) else { continue }
                assets[name] = Asset(kind: kind, bytes: [UInt8](data))
            }
        }
        self.assets = assets
    }

    /// A plain file name: letters, digits, `.`, `_` and `-`, not starting with a dot.
    static func isAssetName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first != ".", name.unicodeScalars.count <= 100 else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
    }

    /// Whether Swagger UI is there to render the contract.
    var hasSwaggerUI: Bool { assets["swagger-ui-bundle.js"] != nil && assets["swagger-ui.css"] != nil }

    /// The page.
    var html: String {
        guard hasSwaggerUI else {
            return """
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>Dealer CRM API</title></head>
                <body>
                <h1>Dealer CRM API</h1>
                <p>The contract: <a href="/openapi.yaml">/openapi.yaml</a> (OpenAPI 3.1).</p>
                <p>Swagger UI is not installed on this server, so it cannot be rendered here: point
                <code>DOCS_ASSETS_DIR</code> at a directory holding <code>swagger-ui-bundle.js</code> and
                <code>swagger-ui.css</code> (<code>scripts/run</code> installs them from PyPI).</p>
                </body></html>

                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Dealer CRM API</title>
            <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
            </head>
            <body>
            <div id="swagger-ui"></div>
            <script src="/docs/assets/swagger-ui-bundle.js"></script>
            <script>
            window.ui = SwaggerUIBundle({ url: "/openapi.yaml", dom_id: "#swagger-ui", deepLinking: true, defaultModelsExpandDepth: 0 });
            </script>
            </body></html>

            """
    }
}
