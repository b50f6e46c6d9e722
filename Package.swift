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

        .target(name: "HTTP", dependencies: ["CCurl"]),
        .target(name: "Dockerfile"),
        .target(name: "OCI", dependencies: ["COpenSSL"]),
        .target(name: "Layers", dependencies: ["OCI", "CArchive", "CZlib", "CZstd", "COpenSSL"]),
        .target(name: "Registry", dependencies: ["OCI", "HTTP"]),
        .target(name: "AWS", dependencies: ["HTTP", "OCI", "COpenSSL"]),
        .target(name: "Signing", dependencies: ["OCI", "COpenSSL"]),
        .target(name: "CSandbox"),
        .target(name: "Builder", dependencies: ["Dockerfile", "OCI", "Layers", "Registry", "HTTP", "CArchive", "COpenSSL", "CZlib", "CSandbox"]),
        .target(name: "Bake"),
        .target(name: "Publish", dependencies: ["Bake", "Builder", "Dockerfile", "Registry", "AWS", "Signing", "OCI", "Layers", "HTTP"]),
        .executableTarget(name: "slipway", dependencies: [
            "Publish", "Bake", "Builder", "OCI", "HTTP", "Registry", "Layers", "AWS", "Signing",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Shared by every test target (only test targets depend on it): the registry and moto
        // harness, fakes, fixtures, the process runner and the in-process build helper.
        .target(name: "TestSupport", dependencies: ["Builder", "Registry", "HTTP", "Layers", "OCI", "Dockerfile"], path: "Tests/Support"),
        .testTarget(name: "DockerfileTests", dependencies: ["Dockerfile", "TestSupport"]),
        .testTarget(name: "OCITests", dependencies: ["OCI", "TestSupport"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "OCI", "TestSupport"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "HTTP", "OCI", "TestSupport"]),
        .testTarget(name: "AWSTests", dependencies: ["AWS", "HTTP", "OCI", "TestSupport"]),
        .testTarget(name: "BuilderTests", dependencies: ["Builder", "Dockerfile", "OCI", "Layers", "HTTP", "TestSupport"]),
        .testTarget(name: "PublishTests", dependencies: ["Publish", "Builder", "Layers", "OCI", "AWS", "TestSupport"]),
        .testTarget(name: "SigningTests", dependencies: ["Signing", "OCI", "TestSupport"]),
        .testTarget(name: "BakeTests", dependencies: ["Bake", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["OCI", "HTTP", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
