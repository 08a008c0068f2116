// swift-tools-version:6.2
import PackageDescription

// Layers (each imports only what is below it; see docs/ARCHITECTURE.md):
//
//   crm (executable: CLI)
//    └─ CRMAPI            HTTP: Hummingbird routes generated from openapi.yaml, middleware
//        └─ CRMServices   domain services: use cases in transactions over repositories
//            ├─ CRMStore  repositories + migrations (SQL lives here)
//            └─ JobQueue  durable jobs on PostgreSQL: enqueue in a transaction, workers, schedules
//                └─ PostgresClient   libpq connection, pool, rows, LISTEN/NOTIFY
//                    └─ CLibPQ       system library over libpq-fe.h
//   CRMDomain: pure business rules and types (no I/O), used by every layer above the client.

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Test targets keep implicit member imports (test files import broadly).
let testSwiftSettings: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "dealer-crm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "crm", targets: ["crm"])
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
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        .systemLibrary(name: "CEpoll"),
        .target(
            name: "PostgresClient",
            dependencies: [
                "CLibPQ",
                "CEpoll",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
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
        .target(
            name: "CRMAPI",
            dependencies: [
                "CRMServices",
                "JobQueue",
                "CRMStore",
                "CRMDomain",
                "PostgresClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("openapi.yaml")],
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .executableTarget(
            name: "crm",
            dependencies: [
                "CRMAPI",
                "CRMServices",
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
            dependencies: ["CRMDomain"],
            swiftSettings: testSwiftSettings
        ),
        .testTarget(
            name: "CRMAPITests",
            dependencies: [
                "CRMAPI", "CRMServices", "CRMStore", "JobQueue", "PostgresClient", "CRMTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: testSwiftSettings
        ),
    ]
)
