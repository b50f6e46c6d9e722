import Foundation
import TestSupport
import XCTest

/// Two slipway processes exporting to one `--cache-to type=local,dest=DIR` at the same time
/// (two CI jobs sharing a cache volume): neither removes the other's blobs, `index.json` always
/// lists whole caches, and each build's cache imports afterwards. Blobs are checked with
/// openssl and the caches with skopeo, the imports byte for byte against the exporting builds.
final class CacheDirectoryConcurrencyTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Three COPY layers of 1 MiB pseudo-random files, new bytes for each seed.
    private func writeContext(_ context: String, seed: UInt64) throws {
        try Run.write(["Dockerfile": "FROM scratch\nCOPY one /one\nCOPY two /two\nCOPY three /three\n"], under: context)
        for (index, directory) in ["one", "two", "three"].enumerated() {
            try FileManager.default.createDirectory(atPath: context + "/" + directory, withIntermediateDirectories: true)
            try Data(pseudoRandom(count: 1 << 20, seed: seed * 10 + UInt64(index))).write(to: URL(fileURLWithPath: "\(context)/\(directory)/data.bin"))
        }
    }

    /// A shell line building `name` into its own cache and output, exporting to `cacheTo`.
    private func build(_ name: String, round: Int, cacheTo: String) -> String {
        let q = Run.quoted
        return "\(q(Run.slipway)) build --progress plain --cache-dir \(q(work + "/cache-" + name)) --cache-to \(q(cacheTo))"
            + " --output type=oci,dest=\(q("\(work)/\(name)-\(round).tar")) \(q(work + "/ctx-" + name)) >/dev/null 2>\(q("\(work)/\(name)-\(round).err"))"
    }

    /// The directory's index: tag → manifest digest; fails the test unless every blob of
    /// every cache is there with the digest it is named by (openssl), and nothing else is.
    @discardableResult
    private func checkDirectory(_ dir: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
        let index = try Run.json(String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/index.json")), as: UTF8.self))
        var tags: [String: String] = [:]
        var listed = Set<String>()
        for descriptor in (index["manifests"] as? [[String: Any]]) ?? [] {
            let digest = try XCTUnwrap(descriptor["digest"] as? String)
            let tag = try XCTUnwrap((descriptor["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"], "\(descriptor)")
            XCTAssertNil(tags[tag], "tag \(tag) listed twice", file: file, line: line)
            tags[tag] = digest
            // skopeo reads the cache by its tag: the manifest and its config.
            let manifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(dir):\(tag)"]))
            let config = try XCTUnwrap((manifest["config"] as? [String: Any])?["digest"] as? String)
            let layers = ((manifest["layers"] as? [[String: Any]]) ?? []).compactMap { $0["digest"] as? String }
            XCTAssertEqual(layers.count, 3, file: file, line: line)
            listed.formUnion([digest, config] + layers)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/blobs/sha256").filter { !$0.hasPrefix(".") }
        XCTAssertEqual(Set(names.map { "sha256:" + $0 }), listed, "the directory holds exactly the blobs its caches list", file: file, line: line)
        let hashes = try Run.tool("openssl", ["dgst", "-sha256", "-r"] + listed.sorted().map { dir + "/blobs/sha256/" + $0.dropFirst(7) })
        for hashLine in hashes.split(separator: "\n") {
            let fields = hashLine.split(separator: " ", maxSplits: 1)
            XCTAssertEqual(fields.count, 2)
            XCTAssertTrue(fields.last?.hasSuffix(String(fields[0])) == true, "a blob does not hash to its name: \(hashLine)", file: file, line: line)
        }
        XCTAssertEqual(hashes.split(separator: "\n").count, listed.count, "every listed blob is there", file: file, line: line)
        return tags
    }

    func testConcurrentExportsToOneDirectoryKeepBothCachesWhole() throws {
        let dir = work + "/shared-cache"
        let rounds = 4
        for round in 0..<rounds {
            // New bytes every round: each export adds blobs and removes the previous round's.
            try writeContext(work + "/ctx-a", seed: UInt64(round * 2 + 1))
            try writeContext(work + "/ctx-b", seed: UInt64(round * 2 + 2))
            let a = build("a", round: round, cacheTo: "type=local,dest=\(dir),tag=a")
            let b = build("b", round: round, cacheTo: "type=local,dest=\(dir),tag=b")
            let out = try Run.shell("\(a) & a=$!; \(b) & b=$!; wait $a; ra=$?; wait $b; rb=$?; echo $ra $rb")
            let errors = ["a", "b"].map { (try? String(contentsOfFile: "\(work)/\($0)-\(round).err", encoding: .utf8)) ?? "" }
            XCTAssertEqual(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0 0", "round \(round): \(errors)")
            for (name, stderr) in zip(["a", "b"], errors) {
                XCTAssertTrue(stderr.contains("exported the layer cache (3 layers) to \(dir)"), "round \(round) \(name): \(stderr)")
            }
            XCTAssertEqual(Set(try checkDirectory(dir).keys), ["a", "b"], "round \(round)")
        }

        // Each build's cache serves a machine with an empty cache: every layer reused, the
        // same bytes as the build that exported it.
        for name in ["a", "b"] {
            let restored = try Run.slipway(["build", "--progress", "plain", "--cache-dir", "\(work)/fresh-\(name)",
                                            "--cache-from", "type=local,src=\(dir),tag=\(name)",
                                            "--output", "type=oci,dest=\(work)/\(name)-restored.tar", work + "/ctx-" + name])
            XCTAssertEqual(restored.stderr.components(separatedBy: "reused from cache directory").count - 1, 3, restored.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(work)/\(name)-restored.tar")),
                           try Data(contentsOf: URL(fileURLWithPath: "\(work)/\(name)-\(rounds - 1).tar")))
        }

        // Without tag= an import reads every cache of the directory.
        let any = try Run.slipway(["build", "--progress", "plain", "--cache-dir", "\(work)/fresh-any", "--cache-from", "type=local,src=\(dir)",
                                   "--output", "type=oci,dest=\(work)/any.tar", work + "/ctx-b"])
        XCTAssertEqual(any.stderr.components(separatedBy: "reused from cache directory").count - 1, 3, any.stderr)
        let unknown = try Run.slipway(["build", "--progress", "plain", "--cache-dir", "\(work)/fresh-unknown", "--cache-from", "type=local,src=\(dir),tag=nope",
                                       "--output", "type=oci,dest=\(work)/unknown.tar", work + "/ctx-b"])
        XCTAssertTrue(unknown.stderr.contains("no cache tagged 'nope' there (its tags: a, b)"), unknown.stderr)

        // Both at once under one tag (the default): one of them is that cache, whole; the
        // tagged ones stay.
        try writeContext(work + "/ctx-a", seed: 101)
        try writeContext(work + "/ctx-b", seed: 102)
        try Run.mustShell("\(build("a", round: rounds, cacheTo: "type=local,dest=\(dir)")) & a=$!; \(build("b", round: rounds, cacheTo: "type=local,dest=\(dir)")) & b=$!; wait $a && wait $b")
        XCTAssertEqual(Set(try checkDirectory(dir).keys), ["a", "b", "latest"])
        let reused = try ["a", "b"].map { name in
            let out = try Run.slipway(["build", "--progress", "plain", "--cache-dir", "\(work)/fresh-latest-\(name)",
                                       "--cache-from", "type=local,src=\(dir),tag=latest", "--output", "type=oci,dest=\(work)/latest-\(name).tar", work + "/ctx-" + name])
            return out.stderr.components(separatedBy: "reused from cache directory").count - 1
        }
        XCTAssertEqual(reused.sorted(), [0, 3], "the latest cache is one build's, whole")
    }
}
