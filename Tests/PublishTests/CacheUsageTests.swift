import AWS
import Builder
import Foundation
import OCI
import Registry
import TestSupport
import XCTest
@testable import Publish

/// `cache du` and `cache prune` see the same areas (issue 15): blobs, partial files, the layer
/// cache's keys and file-hash memo, tag resolutions, ECR logins and anything else; the areas
/// add up to what `find` counts, prune keeps each area consistent with the blobs, and
/// `--keep-storage` bounds the total.
final class CacheUsageTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var location: CacheLocation!

    override func setUpWithError() throws {
        scratch = try TemporaryDirectory(prefix: "slipway-cache-usage")
        location = CacheLocation(scratch.path + "/cache")
    }

    /// The apparent size of every file under the cache, counted by find (not slipway).
    private func findBytes() throws -> Int64 {
        let sizes = try Run.tool("find", [location.path, "-type", "f", "-printf", "%s\\n"])
        return sizes.split(separator: "\n").reduce(Int64(0)) { $0 + (Int64($1) ?? 0) }
    }

    /// A memo file of two records: one used today, one 40 days ago.
    private func writeMemo() throws {
        var bytes = Array("SLWFHv1\n".utf8)
        let today = UInt64(Date().timeIntervalSince1970 / 86_400)
        for (inode, day) in [(UInt64(1), today - 40), (2, today)] {
            var words = [UInt64](repeating: 0, count: 12)
            words[1] = inode
            words[7] = day
            for word in words { withUnsafeBytes(of: word.littleEndian) { bytes += $0 } }
        }
        try FileManager.default.createDirectory(at: location.layersDirectory, withIntermediateDirectories: true)
        try Data(bytes).write(to: location.layersDirectory.appendingPathComponent("file-hashes"))
    }

    private func writeToken(_ name: String, expiresIn seconds: TimeInterval) throws {
        let directory = location.directory.appendingPathComponent("ecr-auth")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let token = ECRAuthorization(username: "AWS", password: "usage-test-token", expiresAt: Date().addingTimeInterval(seconds),
                                     issuedAt: Date(), proxyEndpoint: "")
        try JSONEncoder().encode(token).write(to: directory.appendingPathComponent(name + ".json"))
    }

    /// One of everything: 2 blobs, a partial file, 2 layer keys (one whose blob is gone), the
    /// memo, 2 tag resolutions (one whose root is gone), 2 ECR logins (one expired), a stray file.
    private func populate() throws -> (kept: Descriptor, old: Descriptor) {
        let store = try location.store()
        let kept = try store.put(Data(repeating: 1, count: 3000), mediaType: MediaType.layerGzip)
        let old = try store.put(Data(repeating: 2, count: 5000), mediaType: MediaType.layerGzip)
        let then = Date().addingTimeInterval(-40 * 86_400).timeIntervalSince1970
        var times = [timeval(tv_sec: Int(then), tv_usec: 0), timeval(tv_sec: Int(then), tv_usec: 0)]
        XCTAssertEqual(utimes(store.blobURL(old.digest).path, &times), 0)
        try Data(count: 700).write(to: store.makeIngestURL())
        let keys = location.layersDirectory.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        for (name, blob) in [("live", kept.digest), ("dead", Digest.sha256(of: Data("gone".utf8)))] {
            let entry = LayerCacheEntry(key: Digest.sha256(of: Data(name.utf8)), digest: blob, size: 3000, mediaType: MediaType.layerGzip,
                                        diffID: blob, uncompressedSize: 3000)
            try CanonicalJSON.encode(entry).write(to: keys.appendingPathComponent(entry.key.hex))
        }
        try writeMemo()
        location.resolutions().record(try ImageReference(parsing: "registry.example.com/app:kept"), kept)
        location.resolutions().record(try ImageReference(parsing: "registry.example.com/app:gone"),
                                      Descriptor(mediaType: MediaType.imageIndex, digest: Digest.sha256(of: Data("no".utf8)), size: 2))
        try writeToken("valid", expiresIn: 3600)
        try writeToken("expired", expiresIn: -60)
        try Data(count: 11).write(to: location.directory.appendingPathComponent("stray.txt"))
        // A RUN cache mount (instance 0 of a key), 900 bytes of content, unused for 40 days.
        let mount = location.runCacheDirectory.appendingPathComponent("k-example/0")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        try Data(count: 900).write(to: mount.appendingPathComponent("go-build.bin"))
        let lock = location.runCacheDirectory.appendingPathComponent("k-example/0.lock").path
        try Data().write(to: URL(fileURLWithPath: lock))
        XCTAssertEqual(utimes(lock, &times), 0)
        return (kept, old)
    }

    func testEveryAreaIsMeasuredAndTheyAddUpToTheDirectory() throws {
        _ = try populate()
        let usage = CacheUsage.measure(location)
        let counts = Dictionary(uniqueKeysWithValues: usage.areas.map { ($0.kind, $0.count) })
        XCTAssertEqual(counts, [.blobs: 2, .partialFiles: 1, .runCacheMounts: 1, .layerKeys: 2, .fileHashMemo: 2, .tagResolutions: 2,
                                .ecrLogins: 2, .other: 1], "the stray file is other")
        XCTAssertEqual(usage[.runCacheMounts].bytes, 900)
        XCTAssertEqual(usage[.blobs].bytes, 8000)
        XCTAssertEqual(usage[.partialFiles].bytes, 700)
        XCTAssertEqual(usage[.fileHashMemo].bytes, 8 + 2 * 96)
        XCTAssertGreaterThan(usage[.layerKeys].bytes, 0)
        XCTAssertGreaterThan(usage[.tagResolutions].bytes, 0)
        XCTAssertGreaterThan(usage[.ecrLogins].bytes, 0)
        XCTAssertEqual(usage.totalBytes, try findBytes(), "every file belongs to one area")
    }

    func testPruneKeepsEveryAreaInStepWithTheBlobs() throws {
        let (kept, old) = try populate()
        let report = try XCTUnwrap(try location.prune(.unusedFor(30 * 86_400)))
        XCTAssertEqual(report.store.removedBlobs, 1)
        let store = location.existingStore()
        XCTAssertTrue(store.contains(kept.digest))
        XCTAssertFalse(store.contains(old.digest))
        XCTAssertEqual(report.removedLayerKeys, 1, "the key whose blob is gone")
        XCTAssertEqual(report.removedResolutions, 1, "the resolution whose root is gone")
        XCTAssertEqual(report.removedECRLogins, 1, "the expired login")
        XCTAssertGreaterThan(report.freedBesideBlobs, 0)
        let usage = CacheUsage.measure(location)
        XCTAssertEqual(usage[.layerKeys].count, 1)
        XCTAssertEqual(usage[.fileHashMemo].count, 1, "the record unused for 40 days went")
        XCTAssertEqual(usage[.tagResolutions].count, 1)
        XCTAssertNotNil(location.resolutions().lookup(try ImageReference(parsing: "registry.example.com/app:kept")))
        XCTAssertEqual(usage[.ecrLogins].count, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: location.path + "/ecr-auth/valid.json"))

        XCTAssertEqual(location.pruneRunCache(.unusedFor(30 * 86_400)).removed, 1, "the mount unused for 40 days")
        XCTAssertEqual(CacheUsage.measure(location)[.runCacheMounts].count, 0)

        // --all: every area empty; only the lock files and the stray file stay.
        let all = try XCTUnwrap(try location.prune(.all))
        XCTAssertEqual(all.removedECRLogins, 1)
        XCTAssertEqual(all.removedResolutions, 1)
        let empty = CacheUsage.measure(location)
        for kind in CacheUsage.Kind.allCases where kind != .other {
            XCTAssertEqual(empty[kind].count, 0, "\(kind)")
            XCTAssertEqual(empty[kind].bytes, 0, "\(kind)")
        }
        XCTAssertEqual(empty.totalBytes, 11)
        XCTAssertEqual(try findBytes(), 11)
    }

    func testKeepStorageBoundsTheWholeCache() throws {
        _ = try populate()
        let before = CacheUsage.measure(location)
        // Room for the layer cache, resolutions, logins and one 3000-byte blob, not two (the
        // partial file is a running writer's; the RUN cache mounts have a bound of their own).
        let bound = before.bytesBoundWithBlobs + 4000
        XCTAssertEqual(before.bytesBoundWithBlobs, before.totalBytes - before[.blobs].bytes - 700 - 900)
        _ = try XCTUnwrap(try location.prune(.keepBytes(bound)))
        let after = CacheUsage.measure(location)
        XCTAssertEqual(after[.blobs].count, 1)
        XCTAssertLessThanOrEqual(after[.blobs].bytes + after.bytesBoundWithBlobs, bound)
        XCTAssertLessThanOrEqual(try findBytes() - after[.runCacheMounts].bytes - after[.partialFiles].bytes, bound)
    }
}
