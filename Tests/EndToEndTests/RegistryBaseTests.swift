import Foundation
import XCTest

/// `FROM REGISTRY/IMAGE`: a base made by umoci, published with skopeo to the TLS test
/// registry, built upon and pushed back, checked with skopeo.
final class RegistryBaseTests: XCTestCase {
    var work = ""
    var registry: TestRegistries.Settings!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        work = try Run.temporaryDirectory()
        registry = try TestRegistries.settings.get()
        env = ["DOCKER_CONFIG": work + "/docker", "SSL_CERT_FILE": registry.ca, "XDG_CACHE_HOME": work + "/cache"]
        let login = try Run.command(Run.slipway, ["login", registry.basic, "-u", registry.user, "--password-stdin"],
                                    environment: env, stdin: Data(registry.password.utf8))
        XCTAssertEqual(login.status, 0, login.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func publishBase() throws -> String {
        let base = work + "/base"
        let bundle = work + "/bundle"
        _ = try Run.tool("umoci", ["init", "--layout", base])
        _ = try Run.tool("umoci", ["new", "--image", base + ":1"])
        _ = try Run.tool("umoci", ["unpack", "--rootless", "--image", base + ":1", bundle])
        try Run.write(["etc/passwd": "root:x:0:0::/root:/bin/sh\nweb:x:33:44::/srv:/bin/sh\n", "etc/group": "www:x:44:\n",
                       "srv/base.txt": "from the base"], under: bundle + "/rootfs")
        _ = try Run.tool("umoci", ["repack", "--image", base + ":1", bundle])
        _ = try Run.tool("umoci", ["config", "--image", base + ":1", "--config.env", "BASE=yes", "--architecture", "amd64", "--os", "linux"])
        let reference = "\(registry.basic)/bases/tiny:\(UUID().uuidString.prefix(8).lowercased())"
        _ = try Run.tool("skopeo", ["copy", "--dest-cert-dir", registry.certsDir + "/" + registry.basic,
                                    "--dest-creds", "\(registry.user):\(registry.password)", "oci:\(base):1", "docker://\(reference)"])
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
        let creds = ["--cert-dir", registry.certsDir + "/" + registry.basic, "--creds", "\(registry.user):\(registry.password)"]
        let baseManifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw"] + creds + ["docker://\(base)"]))
        let derived = try Run.json(Run.tool("skopeo", ["inspect", "--raw"] + creds + ["docker://\(target)"]))
        let baseLayers = try XCTUnwrap(baseManifest["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
        let ourLayers = try XCTUnwrap(derived["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
        XCTAssertEqual(Array(ourLayers.prefix(baseLayers.count)), baseLayers, "base layers kept byte for byte")
        XCTAssertEqual(ourLayers.count, baseLayers.count + 1)
        let annotations = try XCTUnwrap(derived["annotations"] as? [String: String])
        XCTAssertEqual(annotations["org.opencontainers.image.base.name"], base)
        let baseDigest = "sha256:" + sha256(Data(try Run.tool("skopeo", ["inspect", "--raw"] + creds + ["docker://\(base)"]).utf8))
        XCTAssertEqual(annotations["org.opencontainers.image.base.digest"], baseDigest)
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
            let single = work + "/single-\(arch)"
            _ = try Run.tool("skopeo", ["copy", "--override-arch", arch, "oci:\(out):1", "oci:\(single):img"])
            let bundle = work + "/unpacked-\(arch)"
            _ = try Run.tool("umoci", ["unpack", "--rootless", "--image", "\(single):img", bundle])
            let rootfs = bundle + "/rootfs"
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
