import Builder
import Foundation
import Layers
import OCI
import TestSupport
import XCTest

/// Which changes make a layer miss the cache (each input that decides its bytes) and which
/// do not (file times, where the context is, thread count); every cached build is checked
/// byte for byte against a build without any cache.
final class LayerCacheKeyTests: XCTestCase {
    static let dockerfile = "FROM scratch\nCOPY a /a\nCOPY b /b\n"

    static func baseFiles(_ fixture: BuildFixture) throws {
        try fixture.write(["a/f.txt": "hello", "a/g.txt": "world", "b/h.txt": "other"])
        try FileManager.default.createSymbolicLink(atPath: fixture.context + "/a/link", withDestinationPath: "f.txt")
        chmod(fixture.context + "/a", 0o755)
        chmod(fixture.context + "/b", 0o755)
    }

    struct Row: Sendable {
        var name: String
        var dockerfile = LayerCacheKeyTests.dockerfile
        var change: @Sendable (BuildFixture) throws -> Void = { _ in }
        var configure: @Sendable (inout BuildRequest) -> Void = { _ in }
        /// Layers the changed build must write (the rest are reused).
        var written: Int
    }

    static let rows: [Row] = [
        Row(name: "content (same size, same mtime)", change: { fixture in
            let path = fixture.context + "/a/f.txt"
            let before = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date
            try fixture.write(["a/f.txt": "jello"])
            if let before { try FileManager.default.setAttributes([.modificationDate: before], ofItemAtPath: path) }
        }, written: 1),
        Row(name: "mode", change: { chmod($0.context + "/a/f.txt", 0o600) }, written: 1),
        Row(name: "owner", dockerfile: "FROM scratch\nCOPY --chown=1000:1000 a /a\nCOPY b /b\n", written: 1),
        Row(name: "path", dockerfile: "FROM scratch\nCOPY a /c\nCOPY b /b\n", written: 1),
        Row(name: "symlink target", change: { fixture in
            try FileManager.default.removeItem(atPath: fixture.context + "/a/link")
            try FileManager.default.createSymbolicLink(atPath: fixture.context + "/a/link", withDestinationPath: "g.txt")
        }, written: 1),
        Row(name: "SOURCE_DATE_EPOCH", configure: { $0.sourceDateEpoch = 1_700_000_000 }, written: 2),
        Row(name: "compression", configure: { $0.compression = .zstd(level: 3) }, written: 2),
        Row(name: "compression level", configure: { $0.compression = .gzip(level: 9) }, written: 2),
    ]

    func testEveryInputOfALayerChangesItsKey() async throws {
        for row in Self.rows {
            let harness = try LayerCacheHarness()
            let fixture = try BuildFixture()
            try Self.baseFiles(fixture)
            let warm = try await harness.build(fixture, Self.dockerfile)
            XCTAssertEqual(warm.written, 2, row.name)
            try row.change(fixture)
            let changed = try await harness.build(fixture, row.dockerfile, configure: row.configure)
            XCTAssertEqual(changed.written, row.written, "\(row.name): layers written")
            XCTAssertEqual(changed.reused, 2 - row.written, "\(row.name): layers reused")
            let cold = try await LayerCacheHarness.cold({ try Self.baseFiles($0); try row.change($0) }, row.dockerfile, configure: row.configure)
            XCTAssertNotEqual(changed.root, warm.root, "\(row.name) changes the image")
            XCTAssertEqual(changed.root, cold.result.root.digest, "\(row.name): same image as a build without cache")
            XCTAssertEqual(try LayerCacheHarness.layerBytes(changed.image), try LayerCacheHarness.layerBytes(cold), row.name)
            let again = try await harness.build(fixture, row.dockerfile, configure: row.configure)
            XCTAssertEqual(again.written, 0, "\(row.name): the changed input is cached in turn")
            XCTAssertEqual(again.root, cold.result.root.digest, row.name)
        }
    }

    func testUnrelatedChangesKeepTheKey() async throws {
        let harness = try LayerCacheHarness()
        let fixture = try BuildFixture()
        try Self.baseFiles(fixture)
        let cold = try await LayerCacheHarness.cold(Self.baseFiles, Self.dockerfile)
        let first = try await harness.build(fixture, Self.dockerfile)
        XCTAssertEqual(first.root, cold.result.root.digest)

        let later = Date().addingTimeInterval(3600)
        for path in ["a/f.txt", "a/g.txt", "b/h.txt", "a", "b"] {
            try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: fixture.context + "/" + path)
        }
        let touched = try await harness.build(fixture, Self.dockerfile)
        XCTAssertEqual(touched.written, 0, "file times are not part of the input (every entry gets the epoch)")
        XCTAssertEqual(touched.root, cold.result.root.digest)

        let moved = try BuildFixture()
        try Self.baseFiles(moved)
        let elsewhere = try await harness.build(moved, Self.dockerfile)
        XCTAssertEqual(elsewhere.written, 0, "another directory with the same files (new inodes) hits the cache")
        XCTAssertEqual(elsewhere.root, cold.result.root.digest)

        let threads = try await harness.build(fixture, Self.dockerfile) { $0.jobs = 7 }
        XCTAssertEqual(threads.written, 0, "the thread count never changes the bytes")
        XCTAssertEqual(try LayerCacheHarness.layerBytes(threads.image), try LayerCacheHarness.layerBytes(cold))
    }

    func testAHitIsByteIdenticalToAColdBuildAndNoCacheWritesEverything() async throws {
        let harness = try LayerCacheHarness()
        let fixture = try BuildFixture()
        try Self.baseFiles(fixture)
        try fixture.write("a/big.bin", pseudoText(count: 3 << 20, seed: 7))
        let cold = try await LayerCacheHarness.cold({ try Self.baseFiles($0); try $0.write("a/big.bin", pseudoText(count: 3 << 20, seed: 7)) },
                                                    Self.dockerfile)
        _ = try await harness.build(fixture, Self.dockerfile)
        let hit = try await harness.build(fixture, Self.dockerfile)
        XCTAssertEqual(hit.reused, 2)
        XCTAssertEqual(hit.root, cold.result.root.digest)
        XCTAssertEqual(try LayerCacheHarness.layerBytes(hit.image), try LayerCacheHarness.layerBytes(cold))
        XCTAssertEqual(try hit.image.store.read(hit.root), try cold.store.read(cold.result.root.digest), "the manifest bytes too")

        let noCache = try await harness.build(fixture, Self.dockerfile, reuse: false)
        XCTAssertEqual(noCache.written, 2, "--no-cache writes every layer")
        XCTAssertEqual(noCache.reused, 0)
        XCTAssertEqual(noCache.root, cold.result.root.digest)
    }

    func testInlineKeysAreOptInAnnotationsOnTheLayers() async throws {
        let harness = try LayerCacheHarness()
        let fixture = try BuildFixture()
        try Self.baseFiles(fixture)
        let plain = try await harness.build(fixture, Self.dockerfile)
        XCTAssertNil(try plain.image.manifest().layers.first?.annotations, "default images carry no cache annotation")
        let inline = try await harness.build(fixture, Self.dockerfile, inline: true)
        let layers = try inline.image.manifest().layers
        let keyByDigest = Dictionary(uniqueKeysWithValues: inline.image.result.layerCacheEntries.map { ($0.digest, $0.key.description) })
        let keys = layers.compactMap { $0.annotations?[LayerCacheAnnotation.key] }
        XCTAssertEqual(keys, layers.compactMap { keyByDigest[$0.digest] }, "each layer carries its own input key")
        XCTAssertEqual(Set(keys).count, 2)
        XCTAssertEqual(try inline.image.manifest().layers.map(\.digest), try plain.image.manifest().layers.map(\.digest),
                       "the blobs are the same; only the descriptors say more")
    }
}
