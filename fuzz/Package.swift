// swift-tools-version:6.0
import PackageDescription

/// libFuzzer targets for slipway's parsers (issue 6, section 3). A separate package so that the
/// main build is untouched: `Sources/<Module>` here are symlinks to the main package's module
/// directories (SwiftPM refuses target paths outside the package root, but follows symlinks),
/// compiled again with coverage instrumentation and ASan. Build and run with `scripts/fuzz [SECONDS]`.
let package = Package(
    name: "slipway-fuzz",
    targets: [
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive"),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl"),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib"),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd"),
        .target(name: "HTTP", dependencies: ["CCurl"]),
        .target(name: "Dockerfile"),
        .target(name: "OCI", dependencies: ["COpenSSL"]),
        .target(name: "Layers", dependencies: ["OCI", "CArchive", "CZlib", "CZstd", "COpenSSL"]),
        .target(name: "Registry", dependencies: ["OCI", "HTTP"]),
        .target(name: "AWS", dependencies: ["HTTP", "OCI", "COpenSSL"]),
        .target(name: "Signing", dependencies: ["OCI", "COpenSSL"]),
        .target(name: "Bake"),

        .executableTarget(name: "fuzz-dockerfile", dependencies: ["Dockerfile"], path: "Targets/dockerfile"),
        .executableTarget(name: "fuzz-dockerignore", dependencies: ["Dockerfile"], path: "Targets/dockerignore"),
        .executableTarget(name: "fuzz-reference", dependencies: ["Registry"], path: "Targets/reference"),
        .executableTarget(name: "fuzz-www-authenticate", dependencies: ["Registry"], path: "Targets/www-authenticate"),
        .executableTarget(name: "fuzz-oci-json", dependencies: ["OCI"], path: "Targets/oci-json"),
        .executableTarget(name: "fuzz-aws-config", dependencies: ["AWS"], path: "Targets/aws-config"),
        .executableTarget(name: "fuzz-archive", dependencies: ["Layers"], path: "Targets/archive"),
        .executableTarget(name: "fuzz-bake", dependencies: ["Bake"], path: "Targets/bake"),
        .executableTarget(name: "fuzz-cosign-payload", dependencies: ["Signing", "OCI"], path: "Targets/cosign-payload"),
    ],
    swiftLanguageModes: [.v6]
)
