import Foundation
import TestSupport
import XCTest

/// A base image made by umoci (a tool we did not write) and passed as
/// `--build-context NAME=oci-layout://PATH:TAG`: its layers are kept byte for byte, its
/// config inherited as Docker does, its users used by --chown and its whiteouts applied.
final class BaseImageTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func makeBase() throws -> String {
        let base = work + "/base"
        try UmociImage.make(base + ":1", bundle: work + "/bundle",
                            files: ["etc/passwd": "root:x:0:0::/root:/bin/sh\nweb:x:33:44::/srv:/bin/sh\n", "etc/group": "root:x:0:\nwww:x:44:\n",
                                    "srv/old.txt": "old", "srv/keep.txt": "keep"],
                            removed: ["srv/old.txt"],
                            config: ["--config.env", "FOO=bar", "--config.cmd", "/bin/base-cmd", "--architecture", "amd64", "--os", "linux"])
        return base
    }

    func testBuildFromUmociBase() throws {
        let base = try makeBase()
        let context = work + "/ctx"
        try Run.write(["Dockerfile": """
            FROM base
            COPY --chown=web:www app.txt /srv/app.txt
            COPY --from=base /etc/passwd /copied-passwd
            ENTRYPOINT ["/srv/app"]
            """, "app.txt": "app"], under: context)
        let out = work + "/out"
        try Run.slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "--build-context", "base=oci-layout://\(base):1",
                         "--output", "type=oci,dest=\(out),tar=false", context])
        let baseManifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(base):1"]))
        let ours = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(out)"]))
        let baseLayers = try XCTUnwrap(baseManifest["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
        let ourLayers = try XCTUnwrap(ours["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
        XCTAssertEqual(Array(ourLayers.prefix(baseLayers.count)), baseLayers, "base layers are reused byte for byte")
        XCTAssertEqual(ourLayers.count, baseLayers.count + 2)
        let annotations = try XCTUnwrap(ours["annotations"] as? [String: String])
        XCTAssertEqual(annotations["org.opencontainers.image.base.name"], "base")
        XCTAssertNotNil(annotations["org.opencontainers.image.base.digest"])

        let config = try Run.json(Run.tool("skopeo", ["inspect", "--config", "oci:\(out)"]))
        let c = try XCTUnwrap(config["config"] as? [String: Any])
        XCTAssertTrue((c["Env"] as? [String] ?? []).contains("FOO=bar"), "ENV inherited from the base")
        XCTAssertNil(c["Cmd"], "a new ENTRYPOINT clears the inherited CMD")
        XCTAssertEqual(c["Entrypoint"] as? [String], ["/srv/app"])

        let listing = try Run.tool("bsdtar", ["-tvf", out + "/blobs/sha256/" + ourLayers[baseLayers.count].dropFirst(7), "--numeric-owner"])
        let line = try XCTUnwrap(listing.split(separator: "\n").first { $0.hasSuffix("srv/app.txt") })
        XCTAssertTrue(line.contains(" 33 ") && line.contains(" 44 "), "--chown by name from the base's /etc/passwd: \(line)")

        let bundle = work + "/unpacked"
        try UmociImage.unpack("oci:\(out)", layout: work + "/final", bundle: bundle)
        XCTAssertFalse(FileManager.default.fileExists(atPath: bundle + "/rootfs/srv/old.txt"), "the base's whiteout holds")
        XCTAssertTrue(FileManager.default.fileExists(atPath: bundle + "/rootfs/srv/keep.txt"))
        XCTAssertTrue(try String(contentsOfFile: bundle + "/rootfs/copied-passwd", encoding: .utf8).contains("web:x:33"))
    }

    func testMissingPlatformInBaseIsAClearError() throws {
        let base = try makeBase()
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM base\nCOPY a /a\n", "a": "a"], under: context)
        let output = try Run.command(Run.slipway, ["build", "--platform", "linux/arm64", "--build-context", "base=oci-layout://\(base):1", context])
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("arm64"), output.stderr)
    }
}
