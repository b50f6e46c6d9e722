@testable import Builder
import Foundation
import OCI
import TestSupport
import XCTest

/// A busybox base image for several platforms, each from Debian's `busybox-static` binary of
/// that architecture: the host's installed one (/bin/busybox) and, on amd64, arm64's from the
/// package scripts/setup-emulation downloads (`apt-get download busybox-static:arm64`).
enum BusyboxPlatforms {
    static var cache: String { ProcessInfo.processInfo.environment["SLIPWAY_TEST_CACHE"] ?? "/var/cache/slipway-test" }
    static let applets = ["sh", "echo", "cat", "uname", "env", "sleep", "true"]

    /// The host's own busybox, or the downloaded one of another architecture.
    static func binary(_ architecture: String) -> String {
        architecture == Platform.host.architecture ? BusyboxBase.binary : cache + "/busybox-\(architecture)"
    }

    /// Skips (fails under `SLIPWAY_TEST_REQUIRE_REGISTRY=1`, as CI runs, where scripts/setup
    /// must have registered the emulator) unless RUN can execute `platform` here and its
    /// busybox binary is present.
    static func require(_ platform: String) throws {
        let parsed = try Platform(parsing: platform)
        var missing: String?
        if let problem = RunPlatform.problem(parsed) {
            missing = "\(problem) (bash scripts/setup registers qemu-aarch64)"
        } else if !FileManager.default.isExecutableFile(atPath: binary(parsed.architecture)) {
            missing = "no busybox-static binary for \(platform) at \(binary(parsed.architecture)); bash scripts/setup fetches it"
        }
        guard let missing else { return }
        if ProcessInfo.processInfo.environment["SLIPWAY_TEST_REQUIRE_REGISTRY"] == "1" { throw TestError(missing) }
        throw XCTSkip(missing)
    }

    /// An OCI layout whose index has one image per platform: /bin/busybox of that
    /// architecture, the applets as symlinks, /tmp. Keep the fixture alive while it is used.
    static func layout(_ platforms: [String]) async throws -> (BuildFixture, String) {
        let fixture = try BuildFixture(files: ["common/etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"])
        for platform in platforms {
            let architecture = try Platform(parsing: platform).architecture
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: binary(architecture))))
            chmod(try fixture.write("rootfs-\(architecture)/bin/busybox", bytes), 0o755)
            for applet in applets {
                try FileManager.default.createSymbolicLink(atPath: fixture.context + "/rootfs-\(architecture)/bin/" + applet, withDestinationPath: "busybox")
            }
        }
        try FileManager.default.createDirectory(atPath: fixture.context + "/common/tmp", withIntermediateDirectories: true)
        chmod(fixture.context + "/common/tmp", 0o1777)
        let image = try await fixture.build("FROM scratch\nARG TARGETARCH\nCOPY common/ /\nCOPY rootfs-$TARGETARCH/ /\n", platforms: platforms)
        let layout = fixture.directory.path + "/layout"
        try Exporter.export(image.result, to: .oci(destination: layout, tar: false), tags: [], sourceDateEpoch: 0)
        return (fixture, layout)
    }
}

extension BuiltImage {
    /// A file's bytes from one layer blob as `bsdtar -xO` extracts them (an independent reader).
    func bsdtarText(_ name: String, layer: Int, image: Int = 0) throws -> String {
        let blob = store.blobURL(result.images[image].layers[layer].digest).path
        return try Run.tool("bsdtar", ["-xOf", blob, name])
    }
}
