import Foundation
import TestSupport
import XCTest
@testable import OCI

/// The store and the user's files never share an inode, in either direction, and a blob is
/// verified whenever it enters the store (issue 10, item 2): rewriting a user's file in place
/// can then never change what a later build reads from the store.
final class ContentStoreSharingTests: XCTestCase {
    var work = ""
    var store: ContentStore!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-store-\(UUID().uuidString)").path
        store = try ContentStore(root: URL(fileURLWithPath: work + "/store"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func stat(_ path: String) -> stat {
        var info = Glibc.stat()
        XCTAssertEqual(lstat(path, &info), 0, path)
        return info
    }

    /// A minimal OCI layout holding one blob under `digest` with `content` (which may not match).
    private func layout(_ content: String, as digest: Digest? = nil) throws -> (OCILayoutReader, Digest) {
        let path = work + "/layout-\(UUID().uuidString.prefix(8))"
        let digest = digest ?? Digest.sha256(of: Data(content.utf8))
        try FileManager.default.createDirectory(atPath: path + "/blobs/sha256", withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: path + "/oci-layout"))
        try Data(#"{"schemaVersion":2,"manifests":[]}"#.utf8).write(to: URL(fileURLWithPath: path + "/index.json"))
        try Data(content.utf8).write(to: URL(fileURLWithPath: path + "/blobs/sha256/" + digest.hex))
        return (try OCILayoutReader(path: path), digest)
    }

    private func rewriteInPlace(_ path: String, _ text: String) throws {
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    private func ingestLeftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: work + "/store/ingest")
    }

    func testLayoutBlobIsCopiedNeverLinked() throws {
        let (reader, digest) = try layout("layer bytes")
        try reader.copyBlob(digest, into: store)
        let user = stat(reader.blobPath(digest)), stored = stat(store.blobURL(digest).path)
        XCTAssertNotEqual(user.st_ino, stored.st_ino)
        XCTAssertEqual(user.st_nlink, 1)
        XCTAssertEqual(stored.st_nlink, 1)
        try rewriteInPlace(reader.blobPath(digest), "rewritten by the user")
        XCTAssertTrue(try store.verify(digest), "the user's rewrite reached the store")
        XCTAssertEqual(try store.read(digest), Data("layer bytes".utf8))
    }

    func testLayoutBlobNotMatchingItsDigestIsNeverStored() throws {
        let (reader, digest) = try layout("tampered", as: Digest.sha256(of: Data("genuine".utf8)))
        XCTAssertThrowsError(try reader.copyBlob(digest, into: store)) { error in
            guard case OCIError.digestMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(store.contains(digest))
        XCTAssertEqual(try ingestLeftovers(), [])
    }

    func testFIFOInPlaceOfABlobIsRefusedWithoutHanging() throws {
        let (reader, digest) = try layout("layer bytes")
        unlink(reader.blobPath(digest))
        XCTAssertEqual(mkfifo(reader.blobPath(digest), 0o644), 0)
        XCTAssertThrowsError(try reader.copyBlob(digest, into: store))
        XCTAssertFalse(store.contains(digest))
        XCTAssertEqual(try ingestLeftovers(), [])
    }

    func testCorruptCacheHitIsReplacedFromTheLayout() throws {
        let (reader, digest) = try layout("layer bytes")
        try Data("corrupt".utf8).write(to: store.blobURL(digest))
        try reader.copyBlob(digest, into: store)
        XCTAssertTrue(try store.verify(digest))
        XCTAssertEqual(try ingestLeftovers(), [])
    }

    func testInodeSharedByAnOlderCacheIsMadePrivate() throws {
        // What earlier versions left: the store's blob is the user's file under a second name.
        let (reader, digest) = try layout("layer bytes")
        XCTAssertEqual(link(reader.blobPath(digest), store.blobURL(digest).path), 0)
        try reader.copyBlob(digest, into: store)
        XCTAssertNotEqual(stat(reader.blobPath(digest)).st_ino, stat(store.blobURL(digest).path).st_ino)
        try rewriteInPlace(reader.blobPath(digest), "rewritten by the user")
        XCTAssertTrue(try store.verify(digest))
    }

    func testIngestedCopyIsVerified() throws {
        let file = work + "/user-file"
        try Data("genuine".utf8).write(to: URL(fileURLWithPath: file))
        let digest = Digest.sha256(of: Data("genuine".utf8))
        XCTAssertThrowsError(try store.ingest(copyOf: file, as: Digest.sha256(of: Data("other".utf8)), what: "test file"))
        try store.ingest(copyOf: file, as: digest, what: "test file")
        XCTAssertNotEqual(stat(file).st_ino, stat(store.blobURL(digest).path).st_ino)
        XCTAssertTrue(try store.verify(digest))
        XCTAssertEqual(try ingestLeftovers(), [])
    }

    func testExportedBlobIsANewFile() throws {
        let descriptor = try store.put(Data(String(repeating: "config ", count: 100_000).utf8), mediaType: "application/json")
        let exported = work + "/exported"
        try store.export(descriptor.digest, toNewFile: exported)
        XCTAssertNotEqual(stat(exported).st_ino, stat(store.blobURL(descriptor.digest).path).st_ino)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: exported)), try store.read(descriptor.digest))
        try rewriteInPlace(exported, "edited")
        XCTAssertTrue(try store.verify(descriptor.digest), "the user's edit reached the store")
        XCTAssertThrowsError(try store.export(descriptor.digest, toNewFile: exported), "never overwrites")
    }

    func testCopyOfALargeFileIsComplete() throws {
        // Larger than any single read or write, so the streamed path loops.
        let source = work + "/large", copy = work + "/large-copy"
        var bytes = [UInt8](repeating: 0, count: (5 << 20) + 123)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: source))
        try FileCopy.copy(source, toNewFile: copy)
        XCTAssertEqual(try StreamingDigest.file(copy), Digest.sha256(of: bytes))
    }
}
