import Foundation
import TestSupport
import XCTest

/// Outputs other tools accept, and the COPY/ADD semantics a Dockerfile author relies on,
/// each checked through the exported file system.
final class OutputAndInstructionTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Builds `dockerfile` in a context with `files` to a local directory and returns it.
    private func buildLocal(_ dockerfile: String, files: [String: String], extra: [String] = []) throws -> String {
        let context = work + "/ctx"
        try Run.write(files.merging(["Dockerfile": dockerfile]) { a, _ in a }, under: context)
        let out = work + "/out"
        try Run.slipway(["build", "--progress", "quiet", "--output", "type=local,dest=\(out)"] + extra + [context])
        return out
    }

    private func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func testDockerArchiveIsReadableAsDockerArchive() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a /a\nCMD [\"/a\"]\n", "a": "x"], under: context)
        let archive = work + "/app.tar"
        try Run.slipway(["build", "--progress", "quiet", "-t", "app:dev", "--output", "type=docker,dest=\(archive)", context])
        let inspect = try Run.json(Run.tool("skopeo", ["inspect", "docker-archive:\(archive)"]))
        XCTAssertEqual(inspect["RepoTags"] as? [String], [], "skopeo lists tags only for registries; the archive loads")
        let listing = try Run.tool("bsdtar", ["-tf", archive])
        XCTAssertTrue(listing.contains("manifest.json") && listing.contains("index.json"), listing)
        _ = try Run.tool("bsdtar", ["-xf", archive, "-C", work, "manifest.json"])
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: work + "/manifest.json"))) as? [[String: Any]]
        XCTAssertEqual(manifest?.first?["RepoTags"] as? [String], ["app:dev"])
        _ = try Run.tool("skopeo", ["copy", "docker-archive:\(archive)", "dir:\(work)/copied"])
    }

    func testDockerArchiveRefusesSeveralPlatforms() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a /a\n", "a": "x"], under: context)
        let output = try Run.command(Run.slipway, ["build", "--platform", "linux/amd64,linux/arm64", "--output", "type=docker,dest=\(work)/x.tar", context])
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("one platform"), output.stderr)
    }

    func testLocalOutputHasOneDirectoryPerPlatform() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nARG TARGETARCH\nCOPY $TARGETARCH.txt /arch.txt\n", "amd64.txt": "A", "arm64.txt": "B"], under: context)
        let out = work + "/out"
        try Run.slipway(["build", "--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "--output", "type=local,dest=\(out)", context])
        XCTAssertEqual(try read(out + "/linux_amd64/arch.txt"), "A")
        XCTAssertEqual(try read(out + "/linux_arm64/arch.txt"), "B")
    }

    func testCopySemantics() throws {
        let out = try buildLocal("""
            FROM scratch
            COPY dir /contents/
            COPY dir/sub/*.txt /globbed/
            COPY one.txt /renamed.txt
            COPY one.txt /existing-dir-target/
            COPY --parents dir/sub/deep.txt /parents/
            COPY --exclude=*.log dir /excluded/
            WORKDIR /work
            COPY one.txt relative.txt
            """, files: ["dir/top.txt": "top", "dir/sub/a.txt": "a", "dir/sub/b.txt": "b", "dir/sub/deep.txt": "deep",
                         "dir/noise.log": "log", "one.txt": "1"])
        XCTAssertEqual(try read(out + "/contents/top.txt"), "top", "a directory source copies its contents")
        XCTAssertEqual(try read(out + "/contents/sub/a.txt"), "a")
        XCTAssertEqual(try read(out + "/globbed/a.txt"), "a")
        XCTAssertEqual(try read(out + "/globbed/b.txt"), "b")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/globbed/deep.txt") == false)
        XCTAssertEqual(try read(out + "/renamed.txt"), "1")
        XCTAssertEqual(try read(out + "/existing-dir-target/one.txt"), "1")
        XCTAssertEqual(try read(out + "/parents/dir/sub/deep.txt"), "deep")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/excluded/noise.log"))
        XCTAssertEqual(try read(out + "/excluded/top.txt"), "top")
        XCTAssertEqual(try read(out + "/work/relative.txt"), "1", "relative destination resolves against WORKDIR")
    }

    func testDockerignoreAppliesToCopyDot() throws {
        let out = try buildLocal("FROM scratch\nCOPY . /app\n", files: [
            ".dockerignore": "*.log\nsecret/\n!secret/keep.txt\n", "a.txt": "a", "x.log": "x", "secret/key": "k", "secret/keep.txt": "kept"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/app/a.txt"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/app/x.log"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/app/secret/key"))
        XCTAssertEqual(try read(out + "/app/secret/keep.txt"), "kept", "an exception re-includes a file under an excluded directory")
    }

    func testAddExtractsLocalArchives() throws {
        let context = work + "/ctx"
        try Run.write(["payload/hello.txt": "hi", "payload/nested/deep.txt": "deep"], under: work + "/src")
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        _ = try Run.tool("bsdtar", ["-czf", context + "/bundle.tar.gz", "-C", work + "/src", "payload"])
        _ = try Run.tool("bsdtar", ["-cJf", context + "/bundle.tar.xz", "-C", work + "/src", "payload"])
        try Run.write(["plain.txt": "plain"], under: context)
        let out = try buildLocal("FROM scratch\nADD bundle.tar.gz /gz/\nADD bundle.tar.xz /xz\nADD plain.txt /plain/\n", files: [:])
        XCTAssertEqual(try read(out + "/gz/payload/hello.txt"), "hi")
        XCTAssertEqual(try read(out + "/xz/payload/nested/deep.txt"), "deep")
        XCTAssertEqual(try read(out + "/plain/plain.txt"), "plain")
    }

    func testAddFromHTTPWithChecksum() throws {
        let server = try TestHTTPServer.start("""
            def do_GET(self):
                self.send(200, b"downloaded") if self.path == "/file.txt" else self.send(404, b"")
            """)
        defer { server.stop() }
        let port = server.port
        let digest = "sha256:" + sha256(Data("downloaded".utf8))
        let out = try buildLocal("FROM scratch\nADD --checksum=\(digest) http://127.0.0.1:\(port)/file.txt /dl/\n", files: [:])
        XCTAssertEqual(try read(out + "/dl/file.txt"), "downloaded")
        let mode = (try FileManager.default.attributesOfItem(atPath: out + "/dl/file.txt")[.posixPermissions] as? Int) ?? 0
        XCTAssertEqual(mode & 0o777, 0o600, "ADD from a URL gives 0600, as Docker does")

        let context = work + "/ctx2"
        let wrong = "sha256:" + String(repeating: "0", count: 64)
        try Run.write(["Dockerfile": "FROM scratch\nADD --checksum=\(wrong) http://127.0.0.1:\(port)/file.txt /dl/\n"], under: context)
        let failed = try Run.command(Run.slipway, ["build", "--progress", "quiet", context])
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.stderr.contains("checksum mismatch"), failed.stderr)
    }

    /// ADD downloads share the registry client's HTTP settings: `SLIPWAY_CONNECT_TO` routes a
    /// name to the test registry and `SSL_CERT_FILE` trusts its CA; without the CA, TLS fails.
    func testAddFromHTTPSUsesTheRegistryTransportSettings() throws {
        let registry = try TestRegistries.get()
        let port = registry.basic.split(separator: ":").last.map(String.init) ?? ""
        let host = "registry.slipway.test:\(port)"
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nADD https://\(host)/ /root\n"], under: context)
        let arguments = ["build", "--progress", "quiet", "--output", "type=local,dest=\(work)/out", context]
        let routed = ["SLIPWAY_CONNECT_TO": "\(host):127.0.0.1:\(port)", "HOME": work]
        let built = try Run.command(Run.slipway, arguments, environment: routed.merging(["SSL_CERT_FILE": registry.ca]) { a, _ in a })
        XCTAssertEqual(built.status, 0, built.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: work + "/out/root"), "the registry's / was downloaded")

        let untrusted = try Run.command(Run.slipway, arguments, environment: routed)
        XCTAssertNotEqual(untrusted.status, 0)
        XCTAssertTrue(untrusted.stderr.contains("download failed") && untrusted.stderr.contains("certificate"), untrusted.stderr)
    }

    func testHeredocsStdinDockerfileAndBuildArgs() throws {
        let context = work + "/ctx"
        try Run.write(["x": "x"], under: context)
        let dockerfile = "FROM scratch\nARG NAME=default\nCOPY <<EOF /greeting\nhello $NAME\nEOF\nCOPY <<'RAW' /raw\nhello $NAME\nRAW\n"
        let out = work + "/out"
        let process = try Run.command(Run.slipway, ["build", "-f", "-", "--build-arg", "NAME=world", "--progress", "quiet",
                                                    "--output", "type=local,dest=\(out)", context], stdin: Data(dockerfile.utf8))
        XCTAssertEqual(process.status, 0, process.stderr)
        XCTAssertEqual(try read(out + "/greeting"), "hello world\n")
        XCTAssertEqual(try read(out + "/raw"), "hello $NAME\n")
    }

    func testNamedDirectoryContextAndTarget() throws {
        try Run.write(["shared.txt": "from named context"], under: work + "/other")
        let out = try buildLocal("FROM scratch AS first\nCOPY --from=extra shared.txt /s.txt\n\nFROM scratch AS second\nCOPY a /a\n",
                                 files: ["a": "a"], extra: ["--build-context", "extra=\(work)/other", "--target", "first"])
        XCTAssertEqual(try read(out + "/s.txt"), "from named context")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/a"), "--target stops at the named stage")
    }

    func testLayersWithTheSameInputsAreWrittenOnceForAllPlatforms() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nARG TARGETARCH\nCOPY shared/ /shared/\nCOPY $TARGETARCH.txt /arch.txt\n",
                       "shared/a": "a", "shared/b": "b", "amd64.txt": "A", "arm64.txt": "B"], under: context)
        let out = work + "/layout"
        let result = try Run.slipway(["build", "--progress", "plain", "--platform", "linux/amd64,linux/arm64",
                                      "--output", "type=oci,dest=\(out),tar=false", context])
        XCTAssertTrue(result.stderr.contains("layer 3/3"), "one shared layer + one per platform: \(result.stderr)")
        XCTAssertFalse(result.stderr.contains("layer 4/"), result.stderr)
        let index = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(out)"]))
        var layers: [[String]] = []
        for entry in try XCTUnwrap(index["manifests"] as? [[String: Any]]) {
            let digest = try XCTUnwrap(entry["digest"] as? String)
            let manifest = try Run.json(String(contentsOfFile: out + "/blobs/sha256/" + digest.dropFirst(7), encoding: .utf8))
            layers.append(try XCTUnwrap(manifest["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String })
        }
        XCTAssertEqual(layers.count, 2)
        XCTAssertEqual(layers[0][0], layers[1][0], "the shared COPY is the same blob")
        XCTAssertNotEqual(layers[0][1], layers[1][1])
    }

    func testZstdCompression() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a /a\n", "a": String(repeating: "zstd ", count: 1000)], under: context)
        let out = work + "/layout"
        try Run.slipway(["build", "--progress", "quiet", "--compression", "zstd", "--output", "type=oci,dest=\(out),tar=false", context])
        let manifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(out)"]))
        let layer = try XCTUnwrap((manifest["layers"] as? [[String: Any]])?.first)
        XCTAssertEqual(layer["mediaType"] as? String, "application/vnd.oci.image.layer.v1.tar+zstd")
        let digest = try XCTUnwrap(layer["digest"] as? String)
        XCTAssertTrue(try Run.tool("bsdtar", ["-tf", out + "/blobs/sha256/" + digest.dropFirst(7)]).contains("a"))
    }
}
