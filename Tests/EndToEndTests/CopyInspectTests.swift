import Foundation
import TestSupport
import XCTest

/// `copy`, `inspect` and `cache prune` against the real test registries, with base images made
/// by umoci and pushed by skopeo, results checked with skopeo.
final class CopyInspectTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        for host in [registry.basic, registry.token] {
            let output = try registry.login(host, environment: env)
            XCTAssertEqual(output.status, 0, output.stderr)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String]) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env)
    }

    private func childDigests(_ reference: String, host: String) throws -> [String: String] {
        let index = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(host) + ["docker://\(reference)"]), as: UTF8.self))
        var result: [String: String] = [:]
        for entry in index["manifests"] as? [[String: Any]] ?? [] {
            if let platform = entry["platform"] as? [String: Any], let arch = platform["architecture"] as? String, let digest = entry["digest"] as? String {
                result[arch] = digest
            }
        }
        return result
    }

    func testInspectShowsPlatformsRawBytesConfigAndJSON() throws {
        let images = try PullTestImages.make(in: work, marker: uniqueName("inspect"))
        let ref = "\(registry.basic)/\(uniqueName("base/inspect")):1.0"
        try images.pushIndex(to: ref, host: registry.basic, registry: registry)
        let children = try childDigests(ref, host: registry.basic)

        let text = try slipway(["inspect", ref])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("Digest:     \(images.indexDigest)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("MediaType:  application/vnd.oci.image.index.v1+json"), text.stdout)
        XCTAssertTrue(text.stdout.contains("Platform:   linux/amd64") && text.stdout.contains("Platform:   linux/arm64"), text.stdout)
        XCTAssertTrue(text.stdout.contains("Layers:     2 "), "two layers each (files, then the whiteout): \(text.stdout)")
        XCTAssertTrue(text.stdout.contains("User:       web"), text.stdout)
        for digest in children.values { XCTAssertTrue(text.stdout.contains("Digest:     \(digest)"), text.stdout) }

        let raw = try Run.command(Run.slipway, ["inspect", "--raw", ref], environment: env)
        XCTAssertEqual(raw.status, 0, raw.stderr)
        XCTAssertEqual("sha256:" + sha256(Data(raw.stdout.utf8)), images.indexDigest, "--raw prints the exact bytes")
        let rawArm = try slipway(["inspect", "--raw", "--platform", "linux/arm64", ref])
        XCTAssertEqual("sha256:" + sha256(Data(rawArm.stdout.utf8)), children["arm64"])

        let config = try Run.json(try slipway(["inspect", "--config", "--platform", "linux/arm64/v8", ref]).stdout)
        XCTAssertEqual(config["architecture"] as? String, "arm64")
        XCTAssertEqual((config["config"] as? [String: Any])?["Env"] as? [String], ["BASE=arm64"])

        let json = try Run.json(try slipway(["inspect", "--format", "json", ref]).stdout)
        XCTAssertEqual(json["digest"] as? String, images.indexDigest)
        let manifests = try XCTUnwrap(json["manifests"] as? [[String: Any]])
        XCTAssertEqual(manifests.compactMap { $0["platform"] as? String }.sorted(), ["linux/amd64", "linux/arm64"])
        XCTAssertEqual(manifests.compactMap { $0["layers"] as? Int }, [2, 2])
        XCTAssertEqual(Set(manifests.compactMap { $0["digest"] as? String }), Set(children.values))

        // A Docker schema2 image made by skopeo.
        let v2 = "\(registry.basic)/\(uniqueName("base/v2s2")):1.0"
        try images.pushSchema2("amd64", to: v2, host: registry.basic, registry: registry)
        let single = try Run.json(try slipway(["inspect", "--format", "json", v2]).stdout)
        XCTAssertEqual(single["mediaType"] as? String, "application/vnd.docker.distribution.manifest.v2+json")
        XCTAssertEqual(single["digest"] as? String, try registry.servedDigest(v2, host: registry.basic))
        XCTAssertEqual(single["platform"] as? String, "linux/amd64")
    }

    func testCopyBetweenRegistriesAndRepositoriesPreservesEveryDigest() throws {
        let images = try PullTestImages.make(in: work, marker: uniqueName("copy"))
        let repository = uniqueName("dev/app")
        let source = "\(registry.basic)/\(repository):1.2"
        try images.pushIndex(to: source, host: registry.basic, registry: registry)
        let children = try childDigests(source, host: registry.basic)

        let otherRegistry = "\(registry.token)/\(uniqueName("prod/app"))"
        let sameRegistry = "\(registry.basic)/\(uniqueName("prod/app"))"
        let copy = try slipway(["copy", "--progress", "plain", source, otherRegistry, sameRegistry + ":stable"])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        XCTAssertEqual(copy.stdout, "\(otherRegistry):1.2@\(images.indexDigest)\n\(sameRegistry):stable@\(images.indexDigest)\n",
                       "a destination without a tag takes the source's")
        XCTAssertTrue(copy.stderr.contains("mounted from"), "blobs mounted within the source registry: \(copy.stderr)")
        XCTAssertTrue(copy.stderr.contains("downloading"), "blobs streamed to the other registry: \(copy.stderr)")
        XCTAssertEqual(try registry.servedDigest(otherRegistry + ":1.2", host: registry.token), images.indexDigest)
        XCTAssertEqual(try registry.servedDigest(sameRegistry + ":stable", host: registry.basic), images.indexDigest)
        XCTAssertEqual(try childDigests(otherRegistry + ":1.2", host: registry.token), children)
        for (_, digest) in children {
            XCTAssertEqual(try registry.servedDigest("\(otherRegistry)@\(digest)", host: registry.token), digest)
        }
        // The copy is a complete image for other tools.
        let bundle = work + "/unpacked"
        try UmociImage.unpack("docker://\(otherRegistry):1.2", arch: "arm64", layout: work + "/pulled", bundle: bundle,
                              options: registry.skopeoAuth(registry.token, prefix: "src-"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: bundle + "/rootfs/srv/old.txt"), "the whiteout holds")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: bundle + "/rootfs/bin/sh"), "tool")

        // Again: everything is there, nothing is uploaded.
        let again = try slipway(["copy", "--progress", "plain", source, otherRegistry])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("0 blobs uploaded"), again.stderr)
        XCTAssertFalse(again.stderr.contains("downloading"), again.stderr)

        // By digest, to a digest-only destination.
        let pinned = "\(registry.basic)/\(repository)@\(images.indexDigest)"
        let byDigest = try slipway(["copy", "--progress", "quiet", pinned, "\(registry.token)/\(uniqueName("pinned"))"])
        XCTAssertEqual(byDigest.status, 0, byDigest.stderr)
        XCTAssertTrue(byDigest.stdout.hasSuffix("@\(images.indexDigest)\n") && !byDigest.stdout.contains(":latest"), byDigest.stdout)
    }

    func testCopyOnePlatformAndSchema2AndMissingPlatform() throws {
        let images = try PullTestImages.make(in: work, marker: uniqueName("platform"))
        let source = "\(registry.token)/\(uniqueName("multi")):1.0"
        try images.pushIndex(to: source, host: registry.token, registry: registry)
        let children = try childDigests(source, host: registry.token)

        let arm = "\(registry.basic)/\(uniqueName("arm-only")):1.0"
        let output = try slipway(["copy", "--progress", "quiet", "--platform", "linux/arm64", source, arm])
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(output.stdout, "\(arm)@\(children["arm64"] ?? "?")\n", "the platform's manifest, digest preserved")
        XCTAssertEqual(try registry.servedDigest(arm, host: registry.basic), children["arm64"])

        let missing = try slipway(["copy", "--platform", "linux/s390x", source, arm])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("has no linux/s390x manifest; it has: linux/amd64, linux/arm64"), missing.stderr)

        // From the OCI layout itself: a destination without a tag takes the layout's tag.
        let fromLayout = "\(registry.basic)/\(uniqueName("from-layout"))"
        let layoutCopy = try slipway(["copy", "--progress", "quiet", "oci:\(images.layout):multi", fromLayout])
        XCTAssertEqual(layoutCopy.stdout, "\(fromLayout):multi@\(images.indexDigest)\n", layoutCopy.stderr)

        let v2 = "\(registry.token)/\(uniqueName("v2s2")):1.0"
        try images.pushSchema2("arm64", to: v2, host: registry.token, registry: registry)
        let v2copy = "\(registry.basic)/\(uniqueName("v2s2-copy")):1.0"
        let copied = try slipway(["copy", "--progress", "quiet", v2, v2copy])
        XCTAssertEqual(copied.status, 0, copied.stderr)
        let digest = try registry.servedDigest(v2, host: registry.token)
        XCTAssertEqual(copied.stdout, "\(v2copy)@\(digest)\n")
        XCTAssertEqual(try registry.servedDigest(v2copy, host: registry.basic), digest)
        let raw = try Run.json(try slipway(["inspect", "--raw", v2copy]).stdout)
        XCTAssertEqual(raw["mediaType"] as? String, "application/vnd.docker.distribution.manifest.v2+json")
    }

    func testTamperedBlobInTheSourceRegistryIsRefused() throws {
        let images = try PullTestImages.make(in: work, marker: uniqueName("tamper"))
        let repository = "\(registry.basic)/\(uniqueName("tampered"))"
        let source = repository + ":1.0"
        try images.pushIndex(to: source, host: registry.basic, registry: registry)
        let amd64 = try childDigests(source, host: registry.basic)["amd64"] ?? ""
        let manifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(repository)@\(amd64)"]))
        let layer = try XCTUnwrap((manifest["layers"] as? [[String: Any]])?.first?["digest"] as? String)
        // The registry's own storage (distribution's filesystem driver), under the harness's state dir.
        let state = registry.stateDirectory
        let hex = String(layer.dropFirst(7))
        let data = "\(state)/data-basic/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: data))
        bytes[bytes.count / 2] ^= 0xFF   // same size, other content
        try bytes.write(to: URL(fileURLWithPath: data))

        let target = "\(registry.token)/\(uniqueName("victim")):1.0"
        let output = try slipway(["copy", "--progress", "plain", "--retries", "0", source, target])
        XCTAssertNotEqual(output.status, 0, output.stdout)
        XCTAssertTrue(output.stderr.contains(layer), "the error names the blob: \(output.stderr)")
        XCTAssertTrue(output.stderr.contains("expected"), output.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(work)/cache/slipway/store/blobs/sha256/\(hex)"), "nothing tampered enters the cache")
        let listed = try Run.command("skopeo", ["inspect", "--raw", "--tls-verify=true"] + registry.skopeoAuth(registry.token) + ["docker://\(target)"])
        XCTAssertNotEqual(listed.status, 0, "no manifest was pushed over a missing blob")
    }

    func testCachePruneKeepsTheMostRecentAndAllEmptiesIt() throws {
        let images = try PullTestImages.make(in: work, marker: uniqueName("prune"))
        let source = "\(registry.basic)/\(uniqueName("prune")):1.0"
        try images.pushIndex(to: source, host: registry.basic, registry: registry)
        let cache = work + "/explicit-cache"
        let copy = try slipway(["copy", "--progress", "quiet", "--cache-dir", cache, source, "\(registry.token)/\(uniqueName("prune-copy")):1.0"])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        let blobs = { (try? FileManager.default.contentsOfDirectory(atPath: cache + "/store/blobs/sha256")) ?? [] }
        let before = blobs().count
        XCTAssertGreaterThanOrEqual(before, 8, "manifests, configs and layers were cached")
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache + "/resolutions.json"))

        let usage = try slipway(["cache", "du", "--cache-dir", cache])
        XCTAssertTrue(usage.stdout.contains("\(before) blobs"), usage.stdout)
        let keep = try slipway(["cache", "prune", "--cache-dir", cache, "--keep-storage", "1KiB"])
        XCTAssertEqual(keep.status, 0, keep.stderr)
        XCTAssertTrue(blobs().count < before && !blobs().isEmpty, keep.stdout)
        XCTAssertTrue(keep.stdout.hasPrefix("removed "), keep.stdout)
        let all = try slipway(["cache", "prune", "--cache-dir", cache, "--all"])
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertEqual(blobs(), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: cache + "/resolutions.json"))
        let bad = try slipway(["cache", "prune", "--cache-dir", cache, "--keep-storage", "lots"])
        XCTAssertNotEqual(bad.status, 0)

        // The default cache directory follows XDG_CACHE_HOME.
        XCTAssertEqual(try slipway(["inspect", source]).status, 0)
        XCTAssertFalse(((try? FileManager.default.contentsOfDirectory(atPath: work + "/cache/slipway/store/blobs/sha256")) ?? []).isEmpty)
    }
}
