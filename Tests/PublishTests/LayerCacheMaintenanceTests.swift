import Builder
import Foundation
import OCI
import TestSupport
import XCTest
@testable import Publish

/// `cache prune` keeps the layer cache's index in step with the store: entries whose blob was
/// pruned go, as do temporary files of killed runs; `--all` removes the whole layer cache.
final class LayerCacheMaintenanceTests: XCTestCase {
    private func entry(_ key: String, blob: Digest) throws -> LayerCacheEntry {
        LayerCacheEntry(key: Digest.sha256(of: Data(key.utf8)), digest: blob, size: 4, mediaType: MediaType.layerGzip,
                        diffID: blob, uncompressedSize: 4)
    }

    func testPruneDropsEntriesOfPrunedBlobsAndOldTemporaryFiles() throws {
        let directory = try TemporaryDirectory(prefix: "slipway-layer-maint")
        let location = CacheLocation(directory.path + "/cache")
        let store = try location.store()
        let kept = try store.put(Data("kept".utf8), mediaType: MediaType.layerGzip).digest
        let keys = location.layersDirectory.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        let live = try entry("live", blob: kept), dead = try entry("dead", blob: Digest.sha256(of: Data("gone".utf8)))
        for item in [live, dead] { try CanonicalJSON.encode(item).write(to: keys.appendingPathComponent(item.key.hex)) }
        let oldTemporary = keys.appendingPathComponent(".123-old").path, youngTemporary = keys.appendingPathComponent(".456-young").path
        for path in [oldTemporary, youngTemporary] { try Data("{".utf8).write(to: URL(fileURLWithPath: path)) }
        let then = Date().addingTimeInterval(-7200).timeIntervalSince1970
        var times = [timeval(tv_sec: Int(then), tv_usec: 0), timeval(tv_sec: Int(then), tv_usec: 0)]
        XCTAssertEqual(utimes(oldTemporary, &times), 0)

        _ = try location.prune(.keepBytes(1 << 30))
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: keys.path))
        XCTAssertEqual(names, [live.key.hex, ".456-young"], "the dead entry and the hour-old temporary file went")

        _ = try location.prune(.all)
        XCTAssertFalse(FileManager.default.fileExists(atPath: location.layersDirectory.path), "--all removes the layer cache")
    }
}
