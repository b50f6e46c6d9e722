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
        .target(name: "Builder", dependencies: ["Dockerfile", "OCI", "Layers", "Registry", "HTTP", "CArchive"]),
        .target(name: "Publish", dependencies: ["Builder", "Dockerfile", "Registry", "AWS", "OCI", "Layers", "HTTP"]),
        .executableTarget(name: "slipway", dependencies: [
            "Publish", "Builder", "OCI", "HTTP", "Registry", "Layers", "AWS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "DockerfileTests", dependencies: ["Dockerfile"]),
        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "OCI"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "HTTP", "OCI"]),
        .testTarget(name: "AWSTests", dependencies: ["AWS", "HTTP", "OCI"]),
        .testTarget(name: "BuilderTests", dependencies: ["Builder", "Dockerfile", "OCI", "Layers", "HTTP"]),
        .testTarget(name: "PublishTests", dependencies: ["Publish", "Builder", "Layers", "OCI", "AWS"]),
        .testTarget(name: "EndToEndTests", dependencies: ["OCI"]),
    ],
    swiftLanguageModes: [.v6]
)
