// swift-tools-version:6.2
import PackageDescription

// Layers (each imports only what is below it; see docs/ARCHITECTURE.md). `scripts/test` builds
// with `--explicit-target-dependency-import-check error`, so a target that imports a module it
// does not list below fails to build: the HTTP layer cannot reach the repositories or libpq.
//
//   crm (executable: CLI)
//    └─ CRMApp              the process: configuration, wiring, the server and the worker
//        ├─ CRMAPI          HTTP: Hummingbird routes generated from openapi.yaml, middleware
//        │   └─ CRMContract the contract's generated types (shared with CRMClient)
//        └─ CRMServices     domain services: use cases in transactions over repositories
//            ├─ CRMStore    repositories + migrations (SQL lives here)
//            └─ JobQueue    durable jobs on PostgreSQL: enqueue in a transaction, workers, schedules
//                └─ PostgresClient   libpq connection, pool, rows, LISTEN/NOTIFY
//                    └─ CLibPQ       system library over libpq-fe.h
//   CRMDomain: pure business rules and types (no I/O), used by every layer above the client.
//   CRMClient: a typed Swift client generated from the same contract, for integrators (and the
//   API tests).

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Targets made of generated code keep the compiler's default import visibility (the generator
/// writes `public import` lines the upcoming feature would flag in every file).
let generatedSwiftSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

/// Test targets keep implicit member imports (test files import broadly).
let testSwiftSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "dealer-crm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "crm", targets: ["crm"]),
        .library(name: "CRMClient", targets: ["CRMClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-openapi-generator.git", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime.git", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Tests only: random values for the JSON writer's differential test.
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .systemLibrary(name: "CEpoll"),
        .target(name: "CanonicalUUID", swiftSettings: swiftSettings),
        .target(
            name: "PostgresClient",
            dependencies: [
                "CLibPQ",
                "CEpoll",
                "CanonicalUUID",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CRMDomain",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CRMStore",
            dependencies: [
                "PostgresClient",
                "CRMDomain",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Migrations/SQL")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "JobQueue",
            dependencies: [
                "PostgresClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CRMServices",
            dependencies: [
                "CRMStore",
                "JobQueue",
                "CRMDomain",
                "PostgresClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The contract (openapi.yaml, also served at /openapi.yaml) and the types generated from it.
        .target(
            name: "CRMContract",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            resources: [.copy("openapi.yaml")],
            swiftSettings: generatedSwiftSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "CRMAPI",
            dependencies: [
                "CRMServices",
                "CRMDomain",
                "CRMContract",
                "JobQueue",
                "CanonicalUUID",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .target(
            name: "CRMApp",
            dependencies: [
                "CRMAPI",
                "CRMServices",
                "CRMStore",
                "CRMDomain",
                "JobQueue",
                "PostgresClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // A typed client generated from openapi.yaml, for Swift integrators and the API tests.
        .target(
            name: "CRMClient",
            dependencies: [
                "CRMContract",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ],
            swiftSettings: generatedSwiftSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .executableTarget(
            name: "crm",
            dependencies: [
                "CRMApp",
                "CRMAPI",
                "CRMServices",
                "CRMDomain",
                "JobQueue",
                "CRMStore",
                "PostgresClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Shared by the test targets: per-test databases cloned from a migrated template.
        .target(
            name: "CRMTestSupport",
            dependencies: [
                "PostgresClient", "CRMStore",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        // Load generators used by scripts/bench.
        .executableTarget(
            name: "crm-bench",
            dependencies: [
                "PostgresClient",
                "JobQueue",
                "CRMDomain",
                "CRMServices",
                "CRMAPI",
                "CRMContract",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PostgresClientTests",
            dependencies: ["PostgresClient", "CRMStore", "CRMTestSupport"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "JobQueueTests",
            dependencies: ["JobQueue", "PostgresClient", "CRMStore", "CRMTestSupport"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "CRMDomainTests",
            dependencies: ["CRMDomain", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "CRMAPITests",
            dependencies: [
                "CRMApp", "CRMAPI", "CRMClient", "CRMContract", "CRMServices", "CRMStore", "CRMDomain", "JobQueue",
                "PostgresClient", "CRMTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: testSwiftSettings
        ),
    ]
)
