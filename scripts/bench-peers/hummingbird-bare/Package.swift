// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "hummingbird-bare",
    platforms: [.macOS(.v14)],
    dependencies: [.package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1")],
    targets: [.executableTarget(name: "hummingbird-bare", dependencies: [.product(name: "Hummingbird", package: "hummingbird")])]
)
