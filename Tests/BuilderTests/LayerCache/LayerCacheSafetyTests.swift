@testable import Builder
import Foundation
import Layers
import OCI
import TestSupport
import XCTest

/// A damaged cache costs a rebuild, never a wrong image: the blob is re-hashed before it is
/// reused, an entry must name its own key, and the memo of file digests is only a shortcut.
final class LayerCacheSafetyTests: XCTestCase {
    typealias Keys = LayerCacheKeyTests

    struct Row: Sendable {
        var name: String
        var damage: @Sendable (LayerCacheHarness, LayerCacheHarness.Outcome) throws -> Void
        var written: Int
    }

    static let rows: [Row] = [
        Row(name: "blob bytes changed in the store", damage: { harness, first in
            let layer = first.image.result.images[0].layers[0]
            let path = harness.store + "/blobs/sha256/" + layer.digest.hex
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 2] ^= 0xff
            try bytes.write(to: URL(fileURLWithPath: path))
        }, written: 1),
        Row(name: "index entries truncated", damage: { harness, _ in
            let keys = harness.layers.appendingPathComponent("keys").path
            for name in try FileManager.default.contentsOfDirectory(atPath: keys) {
                try Data("{\"key\":".utf8).write(to: URL(fileURLWithPath: keys + "/" + name))
            }
        }, written: 2),
        Row(name: "entry filed under another key", damage: { harness, _ in
            let keys = harness.layers.appendingPathComponent("keys").path
            let names = try FileManager.default.contentsOfDirectory(atPath: keys).sorted()
            try FileManager.default.removeItem(atPath: keys + "/" + names[1])
            try FileManager.default.copyItem(atPath: keys + "/" + names[0], toPath: keys + "/" + names[1])
        }, written: 1),
        Row(name: "memo file replaced by garbage", damage: { harness, _ in
            try Data(pseudoRandom(count: 1000, seed: 3)).write(to: harness.layers.appendingPathComponent("file-hashes"))
        }, written: 0),
        Row(name: "memo digests wrong", damage: { harness, _ in
            let url = harness.layers.appendingPathComponent("file-hashes")
            var bytes = try Data(contentsOf: url)
            var offset = FileHashMemo.magic.count + 64
            while offset < bytes.count {
                bytes[offset] ^= 0x55
                offset += FileHashMemo.recordSize
            }
            try bytes.write(to: url)
        }, written: 2),
    ]

    func testADamagedCacheIsRebuiltNeverTrusted() async throws {
        let cold = try await LayerCacheHarness.cold(Keys.baseFiles, Keys.dockerfile)
        for row in Self.rows {
            let harness = try LayerCacheHarness()
            let fixture = try BuildFixture()
            try Keys.baseFiles(fixture)
            let first = try await harness.build(fixture, Keys.dockerfile)
            try row.damage(harness, first)
            let rebuilt = try await harness.build(fixture, Keys.dockerfile)
            XCTAssertEqual(rebuilt.written, row.written, "\(row.name): layers written")
            XCTAssertEqual(rebuilt.root, cold.result.root.digest, "\(row.name): the image is the cold build's")
            for layer in rebuilt.image.result.images[0].layers {
                XCTAssertEqual(try StreamingDigest.file(harness.store + "/blobs/sha256/" + layer.digest.hex), layer.digest,
                               "\(row.name): the store holds good blobs again")
            }
            let after = try await harness.build(fixture, Keys.dockerfile)
            XCTAssertEqual(after.written, 0, "\(row.name): the cache is whole again")
            XCTAssertEqual(after.root, cold.result.root.digest, row.name)
        }
    }

    /// Two memos on one directory (two slipway processes) each save what they hashed: the
    /// file ends with both, never one overwriting the other.
    func testMemosSavedConcurrentlyKeepEveryRecord() throws {
        let directory = try TemporaryDirectory(prefix: "slipway-memo")
        let paths = try (0..<40).map { try directory.write("file\($0)", Array("content \($0)".utf8)) }
        let memos = [FileHashMemo(directory: directory.url("layers")), FileHashMemo(directory: directory.url("layers"))]
        DispatchQueue.concurrentPerform(iterations: 2) { which in
            for (index, path) in paths.enumerated() where index % 2 == which { _ = try? memos[which].digest(ofFile: path) }
            memos[which].save()
        }
        let reopened = try XCTUnwrap(MappedRecords(path: directory.url("layers/file-hashes").path))
        XCTAssertEqual(reopened.count, paths.count, "every record of both processes")
        for path in paths {
            var info = stat()
            XCTAssertEqual(lstat(path, &info), 0)
            XCTAssertEqual(reopened.find(FileIdentity(info)).map { Digest(words: $0.digest) }, try StreamingDigest.file(path))
        }
    }
}
