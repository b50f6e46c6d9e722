import Foundation
import TestSupport
import XCTest

/// buildx's image exporter keys that change how an image is encoded, not what it holds:
/// `oci-mediatypes=false` (Docker schema 2 media types) and `force-compression=true` (base
/// layers recompressed). Results are read back with skopeo (also from the TLS test registry
/// they are pushed to), zstd(1), gzip(1), bsdtar, umoci and openssl.
final class LayerFormatTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]
    var context = ""

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        let login = try registry.login(registry.basic, environment: env)
        XCTAssertEqual(login.status, 0, login.stderr)
        context = work + "/ctx"
        try Run.write(["app.txt": "app"], under: context)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String]) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env)
    }

    private var creds: [String] { registry.skopeoAuth(registry.basic) }

    /// A base made by umoci (two gzip layers: files, then a 2 MB random file), pushed with skopeo.
    private func publishBase() throws -> String {
        let layout = work + "/base"
        try UmociImage.make(layout + ":1", bundle: work + "/bundle", files: ["etc/base.txt": "from the base"],
                            config: ["--architecture", "amd64", "--os", "linux"])
        _ = try Run.mustShell("head -c 2000000 /dev/urandom > \(Run.quoted(work + "/bundle/rootfs/etc/random")) && umoci repack --image \(Run.quoted(layout + ":1")) \(Run.quoted(work + "/bundle"))")
        let reference = "\(registry.basic)/bases/\(uniqueName("gzip")):1"
        _ = try registry.skopeo(["copy"] + registry.skopeoAuth(registry.basic, prefix: "dest-") + ["oci:\(layout):1", "docker://\(reference)"])
        return reference
    }

    private func digestLine(_ output: Run.Output) -> String {
        output.stdout.split(separator: "\n").first { $0.hasPrefix("digest ") || $0.hasPrefix("index ") }
            .map { String($0.split(separator: " ").last ?? "") } ?? ""
    }

    private func layers(_ manifest: [String: Any]) -> [(mediaType: String, digest: String)] {
        (manifest["layers"] as? [[String: Any]] ?? []).map { ($0["mediaType"] as? String ?? "", $0["digest"] as? String ?? "") }
    }

    /// sha256 of what `tool` (`zstd -dc`, `gzip -dc`) makes of a blob, by openssl.
    private func decompressed(_ blob: String, with tool: String) throws -> String {
        "sha256:" + String(try Run.mustShell("\(tool) \(Run.quoted(blob)) | openssl dgst -sha256 -r").prefix(64))
    }

    func testDockerMediaTypesAreWrittenPushedAndReadBack() throws {
        let base = try publishBase()
        let baseManifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + creds + ["docker://\(base)"]), as: UTF8.self))
        try Run.write(["Dockerfile": "FROM \(base)\nCOPY app.txt /app.txt\n"], under: context)
        let target = "\(registry.basic)/e2e/\(uniqueName("docker-types")):1"
        let pushed = try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "-t", target,
                                  "-o", "type=registry,oci-mediatypes=false", context])
        XCTAssertEqual(pushed.status, 0, pushed.stderr)
        XCTAssertEqual(try registry.servedDigest(target, host: registry.basic), pushed.stdout.split(separator: "\n").first { $0.hasPrefix("digest ") }.map { String($0.dropFirst(7)) })
        let manifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + creds + ["docker://\(target)"]), as: UTF8.self))
        XCTAssertEqual(manifest["mediaType"] as? String, "application/vnd.docker.distribution.manifest.v2+json")
        XCTAssertEqual((manifest["config"] as? [String: Any])?["mediaType"] as? String, "application/vnd.docker.container.image.v1+json")
        XCTAssertEqual(Set(layers(manifest).map(\.mediaType)), ["application/vnd.docker.image.rootfs.diff.tar.gzip"],
                       "every layer, the base's too, has Docker's type, as BuildKit converts them")
        XCTAssertEqual(Array(layers(manifest).map(\.digest).prefix(2)), layers(baseManifest).map(\.digest), "base layers keep their bytes")
        let inspected = try Run.json(String(decoding: try registry.skopeo(["inspect"] + creds + ["docker://\(target)"]), as: UTF8.self))
        XCTAssertEqual(inspected["Architecture"] as? String, "amd64")
        let rootfs = try UmociImage.unpack("docker://\(target)", layout: work + "/pulled", bundle: work + "/unpacked", options: registry.skopeoAuth(registry.basic, prefix: "src-"))
        XCTAssertEqual(try String(contentsOfFile: rootfs + "/app.txt", encoding: .utf8), "app")
        XCTAssertEqual(try String(contentsOfFile: rootfs + "/etc/base.txt", encoding: .utf8), "from the base")

        // Two platforms: a Docker manifest list over Docker manifests, in the registry and the OCI tar.
        try Run.write(["Dockerfile": "FROM scratch\nCOPY app.txt /app.txt\n"], under: context)
        let list = "\(registry.basic)/e2e/\(uniqueName("docker-list")):1"
        let tar = work + "/list.tar"
        let both = try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "-t", list, "--push",
                                "-o", "type=oci,dest=\(tar),oci-mediatypes=false", context])
        XCTAssertEqual(both.status, 0, both.stderr)
        let served = try registry.skopeo(["inspect", "--raw"] + creds + ["docker://\(list)"])
        XCTAssertEqual(served, try registry.skopeo(["inspect", "--raw", "oci-archive:\(tar)"]), "the tar and the registry hold the same list")
        let index = try Run.json(String(decoding: served, as: UTF8.self))
        XCTAssertEqual(index["mediaType"] as? String, "application/vnd.docker.distribution.manifest.list.v2+json")
        let entries = index["manifests"] as? [[String: Any]] ?? []
        XCTAssertEqual(entries.compactMap { ($0["platform"] as? [String: Any])?["architecture"] as? String }.sorted(), ["amd64", "arm64"])
        for entry in entries {
            XCTAssertEqual(entry["mediaType"] as? String, "application/vnd.docker.distribution.manifest.v2+json")
            let repository = String(list[..<(list.lastIndex(of: ":") ?? list.endIndex)])
            let platformManifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + creds + ["docker://\(repository)@\(entry["digest"] as? String ?? "")"]), as: UTF8.self))
            XCTAssertEqual(platformManifest["mediaType"] as? String, "application/vnd.docker.distribution.manifest.v2+json")
        }
        let arm = try Run.json(String(decoding: try registry.skopeo(["inspect", "--config", "--raw", "--override-arch", "arm64"] + creds + ["docker://\(list)"]), as: UTF8.self))
        XCTAssertEqual(arm["architecture"] as? String, "arm64")

        // zstd with Docker types: BuildKit writes Docker's zstd layer type rather than refusing.
        let zstd = work + "/zstd"
        let zstdBuild = try slipway(["build", "--progress", "quiet", "-o", "type=oci,dest=\(zstd),tar=false,oci-mediatypes=false,compression=zstd", context])
        XCTAssertEqual(zstdBuild.status, 0, zstdBuild.stderr)
        let zstdManifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw", "oci:\(zstd)"]), as: UTF8.self))
        XCTAssertEqual(layers(zstdManifest).map(\.mediaType), ["application/vnd.docker.image.rootfs.diff.tar.zstd"])

        // A manifest list has no annotations: BuildKit refuses index annotations with Docker types.
        let annotated = try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64,linux/arm64", "--annotation", "index:org.example=1",
                                     "-o", "type=oci,dest=\(work)/annotated.tar,oci-mediatypes=false", context])
        XCTAssertNotEqual(annotated.status, 0)
        XCTAssertTrue(annotated.stderr.contains("cannot export annotations with \"oci-mediatypes=false\""), annotated.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/annotated.tar"))
    }

    func testDockerTypedBaseLayersGetOCITypesInAnOCIImage() throws {
        let ociBase = try publishBase()
        let base = "\(registry.basic)/bases/\(uniqueName("v2s2")):1"
        _ = try registry.skopeo(["copy", "-q", "--format", "v2s2"] + registry.skopeoAuth(registry.basic, prefix: "src-")
                                + registry.skopeoAuth(registry.basic, prefix: "dest-") + ["docker://\(ociBase)", "docker://\(base)"])
        let baseManifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + creds + ["docker://\(base)"]), as: UTF8.self))
        XCTAssertEqual(Set(layers(baseManifest).map(\.mediaType)), ["application/vnd.docker.image.rootfs.diff.tar.gzip"])
        try Run.write(["Dockerfile": "FROM \(base)\nCOPY app.txt /app.txt\n"], under: context)
        let target = "\(registry.basic)/e2e/\(uniqueName("from-v2s2")):1"
        let build = try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "-t", target, "--push", context])
        XCTAssertEqual(build.status, 0, build.stderr)
        let manifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + creds + ["docker://\(target)"]), as: UTF8.self))
        XCTAssertEqual(manifest["mediaType"] as? String, "application/vnd.oci.image.manifest.v1+json")
        XCTAssertEqual(Set(layers(manifest).map(\.mediaType)), ["application/vnd.oci.image.layer.v1.tar+gzip"], "as BuildKit converts every layer's type")
        XCTAssertEqual(Array(layers(manifest).map(\.digest).prefix(2)), layers(baseManifest).map(\.digest), "the same blobs, mounted")
        _ = try registry.skopeo(["copy", "-q"] + registry.skopeoAuth(registry.basic, prefix: "src-") + ["docker://\(target)", "oci:\(work)/copied:x"])
    }

    func testForceCompressionRecompressesAGzipBaseToZstd() throws {
        let base = try publishBase()
        let baseManifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + creds + ["docker://\(base)"]), as: UTF8.self))
        let baseConfig = try Run.json(String(decoding: try registry.skopeo(["inspect", "--config", "--raw"] + creds + ["docker://\(base)"]), as: UTF8.self))
        let baseDiffIDs = (baseConfig["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
        XCTAssertEqual(Set(layers(baseManifest).map(\.mediaType)), ["application/vnd.oci.image.layer.v1.tar+gzip"])
        try Run.write(["Dockerfile": "FROM \(base)\nCOPY app.txt /app.txt\n"], under: context)
        let target = "\(registry.basic)/e2e/\(uniqueName("forced")):1"
        let out = work + "/forced"
        let build = try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "-t", target, "--push",
                                 "-o", "type=oci,dest=\(out),tar=false,compression=zstd,force-compression=true", context])
        XCTAssertEqual(build.status, 0, build.stderr)
        let manifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw", "oci:\(out)"]), as: UTF8.self))
        XCTAssertEqual(layers(manifest).map(\.mediaType), Array(repeating: "application/vnd.oci.image.layer.v1.tar+zstd", count: 3), "all-zstd, base layers too")
        XCTAssertTrue(Set(layers(manifest).map(\.digest)).isDisjoint(with: layers(baseManifest).map(\.digest)), "the base's gzip blobs are not reused")
        let config = try Run.json(String(decoding: try registry.skopeo(["inspect", "--config", "--raw", "oci:\(out)"]), as: UTF8.self))
        let diffIDs = (config["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
        XCTAssertEqual(Array(diffIDs.prefix(2)), baseDiffIDs, "the same tar streams, so the same diffIDs")
        for (layer, diffID) in zip(layers(manifest), diffIDs) {
            let blob = out + "/blobs/sha256/" + layer.digest.dropFirst("sha256:".count)
            XCTAssertEqual(try decompressed(blob, with: "zstd -dc"), diffID, "zstd(1) reads \(layer.digest) back to its diffID")
        }
        let baseLayer = out + "/blobs/sha256/" + (layers(manifest).first?.digest.dropFirst("sha256:".count) ?? "")
        XCTAssertTrue(try Run.tool("bsdtar", ["-tf", baseLayer]).contains("etc/base.txt"))

        // The pushed image is the same one, and skopeo copies it (checking every blob's digest).
        XCTAssertEqual(try registry.servedDigest(target, host: registry.basic), digestLine(build))
        _ = try registry.skopeo(["copy", "-q"] + registry.skopeoAuth(registry.basic, prefix: "src-") + ["docker://\(target)", "oci:\(work)/copied:x"])

        // A push alone, from an empty cache: the base layers are fetched to be recompressed (a
        // push otherwise only mounts them), and the result is byte for byte the same image.
        var fresh = env
        fresh["XDG_CACHE_HOME"] = work + "/fresh-cache"
        let again = "\(registry.basic)/e2e/\(uniqueName("forced-push")):1"
        let pushOnly = try Run.command(Run.slipway, ["build", "--progress", "plain", "--platform", "linux/amd64", "-t", again,
                                                     "-o", "type=registry,compression=zstd,force-compression=true", context], environment: fresh)
        XCTAssertEqual(pushOnly.status, 0, pushOnly.stderr)
        XCTAssertEqual(pushOnly.stderr.components(separatedBy: "recompressed (force-compression)").count - 1, 2, "one progress line per base layer: \(pushOnly.stderr)")
        XCTAssertEqual(try registry.servedDigest(again, host: registry.basic), digestLine(build))

        // Without force-compression the base layers are kept as they are, as buildx keeps them.
        let kept = try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "-o", "type=oci,dest=\(work)/kept,tar=false,compression=zstd", context])
        XCTAssertEqual(kept.status, 0, kept.stderr)
        let keptManifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw", "oci:\(work)/kept"]), as: UTF8.self))
        XCTAssertEqual(Array(layers(keptManifest).map(\.digest).prefix(2)), layers(baseManifest).map(\.digest))
        XCTAssertEqual(layers(keptManifest).last?.mediaType, "application/vnd.oci.image.layer.v1.tar+zstd")
    }

    func testForceCompressionTurnsAZstdBaseIntoDockerGzipThatUmociUnpacks() throws {
        let baseLayout = work + "/zbase"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY app.txt /srv/base.txt\n"], under: context)
        let baseBuild = try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "-t", "zbase:1",
                                     "-o", "type=oci,dest=\(baseLayout),tar=false,compression=zstd", context])
        XCTAssertEqual(baseBuild.status, 0, baseBuild.stderr)
        try Run.write(["Dockerfile": "FROM zbase\nCOPY app.txt /srv/app.txt\n"], under: context)
        // No tag: skopeo (containers/image) finds a tag in a layout only on OCI-typed entries,
        // and with Docker types index.json's entry is a Docker manifest (as BuildKit writes it).
        let out = work + "/gz"
        let build = try slipway(["build", "--progress", "quiet", "--platform", "linux/amd64", "--build-context", "zbase=oci-layout://\(baseLayout):1",
                                 "-o", "type=oci,dest=\(out),tar=false,compression=gzip,force-compression=true,oci-mediatypes=false", context])
        XCTAssertEqual(build.status, 0, build.stderr)
        let manifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw", "oci:\(out)"]), as: UTF8.self))
        XCTAssertEqual(layers(manifest).map(\.mediaType), Array(repeating: "application/vnd.docker.image.rootfs.diff.tar.gzip", count: 2))
        let config = try Run.json(String(decoding: try registry.skopeo(["inspect", "--config", "--raw", "oci:\(out)"]), as: UTF8.self))
        let diffIDs = (config["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
        for (layer, diffID) in zip(layers(manifest), diffIDs) {
            XCTAssertEqual(try decompressed(out + "/blobs/sha256/" + layer.digest.dropFirst("sha256:".count), with: "gzip -dc"), diffID)
        }
        let rootfs = try UmociImage.unpack("oci:\(out)", layout: work + "/unpack-layout", bundle: work + "/unpacked")
        XCTAssertEqual(try String(contentsOfFile: rootfs + "/srv/base.txt", encoding: .utf8), "app", "umoci, which cannot read zstd, unpacks the recompressed base")
        XCTAssertEqual(try String(contentsOfFile: rootfs + "/srv/app.txt", encoding: .utf8), "app")
    }
}
