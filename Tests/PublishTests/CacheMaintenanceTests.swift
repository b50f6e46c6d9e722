import Foundation
import OCI
import TestSupport
import XCTest
@testable import Publish

/// The cache's upkeep (issue 10 item 4): the lease that tells a run whether it is alone,
/// partial files of killed runs, and the size bound kept after each run.
final class CacheMaintenanceTests: XCTestCase {
    private func location() throws -> (TemporaryDirectory, CacheLocation) {
        let directory = try TemporaryDirectory(prefix: "slipway-cache-maint")
        return (directory, CacheLocation(directory.path + "/cache"))
    }

    private func age(_ path: String, by seconds: TimeInterval) {
        let then = Date().addingTimeInterval(-seconds).timeIntervalSince1970
        var times = [timeval(tv_sec: Int(then), tv_usec: 0), timeval(tv_sec: Int(then), tv_usec: 0)]
        _ = utimes(path, &times)
    }

    func testALeaseIsAloneOnlyWhileNoOtherIsHeld() throws {
        let (_, location) = try location()
        let lease = CacheLease(location)
        XCTAssertEqual(lease.ifAlone { 1 }, 1)
        var other: CacheLease? = CacheLease(location)
        XCTAssertNil(lease.ifAlone { 1 }, "another run holds the cache")
        XCTAssertNil(other?.ifAlone { 1 })
        other = nil
        XCTAssertEqual(lease.ifAlone { 2 }, 2, "the lease is still held after a refused conversion, and alone again")
    }

    func testPartialFilesGoWhenNoOtherRunIsActiveElseOnlyOldOnes() throws {
        let (_, location) = try location()
        let store = try location.store()
        let young = store.makeIngestURL().path, old = store.makeIngestURL().path
        try Data(count: 100).write(to: URL(fileURLWithPath: young))
        try Data(count: 100).write(to: URL(fileURLWithPath: old))
        age(old, by: 2 * 3600)

        var running: CacheLease? = CacheLease(location)
        var result = try XCTUnwrap(try location.prune(.unusedFor(30 * 24 * 3600)))
        XCTAssertEqual(result.store.removedIngestFiles, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: young), "a running writer's file was removed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: old))
        XCTAssertNotNil(running)
        running = nil
        result = try XCTUnwrap(try location.prune(.unusedFor(30 * 24 * 3600)))
        XCTAssertEqual(result.store.removedIngestFiles, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: young))
    }

    func testInterruptionRemovesOnlyThisProcessesPartialFiles() throws {
        let (_, location) = try location()
        let store = try location.store()
        let mine = store.makeIngestURL()
        XCTAssertTrue(mine.lastPathComponent.hasPrefix("\(getpid())-"))
        let theirs = store.root.appendingPathComponent("ingest/\(getpid() + 1)-\(UUID().uuidString)")
        try Data("a".utf8).write(to: mine)
        try Data("b".utf8).write(to: theirs)
        XCTAssertEqual(store.removeIngestFiles().files, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: mine.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: theirs.path))
    }

    func testTheBoundDropsOldBlobsAndKeepsTheRunsOwn() throws {
        let (_, location) = try location()
        let store = try location.store()
        var old: [Descriptor] = []
        for i in 0..<4 {
            let blob = try store.put(Data(repeating: UInt8(i), count: 1000), mediaType: "x")
            age(store.blobURL(blob.digest).path, by: Double(100 - i) * 60)
            old.append(blob)
        }
        let run = CacheRun(location)
        let fresh = try store.put(Data(repeating: 9, count: 3000), mediaType: "x")

        // Another run holds the cache: nothing is pruned under it.
        var other: CacheLease? = CacheLease(location)
        XCTAssertNil(run.finish(bound: .bytes(4000)))
        XCTAssertNotNil(other)
        other = nil

        let result = try XCTUnwrap(run.finish(bound: .bytes(4000)))
        XCTAssertEqual(result.removedBlobs, 3, "the three least recently used go, until 4000 bytes remain")
        XCTAssertFalse(store.contains(old[0].digest))
        XCTAssertTrue(store.contains(old[3].digest))
        XCTAssertTrue(store.contains(fresh.digest))
        // The run's own blob stays even when it alone exceeds the bound.
        _ = run.finish(bound: .bytes(10))
        XCTAssertTrue(store.contains(fresh.digest))
        XCTAssertNil(run.finish(bound: .unbounded))
    }

    func testBoundSettings() throws {
        XCTAssertEqual(try CacheSizeBound.resolve(nil, environment: [:]), .automatic)
        XCTAssertEqual(try CacheSizeBound.resolve("0", environment: [:]), .unbounded)
        XCTAssertEqual(try CacheSizeBound.resolve("2GiB", environment: [CacheSizeBound.variable: "1GiB"]), .bytes(2 << 30))
        XCTAssertEqual(try CacheSizeBound.resolve(nil, environment: [CacheSizeBound.variable: "1GiB"]), .bytes(1 << 30))
        XCTAssertThrowsError(try CacheSizeBound.resolve(nil, environment: [CacheSizeBound.variable: "lots"])) { error in
            XCTAssertTrue("\(error)".contains(CacheSizeBound.variable), "\(error)")
        }
        let automatic = try XCTUnwrap(CacheSizeBound.automatic.limit(for: URL(fileURLWithPath: NSTemporaryDirectory() + "/absent/cache")))
        XCTAssertGreaterThanOrEqual(automatic, 1 << 30)
        XCTAssertLessThanOrEqual(automatic, CacheSizeBound.automaticCap)
    }
}
