import Foundation
import TestSupport
import XCTest

/// The README's main job, checked with tools we did not write: skopeo reads the layout and
/// the configs, umoci unpacks each platform's file system.
final class ExampleBuildTests: XCTestCase {
    var work = ""
    var layout: String { work + "/layout" }

    override func setUpWithError() throws {
        work = try Run.temporaryDirectory()
        try Run.slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", "example.com/hello:1.0.0",
                         "--output", "type=oci,dest=\(layout),tar=false", "--progress", "quiet",
                         "--metadata-file", work + "/metadata.json", "--iidfile", work + "/iid",
                         Run.repositoryRoot.path + "/testdata/example"])
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: work)
    }

    func testIndexListsBothPlatformsAndMetadataMatches() throws {
        let raw = try Run.tool("skopeo", ["inspect", "--raw", "oci:\(layout):1.0.0"])
        let index = try Run.json(raw)
        XCTAssertEqual(index["mediaType"] as? String, "application/vnd.oci.image.index.v1+json")
        let manifests = try XCTUnwrap(index["manifests"] as? [[String: Any]])
        let platforms = manifests.compactMap { ($0["platform"] as? [String: Any]).map { "\($0["os"]!)/\($0["architecture"]!)" } }
        XCTAssertEqual(platforms.sorted(), ["linux/amd64", "linux/arm64"])

        let indexDigest = "sha256:" + sha256(Data(raw.utf8))
        let iid = try String(contentsOfFile: work + "/iid", encoding: .utf8)
        XCTAssertEqual(iid, indexDigest, "--iidfile must hold the digest of the index skopeo reads")
        let metadata = try Run.json(String(contentsOfFile: work + "/metadata.json", encoding: .utf8))
        XCTAssertEqual(metadata["containerimage.digest"] as? String, indexDigest)
        let descriptor = try XCTUnwrap(metadata["containerimage.descriptor"] as? [String: Any])
        XCTAssertEqual(descriptor["digest"] as? String, indexDigest)
        XCTAssertEqual(descriptor["size"] as? Int, raw.utf8.count)
        let perPlatform = try XCTUnwrap(metadata["slipway.platforms"] as? [[String: Any]])
        XCTAssertEqual(Set(perPlatform.compactMap { $0["manifest"] as? String }), Set(manifests.compactMap { $0["digest"] as? String }))
    }

    func testConfigOfEachPlatform() throws {
        for arch in ["amd64", "arm64"] {
            let config = try Run.json(Run.tool("skopeo", ["inspect", "--config", "--raw", "--override-arch", arch, "oci:\(layout):1.0.0"]))
            XCTAssertEqual(config["architecture"] as? String, arch)
            XCTAssertEqual(config["os"] as? String, "linux")
            XCTAssertEqual(config["created"] as? String, "1970-01-01T00:00:00Z")
            let c = try XCTUnwrap(config["config"] as? [String: Any])
            XCTAssertEqual(c["Entrypoint"] as? [String], ["/usr/local/bin/hello"])
            XCTAssertEqual(c["Cmd"] as? [String], ["--serve", "--port=8080"])
            XCTAssertEqual(c["User"] as? String, "app")
            XCTAssertEqual(c["WorkingDir"] as? String, "/app")
            XCTAssertEqual(c["StopSignal"] as? String, "SIGTERM")
            XCTAssertEqual((c["ExposedPorts"] as? [String: Any]).map { Set($0.keys) }, ["8080/tcp", "9090/tcp"])
            XCTAssertEqual((c["Volumes"] as? [String: Any]).map { Array($0.keys) }, ["/app/data"])
            let env = try XCTUnwrap(c["Env"] as? [String])
            XCTAssertTrue(env.contains("APP_HOME=/app"), "\(env)")
            XCTAssertTrue(env.contains("GREETING=hello world"), "\(env)")
            XCTAssertTrue(env.contains { $0.hasPrefix("PATH=") }, "\(env)")
            let labels = try XCTUnwrap(c["Labels"] as? [String: String])
            XCTAssertEqual(labels["org.opencontainers.image.version"], "1.0.0")
            XCTAssertEqual(labels["org.opencontainers.image.title"], "hello")
            let health = try XCTUnwrap(c["Healthcheck"] as? [String: Any])
            XCTAssertEqual(health["Test"] as? [String], ["CMD", "/usr/local/bin/hello", "--health"])
            XCTAssertEqual(health["Interval"] as? Int, 30_000_000_000)
            XCTAssertEqual(health["Timeout"] as? Int, 3_000_000_000)
            XCTAssertEqual(health["Retries"] as? Int, 3)
            let rootfs = try XCTUnwrap(config["rootfs"] as? [String: Any])
            let diffIDs = try XCTUnwrap(rootfs["diff_ids"] as? [String])
            let history = try XCTUnwrap(config["history"] as? [[String: Any]])
            XCTAssertEqual(history.filter { ($0["empty_layer"] as? Bool) != true }.count, diffIDs.count,
                           "every non-empty history entry has a layer")
        }
    }

    func testFileTreeOfEachPlatformWithUmoci() throws {
        for arch in ["amd64", "arm64"] {
            let rootfs = try UmociImage.unpack("oci:\(layout):1.0.0", arch: arch, layout: work + "/single-\(arch)", bundle: work + "/bundle-\(arch)")
            let hello = try String(contentsOfFile: rootfs + "/usr/local/bin/hello", encoding: .utf8)
            XCTAssertTrue(hello.contains("hello from \(arch)"), "per-platform COPY by $TARGETARCH")
            XCTAssertEqual(try permissions(rootfs + "/usr/local/bin/hello"), 0o755)
            XCTAssertEqual(try String(contentsOfFile: rootfs + "/etc/hello.conf", encoding: .utf8), "arch=\(arch)\nversion=1.0.0\n")
            XCTAssertEqual(try permissions(rootfs + "/app/config/app.ini"), 0o640, "--chmod")
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: rootfs + "/app/static/default.html"), "index.html")
            XCTAssertTrue(FileManager.default.fileExists(atPath: rootfs + "/app/static/css/site.css"))
            XCTAssertTrue(FileManager.default.fileExists(atPath: rootfs + "/app/config/app.ini"))
            XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/app/notes"))
        }
    }

    func testOwnersAndTarMetadataWithBsdtar() throws {
        // umoci --rootless maps owners away, so read the layer tar headers directly.
        let single = work + "/single"
        _ = try Run.tool("skopeo", ["copy", "--override-arch", "arm64", "oci:\(layout):1.0.0", "oci:\(single):img"])
        let manifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(single):img"]))
        let layers = try XCTUnwrap(manifest["layers"] as? [[String: Any]])
        var listing = ""
        for layer in layers {
            let digest = try XCTUnwrap(layer["digest"] as? String).replacingOccurrences(of: "sha256:", with: "")
            listing += try Run.tool("bsdtar", ["-tvf", "\(single)/blobs/sha256/\(digest)", "--numeric-owner"])
        }
        let configLine = try XCTUnwrap(listing.split(separator: "\n").first { $0.hasSuffix("app/config/app.ini") })
        XCTAssertTrue(configLine.contains(" 1000 ") && configLine.contains("1000"), "--chown=app:app resolved from /etc/passwd: \(configLine)")
        let helloLine = try XCTUnwrap(listing.split(separator: "\n").first { $0.hasSuffix("usr/local/bin/hello") })
        XCTAssertTrue(helloLine.contains(" 0 ") && helloLine.contains("1970"), "root-owned, mtime = epoch 0: \(helloLine)")
    }

    private func permissions(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o7777
    }
}
