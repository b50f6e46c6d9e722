import Foundation
import TestSupport
import XCTest

/// `FROM REGISTRY/IMAGE`: a base made by umoci, published with skopeo to the TLS test
/// registry, built upon and pushed back, checked with skopeo.
final class RegistryBaseTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        let login = try registry.login(registry.basic, environment: env)
        XCTAssertEqual(login.status, 0, login.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func publishBase() throws -> String {
        let base = work + "/base"
        try UmociImage.make(base + ":1", bundle: work + "/bundle",
                            files: ["etc/passwd": "root:x:0:0::/root:/bin/sh\nweb:x:33:44::/srv:/bin/sh\n", "etc/group": "www:x:44:\n",
                                    "srv/base.txt": "from the base"],
                            config: ["--config.env", "BASE=yes", "--architecture", "amd64", "--os", "linux"])
        let reference = "\(registry.basic)/bases/tiny:\(UUID().uuidString.prefix(8).lowercased())"
        _ = try registry.skopeo(["copy"] + registry.skopeoAuth(registry.basic, prefix: "dest-") + ["oci:\(base):1", "docker://\(reference)"])
        return reference
    }

    func testBuildFromARegistryBaseAndPush() throws {
        let base = try publishBase()
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM \(base)\nCOPY --chown=web:www app.txt /srv/app.txt\nCMD [\"/srv/app\"]\n", "app.txt": "app"], under: context)
        let target = "\(registry.basic)/e2e/derived:1"
        let output = try Run.command(Run.slipway, ["build", "--platform", "linux/amd64", "-t", target, "--push", "--progress", "plain", context],
                                     environment: env)
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertTrue(output.stderr.contains("mounted from"), "base layers are mounted, not re-uploaded: \(output.stderr)")
        let blobs = work + "/cache/slipway/store/blobs/sha256"
        let cachedBefore = Set(try FileManager.default.contentsOfDirectory(atPath: blobs))
        let again = try Run.command(Run.slipway, ["build", "--platform", "linux/amd64", "-t", target, "--push", "--progress", "plain", context],
                                    environment: env)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("0 blobs uploaded"), again.stderr)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: blobs)), cachedBefore, "a second build downloads nothing new")
        let creds = registry.skopeoAuth(registry.basic)
        let baseManifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw"] + creds + ["docker://\(base)"]))
        let derived = try Run.json(Run.tool("skopeo", ["inspect", "--raw"] + creds + ["docker://\(target)"]))
        let baseLayers = try XCTUnwrap(baseManifest["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
        let ourLayers = try XCTUnwrap(derived["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
        XCTAssertEqual(Array(ourLayers.prefix(baseLayers.count)), baseLayers, "base layers kept byte for byte")
        XCTAssertEqual(ourLayers.count, baseLayers.count + 1)
        let annotations = try XCTUnwrap(derived["annotations"] as? [String: String])
        XCTAssertEqual(annotations["org.opencontainers.image.base.name"], base)
        XCTAssertEqual(annotations["org.opencontainers.image.base.digest"], try registry.servedDigest(base, host: registry.basic))
        let config = try Run.json(Run.tool("skopeo", ["inspect", "--config", "--raw"] + creds + ["docker://\(target)"]))
        let c = try XCTUnwrap(config["config"] as? [String: Any])
        XCTAssertTrue((c["Env"] as? [String] ?? []).contains("BASE=yes"))
        XCTAssertEqual(c["Cmd"] as? [String], ["/srv/app"])
    }

    /// Two platforms FROM a multi-platform index (umoci images, pushed by skopeo --all), with
    /// COPY --from=IMAGE, --chown by name and the base's whiteout; unpacked with umoci.
    func testTwoPlatformsFromARegistryIndexWithCopyFromImage() throws {
        let images = try PullTestImages.make(in: work, marker: "registry-base-\(UUID().uuidString)")
        let base = "\(registry.basic)/bases/multi:\(UUID().uuidString.prefix(8).lowercased())"
        try images.pushIndex(to: base, host: registry.basic, registry: registry)
        let context = work + "/ctx"
        try Run.write(["Dockerfile": """
            FROM \(base)
            COPY --chown=web:www app.txt /srv/app.txt
            COPY --from=\(base) /bin/tool /copied-tool
            """, "app.txt": "app"], under: context)
        let out = work + "/layout"
        let output = try Run.command(Run.slipway, ["build", "--platform", "linux/amd64,linux/arm64", "--progress", "quiet",
                                                   "--output", "type=oci,dest=\(out),tar=false", "-t", "derived:1", context], environment: env)
        XCTAssertEqual(output.status, 0, output.stderr)
        for arch in ["amd64", "arm64"] {
            let rootfs = try UmociImage.unpack("oci:\(out):1", arch: arch, layout: work + "/single-\(arch)", bundle: work + "/unpacked-\(arch)")
            XCTAssertEqual(try String(contentsOfFile: rootfs + "/copied-tool", encoding: .utf8), "#!/bin/sh\necho \(arch)\n",
                           "COPY --from=IMAGE takes the same platform's file")
            XCTAssertEqual(try String(contentsOfFile: rootfs + "/srv/app.txt", encoding: .utf8), "app")
            XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/srv/old.txt"), "the base's whiteout holds")
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: rootfs + "/bin/sh"), "tool")
            let config = try Run.json(Run.tool("skopeo", ["inspect", "--config", "--raw", "--override-arch", arch, "oci:\(out):1"]))
            XCTAssertTrue(((config["config"] as? [String: Any])?["Env"] as? [String] ?? []).contains("BASE=\(arch)"))
        }
        let manifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(work)/single-arm64:img"]))
        let layers = try XCTUnwrap(manifest["layers"] as? [[String: Any]])
        let ours = try XCTUnwrap(layers[layers.count - 2]["digest"] as? String)
        let listing = try Run.tool("bsdtar", ["-tvf", work + "/single-arm64/blobs/sha256/" + ours.dropFirst(7), "--numeric-owner"])
        let line = try XCTUnwrap(listing.split(separator: "\n").first { $0.hasSuffix("srv/app.txt") })
        XCTAssertTrue(line.contains(" 33 ") && line.contains(" 44 "), "--chown=web:www from the base's /etc/passwd: \(line)")
    }

    func testMissingPlatformFailsBeforeAnyWork() throws {
        let base = try publishBase()
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM \(base)\nCOPY a /a\n", "a": "a"], under: context)
        let output = try Run.command(Run.slipway, ["build", "--platform", "linux/arm64", "--progress", "quiet", context], environment: env)
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("Dockerfile:1:") && output.stderr.contains("arm64") && output.stderr.contains("amd64"), output.stderr)
    }
}
