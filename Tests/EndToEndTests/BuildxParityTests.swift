import Foundation
import TestSupport
import XCTest

/// A `docker buildx build` command line run as a buildx user would type it: each flag and
/// `--output` key either does what buildx does, or says plainly why not.
final class BuildxParityTests: XCTestCase {
    var work = ""
    var context = ""

    override func setUpWithError() throws {
        work = try Run.temporaryDirectory()
        context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "A"], under: context)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func build(_ arguments: [String]) throws -> Run.Output {
        try Run.command(Run.slipway, ["build"] + arguments)
    }

    /// A file from an OCI tar or layout directory: `index.json`, or a blob by digest.
    private func json(in layout: String, _ name: String) throws -> [String: Any] {
        if layout.hasSuffix(".tar") {
            return try Run.json(Run.tool("bsdtar", ["-xOf", layout, name]))
        }
        return try Run.json(String(contentsOfFile: layout + "/" + name, encoding: .utf8))
    }

    private func blobName(_ digest: Any?) -> String {
        "blobs/sha256/" + String(String(describing: digest ?? "").dropFirst("sha256:".count))
    }

    private func digestLine(_ output: Run.Output) -> String {
        output.stdout.split(separator: "\n").first { $0.hasPrefix("digest ") }.map { String($0.dropFirst(7)) } ?? ""
    }

    func testRelativeBuildContextIsTakenFromTheCurrentDirectory() throws {
        try Run.write(["o.txt": "other"], under: work + "/other")
        try Run.write(["Dockerfile": "FROM scratch\nCOPY --from=other o.txt /o.txt\n"], under: context)
        let result = try Run.shell("cd \(Run.quoted(work)) && \(Run.quoted(Run.slipway)) build --progress quiet --build-context other=./other -o type=local,dest=out ctx")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try String(contentsOfFile: work + "/out/o.txt", encoding: .utf8), "other")
    }

    func testImageExporterKeysShapeTheImage() throws {
        let tar = work + "/image.tar"
        let result = try build(["--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "-o",
                                "type=oci,dest=\(tar),compression=zstd,compression-level=9,oci-mediatypes=true,name=reg.example/app:1.0,annotation.a=m,annotation-index.b=i,annotation-manifest[linux/arm64].c=arm",
                                context])
        XCTAssertEqual(result.status, 0, result.stderr)
        let outer = try json(in: tar, "index.json")
        let entry = try XCTUnwrap((outer["manifests"] as? [[String: Any]])?.first)
        XCTAssertEqual((entry["annotations"] as? [String: String])?["io.containerd.image.name"], "reg.example/app:1.0", "name= names the image as -t does")
        let index = try json(in: tar, blobName(entry["digest"]))
        XCTAssertEqual(index["annotations"] as? [String: String], ["b": "i"])
        for manifestEntry in index["manifests"] as? [[String: Any]] ?? [] {
            let manifest = try json(in: tar, blobName(manifestEntry["digest"]))
            let layers = manifest["layers"] as? [[String: Any]] ?? []
            XCTAssertEqual(layers.compactMap { $0["mediaType"] as? String }, ["application/vnd.oci.image.layer.v1.tar+zstd"])
            let annotations = manifest["annotations"] as? [String: String] ?? [:]
            XCTAssertEqual(annotations["a"], "m")
            let arch = (manifestEntry["platform"] as? [String: Any])?["architecture"] as? String
            XCTAssertEqual(annotations["c"], arch == "arm64" ? "arm" : nil)
        }
        let bogus = try build(["-o", "type=oci,dest=\(work)/x.tar,bogus=1", context])
        XCTAssertNotEqual(bogus.status, 0)
        XCTAssertTrue(bogus.stderr.contains("unknown key 'bogus'") && bogus.stderr.contains("known keys: type, dest, tar, name, compression, compression-level, force-compression, oci-mediatypes"), bogus.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/x.tar"))
    }

    func testPullIsAFlagAndTheOldSpellingsStillWork() throws {
        for flag in ["--pull", "--pull=true", "--pull=false", "--no-pull"] {
            let result = try build(["--progress", "quiet", "-o", "type=oci,dest=\(work)/p.tar", flag, context])
            XCTAssertEqual(result.status, 0, "\(flag): \(result.stderr)")
        }
    }

    func testPlatformLocalIsTheHost() throws {
        let local = try build(["--progress", "quiet", "--platform", "local", "-o", "type=oci,dest=\(work)/l.tar", context])
        let host = try build(["--progress", "quiet", "-o", "type=oci,dest=\(work)/h.tar", context])
        XCTAssertEqual(local.status, 0, local.stderr)
        XCTAssertFalse(digestLine(local).isEmpty, local.stdout)
        XCTAssertEqual(digestLine(local), digestLine(host))
    }

    func testDashOutputWritesOnlyTheTarToStandardOutput() throws {
        let result = try Run.shell("\(Run.quoted(Run.slipway)) build -o - \(Run.quoted(context)) > \(Run.quoted(work + "/out.tar")) 2> \(Run.quoted(work + "/err"))")
        let stderr = try String(contentsOfFile: work + "/err", encoding: .utf8)
        XCTAssertEqual(result.status, 0, stderr)
        let listing = try Run.tool("bsdtar", ["-tf", work + "/out.tar"])
        XCTAssertTrue(listing.contains("index.json") && listing.contains("oci-layout"), listing)
        XCTAssertTrue(stderr.contains("digest sha256:"), "the digest line moves to stderr: \(stderr)")
        _ = try Run.tool("skopeo", ["inspect", "oci-archive:\(work)/out.tar"])
    }

    func testDashOutputRefusesATerminal() throws {
        try XCTSkipUnless(Run.isInstalled("script"), "script (util-linux) gives the command a terminal")
        let result = try Run.shell("script -qec \(Run.quoted(Run.quoted(Run.slipway) + " build -o - " + Run.quoted(context))) /dev/null")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stdout.contains("which is a terminal"), result.stdout)
    }

    func testIndexAnnotationOnOnePlatformIsRefused() throws {
        let one = try build(["--annotation", "index:org.example=1", "-o", "type=oci,dest=\(work)/a.tar", context])
        XCTAssertNotEqual(one.status, 0)
        XCTAssertTrue(one.stderr.contains("single-platform"), one.stderr)
        let viaOutput = try build(["-o", "type=oci,dest=\(work)/a.tar,annotation-index.org.example=1", context])
        XCTAssertNotEqual(viaOutput.status, 0)
        XCTAssertTrue(viaOutput.stderr.contains("single-platform"), viaOutput.stderr)
        let two = try build(["--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "--annotation", "index:org.example=1",
                             "-o", "type=oci,dest=\(work)/a.tar", context])
        XCTAssertEqual(two.status, 0, two.stderr)
    }

    func testNoOutputWarnsAsBuildxDoes() throws {
        let bare = try build(["--progress", "quiet", context])
        XCTAssertEqual(bare.status, 0, bare.stderr)
        XCTAssertTrue(bare.stderr.contains("warning: No output specified"), bare.stderr)
        let written = try build(["--progress", "quiet", "-o", "type=oci,dest=\(work)/w.tar", context])
        XCTAssertFalse(written.stderr.contains("No output specified"), written.stderr)
    }

    func testDaemonAndRunFlagsAreAcceptedWithANote() throws {
        let result = try build(["--progress", "quiet", "--load", "--builder", "mybuilder", "--network", "host", "--add-host", "db:10.0.0.2",
                                "--allow", "network.host", "--secret", "id=token,src=/dev/null", "--ssh", "default", "--no-cache-filter", "build",
                                "--provenance=false", "--sbom=false", "-o", "type=oci,dest=\(work)/n.tar", context])
        XCTAssertEqual(result.status, 0, result.stderr)
        let notes = result.stderr.split(separator: "\n").filter { $0.hasPrefix("note: ") }
        XCTAssertEqual(notes.count, 4, result.stderr)
        XCTAssertTrue(result.stderr.contains("--load") && result.stderr.contains("type=docker,dest=") && result.stderr.contains("docker load"), result.stderr)
        XCTAssertTrue(result.stderr.contains("--builder"), result.stderr)
        XCTAssertTrue(result.stderr.contains("--add-host, --ssh: slipway's RUN does not use them yet (ignored)"), result.stderr)
        XCTAssertFalse(result.stderr.contains("--secret"), "--secret is used by RUN --mount=type=secret now: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("--no-cache-filter"), result.stderr)
        for refused in [["--cache-to", "type=gha"], ["--attest", "type=sbom,generator=docker/scout-sbom-indexer:1"], ["--call", "outline"], ["--check"], ["--shm-size", "1g"]] {
            let output = try build(refused + ["-o", "type=oci,dest=\(work)/r.tar", context])
            XCTAssertNotEqual(output.status, 0, refused.joined(separator: " "))
            XCTAssertTrue(output.stderr.contains(refused[0]), output.stderr)
        }
    }

    func testQuietPrintsOnlyTheDigest() throws {
        let single = try build(["-q", "-o", "type=oci,dest=\(work)/q.tar", context])
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertTrue(single.stdout.hasPrefix("sha256:") && single.stdout.split(separator: "\n").count == 1, single.stdout)
        XCTAssertEqual(single.stderr, "", "no progress")
        let multi = try build(["--quiet", "--platform", "linux/amd64,linux/arm64", "-o", "type=oci,dest=\(work)/m.tar", context])
        XCTAssertEqual(multi.status, 0, multi.stderr)
        let index = try json(in: work + "/m.tar", "index.json")
        let root = (index["manifests"] as? [[String: Any]])?.first?["digest"] as? String
        XCTAssertEqual(multi.stdout, "\(root ?? "?")\n", "the index digest for several platforms")
    }
}

/// The buildx spellings that reach a registry: `-o type=image,name=…,push=true`, `-q` with a
/// push, and `--pull` against a tag that moved.
final class BuildxRegistryParityTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        let login = try registry.login(registry.basic, environment: env)
        XCTAssertEqual(login.status, 0, login.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func build(_ arguments: [String]) throws -> Run.Output {
        try Run.command(Run.slipway, ["build"] + arguments, environment: env)
    }

    /// Pushes a one-file image to `tag` and returns its digest (what `-q` prints).
    private func publish(_ content: String, to tag: String) throws -> String {
        let context = work + "/src-\(UUID().uuidString.prefix(6))"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY f.txt /f.txt\n", "f.txt": content], under: context)
        let output = try build(["-q", "--platform", "linux/amd64", "-o", "type=image,name=\(tag),push=true,compression=zstd", context])
        XCTAssertEqual(output.status, 0, output.stderr)
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testImageOutputWithNamePushesAndQuietPrintsOnlyTheDigest() throws {
        let tag = "\(registry.basic)/buildx/named:\(UUID().uuidString.prefix(8).lowercased())"
        let digest = try publish("one", to: tag)
        XCTAssertTrue(digest.hasPrefix("sha256:") && !digest.contains("\n"), "-q prints the digest alone, not the pushed names: \(digest)")
        XCTAssertEqual(try registry.servedDigest(tag, host: registry.basic), digest, "name= is where the image went")
        let manifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(tag)"]))
        let layers = manifest["layers"] as? [[String: Any]] ?? []
        XCTAssertEqual(layers.compactMap { $0["mediaType"] as? String }, ["application/vnd.oci.image.layer.v1.tar+zstd"])
    }

    func testPullReResolvesAMovedTagWhileNoPullKeepsTheCachedResolution() throws {
        let tag = "\(registry.basic)/buildx/base:\(UUID().uuidString.prefix(8).lowercased())"
        let first = try publish("first", to: tag)
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM \(tag)\nCOPY a.txt /a.txt\n", "a.txt": "A"], under: context)
        func baseDigest(_ flags: [String]) throws -> String? {
            let out = work + "/out-\(UUID().uuidString.prefix(6))"
            let output = try build(["--progress", "quiet", "--platform", "linux/amd64", "-o", "type=oci,dest=\(out),tar=false"] + flags + [context])
            XCTAssertEqual(output.status, 0, output.stderr)
            let index = try Run.json(String(contentsOfFile: out + "/index.json", encoding: .utf8))
            let root = ((index["manifests"] as? [[String: Any]])?.first?["digest"] as? String) ?? ""
            let manifest = try Run.json(String(contentsOfFile: out + "/blobs/sha256/" + root.dropFirst(7), encoding: .utf8))
            return (manifest["annotations"] as? [String: String])?["org.opencontainers.image.base.digest"]
        }
        XCTAssertEqual(try baseDigest([]), first)
        let second = try publish("second", to: tag)
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(try baseDigest(["--no-pull"]), first, "--no-pull uses the cached resolution")
        XCTAssertEqual(try baseDigest(["--pull=false"]), first, "the older spelling still works")
        XCTAssertEqual(try baseDigest(["--pull"]), second, "--pull re-resolves the tag")
        XCTAssertEqual(try baseDigest([]), second, "re-resolving is the default")
    }
}
