import Foundation
import TestSupport
import XCTest

/// Issue 15 section 2: rebuilds reuse unchanged layers from the local cache, from a registry
/// cache on a fresh machine, from an earlier image (inline keys) and from a CI cache directory;
/// every result checked with skopeo and byte for byte against a build without a cache.
final class LayerCacheTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Three COPY layers of 256 KiB pseudo-random files each.
    private func context(_ name: String = "ctx") throws -> String {
        let context = work + "/" + name
        try Run.write(["Dockerfile": "FROM scratch\nCOPY one /one\nCOPY two /two\nCOPY three /three\n"], under: context)
        for (index, directory) in ["one", "two", "three"].enumerated() {
            try FileManager.default.createDirectory(atPath: context + "/" + directory, withIntermediateDirectories: true)
            try Data(pseudoRandom(count: 256 << 10, seed: UInt64(index + 1))).write(to: URL(fileURLWithPath: "\(context)/\(directory)/data.bin"))
        }
        return context
    }

    private func count(_ text: String, _ needle: String) -> Int { text.components(separatedBy: needle).count - 1 }

    private func rootDigest(_ stdout: String) throws -> String {
        let line = try XCTUnwrap(stdout.split(separator: "\n").first { $0.hasPrefix("index ") || $0.hasPrefix("digest ") })
        return String(line.split(separator: " ")[1])
    }

    func testRegistryCacheServesAFreshMachineAndPushesSkipOrMountEveryLayer() throws {
        let (home, registry, env) = try TestRegistries.workspace()
        defer { try? FileManager.default.removeItem(atPath: home) }
        XCTAssertEqual(try registry.login(registry.basic, environment: env).status, 0)
        let context = try context()
        let repository = "\(registry.basic)/cache/\(uniqueName("app"))"
        let platforms = ["--platform", "linux/amd64,linux/arm64"]

        let first = try Run.slipway(["build", "--progress", "plain", "--cache-dir", home + "/a"] + platforms +
                                    ["-t", repository + ":1", "--push", "--cache-to", "type=registry,ref=\(repository):buildcache,mode=max", context],
                                    environment: env)
        let digest = try rootDigest(first.stdout)
        XCTAssertTrue(first.stderr.contains("exported the layer cache (3 layers) to \(repository):buildcache"), first.stderr)
        XCTAssertFalse(first.stdout.contains("buildcache"), "stdout names only the image: \(first.stdout)")

        // What skopeo reads: an image manifest whose config is the cache and whose layers are the image's.
        let cacheManifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(repository):buildcache"]), as: UTF8.self))
        XCTAssertEqual(cacheManifest["mediaType"] as? String, "application/vnd.oci.image.manifest.v1+json")
        XCTAssertEqual((cacheManifest["config"] as? [String: Any])?["mediaType"] as? String, "application/vnd.slipway.layer-cache.config.v1+json")
        let cachedLayers = Set(((cacheManifest["layers"] as? [[String: Any]]) ?? []).compactMap { $0["digest"] as? String })
        let imageManifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(repository):1"]), as: UTF8.self))
        let imageIndexLayers: [String]
        if let manifests = imageManifest["manifests"] as? [[String: Any]], let child = manifests.first?["digest"] as? String {
            let platformManifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(repository)@\(child)"]), as: UTF8.self))
            imageIndexLayers = ((platformManifest["layers"] as? [[String: Any]]) ?? []).compactMap { $0["digest"] as? String }
        } else {
            imageIndexLayers = []
        }
        XCTAssertEqual(cachedLayers, Set(imageIndexLayers), "the cache lists exactly the image's layers")
        // skopeo copies the artifact verifying every blob; the config maps each key to one of them.
        _ = try registry.skopeo(["copy"] + registry.skopeoAuth(registry.basic, prefix: "src-") + ["docker://\(repository):buildcache", "dir:\(work)/copied"])
        let configDigest = try XCTUnwrap((cacheManifest["config"] as? [String: Any])?["digest"] as? String)
        let config = try Run.json(String(contentsOfFile: work + "/copied/" + configDigest.dropFirst(7), encoding: .utf8))
        let entries = (config["entries"] as? [[String: Any]]) ?? []
        XCTAssertEqual(entries.count, 3)
        XCTAssertEqual(Set(entries.compactMap { $0["digest"] as? String }), cachedLayers)

        // A fresh machine (empty cache), same inputs: nothing tarred, compressed or uploaded.
        let fresh = try Run.slipway(["build", "--progress", "plain", "--cache-dir", home + "/b"] + platforms +
                                    ["-t", repository + ":2", "--push", "--cache-from", "type=registry,ref=\(repository):buildcache", context],
                                    environment: env)
        XCTAssertEqual(try rootDigest(fresh.stdout), digest, "byte-identical image")
        XCTAssertEqual(count(fresh.stderr, "reused from \(repository):buildcache"), 3, fresh.stderr)
        XCTAssertEqual(count(fresh.stderr, "entries"), 0, "no layer written: \(fresh.stderr)")
        XCTAssertTrue(fresh.stderr.contains(" 0 blobs uploaded"), fresh.stderr)
        XCTAssertEqual(try registry.servedDigest(repository + ":2", host: registry.basic), digest)
        let layersInStore = try FileManager.default.contentsOfDirectory(atPath: home + "/b/store/blobs/sha256")
        XCTAssertTrue(Set(layersInStore.map { "sha256:" + $0 }).isDisjoint(with: cachedLayers), "a push alone never downloads the layers")

        // Another repository of the registry: the layers are mounted from the cache's.
        let other = "\(registry.basic)/cache/\(uniqueName("other"))"
        let mounted = try Run.slipway(["build", "--progress", "plain", "--cache-dir", home + "/c"] + platforms +
                                      ["-t", other + ":1", "--push", "--cache-from", "\(repository):buildcache", context], environment: env)
        XCTAssertEqual(try rootDigest(mounted.stdout), digest)
        XCTAssertTrue(mounted.stderr.contains(" 3 mounted"), mounted.stderr)
        XCTAssertEqual(try registry.servedDigest(other + ":1", host: registry.basic), digest)
    }

    func testInlineKeysAreOptInAndTheImageIsTheCache() throws {
        let (home, registry, env) = try TestRegistries.workspace()
        defer { try? FileManager.default.removeItem(atPath: home) }
        XCTAssertEqual(try registry.login(registry.basic, environment: env).status, 0)
        let context = try context()
        let repository = "\(registry.basic)/cache/\(uniqueName("inline"))"
        let plain = try Run.slipway(["build", "--progress", "plain", "--cache-dir", home + "/a", "-t", repository + ":plain", "--push", context], environment: env)
        let inline = try Run.slipway(["build", "--progress", "plain", "--cache-dir", home + "/a", "-t", repository + ":previous", "--push",
                                      "--cache-to", "type=inline", context], environment: env)
        let plainManifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(repository):plain"]), as: UTF8.self))
        let inlineManifest = try Run.json(String(decoding: try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(repository):previous"]), as: UTF8.self))
        let plainLayers = (plainManifest["layers"] as? [[String: Any]]) ?? []
        let inlineLayers = (inlineManifest["layers"] as? [[String: Any]]) ?? []
        XCTAssertTrue(plainLayers.allSatisfy { $0["annotations"] == nil }, "without --cache-to type=inline the image is unchanged")
        XCTAssertEqual(inlineLayers.compactMap { ($0["annotations"] as? [String: String])?["dev.slipway.layer.cache-key"] }.count, 3)
        XCTAssertEqual(inlineLayers.compactMap { $0["digest"] as? String }, plainLayers.compactMap { $0["digest"] as? String })
        XCTAssertNotEqual(try rootDigest(plain.stdout), try rootDigest(inline.stdout))

        let fresh = try Run.slipway(["build", "--progress", "plain", "--cache-dir", home + "/b", "-t", repository + ":next", "--push",
                                     "--cache-from", "type=registry,ref=\(repository):previous", "--cache-to", "type=inline",
                                     "--output", "type=oci,dest=\(work)/next.tar", context], environment: env)
        XCTAssertEqual(count(fresh.stderr, "reused from \(repository):previous"), 3, fresh.stderr)
        XCTAssertEqual(try rootDigest(fresh.stdout), try rootDigest(inline.stdout))
        XCTAssertEqual(try registry.servedDigest(repository + ":next", host: registry.basic), try rootDigest(inline.stdout))
        // The tar output needed the bytes: fetched from the registry and verified; umoci-free check with skopeo.
        XCTAssertEqual("sha256:" + sha256(try registry.skopeo(["inspect", "--raw", "oci-archive:\(work)/next.tar"])), try rootDigest(inline.stdout))
    }

    func testLocalCacheDirectoryRoundTripAndDamagedBlobs() throws {
        let context = try context()
        let dir = work + "/ci-cache"
        let cold = try Run.slipway(["build", "--progress", "plain", "--cache-dir", work + "/a", "--cache-to", "type=local,dest=\(dir)",
                                    "--output", "type=oci,dest=\(work)/cold.tar", context])
        XCTAssertTrue(cold.stderr.contains("exported the layer cache (3 layers) to \(dir)"), cold.stderr)
        let manifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(dir)"]))
        XCTAssertEqual((manifest["config"] as? [String: Any])?["mediaType"] as? String, "application/vnd.slipway.layer-cache.config.v1+json")

        // A restored directory on a machine with an empty cache: the same bytes, nothing written.
        let restored = try Run.slipway(["build", "--progress", "plain", "--cache-dir", work + "/b", "--cache-from", "type=local,src=\(dir)",
                                        "--output", "type=oci,dest=\(work)/restored.tar", context])
        XCTAssertEqual(count(restored.stderr, "reused from cache directory"), 3, restored.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: work + "/restored.tar")), try Data(contentsOf: URL(fileURLWithPath: work + "/cold.tar")))

        // One file changed, cache read from and written to the same directory: one layer
        // written, and the directory keeps only what the new cache lists.
        try Data(pseudoRandom(count: 256 << 10, seed: 99)).write(to: URL(fileURLWithPath: context + "/two/data.bin"))
        let changed = try Run.slipway(["build", "--progress", "plain", "--cache-dir", work + "/c", "--cache-from", "type=local,src=\(dir)",
                                       "--cache-to", "type=local,dest=\(dir)", "--output", "type=oci,dest=\(work)/changed.tar", context])
        XCTAssertEqual(count(changed.stderr, "reused from cache directory"), 2, changed.stderr)
        XCTAssertEqual(count(changed.stderr, "writing 2 entries"), 1, changed.stderr)
        let blobs = try FileManager.default.contentsOfDirectory(atPath: dir + "/blobs/sha256").filter { !$0.hasPrefix(".") }
        XCTAssertEqual(blobs.count, 3 + 2, "three layers, the config and the manifest; the replaced layer is gone")

        // A damaged blob in the directory is not taken: that layer is written, the image is right.
        let current = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(dir)"]))
        let layer = try XCTUnwrap((current["layers"] as? [[String: Any]])?.first?["digest"] as? String)
        let path = dir + "/blobs/sha256/" + layer.dropFirst(7)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: path))
        let repaired = try Run.slipway(["build", "--progress", "plain", "--cache-dir", work + "/d", "--cache-from", "type=local,src=\(dir)",
                                        "--output", "type=oci,dest=\(work)/repaired.tar", context])
        XCTAssertEqual(count(repaired.stderr, "reused from cache directory"), 2, repaired.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: work + "/repaired.tar")), try Data(contentsOf: URL(fileURLWithPath: work + "/changed.tar")))
    }

    func testTwoProcessesShareOneCache() throws {
        let first = try context("first"), second = try context("second")
        try Data(pseudoRandom(count: 1 << 20, seed: 42)).write(to: URL(fileURLWithPath: second + "/three/data.bin"))
        let cache = work + "/cache"
        let build = { (context: String, name: String) in
            "\(Run.quoted(Run.slipway)) build --progress plain --cache-dir \(Run.quoted(cache)) --output type=oci,dest=\(Run.quoted(self.work + "/" + name + ".tar")) \(Run.quoted(context)) 2>\(Run.quoted(self.work + "/" + name + ".err"))"
        }
        try Run.mustShell("\(build(first, "a")) & a=$!; \(build(second, "b")) & b=$!; wait $a && wait $b")
        for (context, name) in [(first, "a"), (second, "b")] {
            let again = try Run.slipway(["build", "--progress", "plain", "--cache-dir", cache, "--output", "type=oci,dest=\(work)/\(name)2.tar", context])
            XCTAssertEqual(count(again.stderr, "reused from local cache"), 3, again.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(work)/\(name)2.tar")), try Data(contentsOf: URL(fileURLWithPath: "\(work)/\(name).tar")))
        }
        // The memo of file digests holds both processes' files (3 each), in whole records.
        let memo = try FileManager.default.attributesOfItem(atPath: cache + "/layers/file-hashes")[.size] as? Int
        XCTAssertEqual(memo, 8 + 6 * 96)

        let noCache = try Run.slipway(["build", "--progress", "plain", "--no-cache", "--cache-dir", cache, "--output", "type=oci,dest=\(work)/n.tar", first])
        XCTAssertEqual(count(noCache.stderr, "reused"), 0, noCache.stderr)
        XCTAssertEqual(count(noCache.stderr, "entries"), 3)
        XCTAssertFalse(noCache.stderr.contains("note: --no-cache"), "--no-cache is a real flag now: \(noCache.stderr)")
    }

    func testUnknownCacheTypesFailAndAMissingCacheIsAWarning() throws {
        let context = try context()
        let refused = try Run.command(Run.slipway, ["build", "--cache-dir", work + "/a", "--cache-to", "type=gha,scope=x", context])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--cache-to type=gha is not supported; slipway knows type=registry,ref=REPO:TAG, type=local,src|dest=DIR or type=inline"), refused.stderr)
        let missing = try Run.slipway(["build", "--cache-dir", work + "/a", "--cache-from", "type=local,src=\(work)/nothing-here",
                                       "--output", "type=oci,dest=\(work)/x.tar", context])
        XCTAssertTrue(missing.stderr.contains("--cache-from cache directory \(work)/nothing-here: no cache there"), missing.stderr)
        XCTAssertTrue(missing.stderr.contains("building without it"), missing.stderr)
    }
}
