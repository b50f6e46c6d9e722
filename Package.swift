// swift-tools-version:6.0
import PackageDescription

/// Slipway: a daemonless, reproducible, multi-platform OCI image builder and pusher.
/// The four C libraries come from Debian through pkg-config; the only Swift package is
/// swift-argument-parser (see README "Dependencies").
let package = Package(
    name: "slipway",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "slipway", targets: ["slipway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        .target(name: "Dockerfile"),
        .target(name: "OCI", dependencies: ["COpenSSL"]),
        .target(name: "Layers", dependencies: ["OCI", "CArchive", "CZlib", "CZstd", "COpenSSL"]),
        .target(name: "Registry", dependencies: ["OCI", "CCurl"]),
        .target(name: "AWS", dependencies: ["OCI", "Registry", "COpenSSL"]),
        .target(name: "Builder", dependencies: ["Dockerfile", "OCI", "Layers", "Registry", "CArchive", "CCurl"]),
        .executableTarget(name: "slipway", dependencies: [
            "Builder", "OCI", "Registry", "Layers", "AWS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Shared by every test target (only test targets depend on it): the registry and moto
        // harness, fakes, fixtures, the process runner and the in-process build helper.
        .target(name: "TestSupport", dependencies: ["Builder", "Registry", "Layers", "OCI", "Dockerfile"], path: "Tests/Support"),
        .testTarget(name: "DockerfileTests", dependencies: ["Dockerfile", "TestSupport"]),
        .testTarget(name: "OCITests", dependencies: ["OCI", "TestSupport"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "OCI", "TestSupport"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "OCI", "TestSupport"]),
        .testTarget(name: "AWSTests", dependencies: ["AWS", "Registry", "OCI", "TestSupport"]),
        .testTarget(name: "BuilderTests", dependencies: ["Builder", "Dockerfile", "OCI", "Layers", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["OCI", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
