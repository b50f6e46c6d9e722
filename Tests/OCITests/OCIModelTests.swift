import Foundation
import TestSupport
import XCTest
@testable import OCI

final class DigestTests: XCTestCase {
    func testKnownSHA256() {
        XCTAssertEqual(Digest.sha256(of: Data("abc".utf8)).description,
                       "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Digest.sha256(of: Data()).hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testParsingRejectsWhatCouldEscapeAPath() {
        XCTAssertThrowsError(try Digest(parsing: "sha256:../../etc/passwd"))
        XCTAssertThrowsError(try Digest(parsing: "sha256:ABCDEF" + String(repeating: "0", count: 58)), "uppercase hex")
        XCTAssertThrowsError(try Digest(parsing: "md5:" + String(repeating: "0", count: 32)))
        XCTAssertThrowsError(try Digest(parsing: "sha256"))
        XCTAssertNoThrow(try Digest(parsing: "sha256:" + String(repeating: "a", count: 64)))
        XCTAssertNoThrow(try Digest(parsing: "sha512:" + String(repeating: "b", count: 128)))
    }

    func testStreamingEqualsOneShot() {
        let hasher = SHA256Hasher()
        let bytes = Array(repeating: UInt8(7), count: 3 << 20)
        for chunk in stride(from: 0, to: bytes.count, by: 100_000) {
            hasher.update(Array(bytes[chunk..<min(chunk + 100_000, bytes.count)]))
        }
        XCTAssertEqual(hasher.finalize(), Digest.sha256(of: bytes))
    }
}

final class PlatformTests: XCTestCase {
    func testNormalisation() throws {
        XCTAssertEqual(try Platform(parsing: "linux/aarch64").description, "linux/arm64")
        XCTAssertEqual(try Platform(parsing: "linux/arm64/v8").description, "linux/arm64")
        XCTAssertEqual(try Platform(parsing: "linux/x86_64").description, "linux/amd64")
        XCTAssertEqual(try Platform(parsing: "linux/arm").description, "linux/arm/v7")
        XCTAssertEqual(try Platform(parsing: "arm64").description, "linux/arm64")
        XCTAssertEqual(try Platform(parsing: "linux/arm/v6").directoryName, "linux_arm_v6")
        XCTAssertThrowsError(try Platform(parsing: "linux//amd64"))
        XCTAssertThrowsError(try Platform(parsing: "a/b/c/d"))
    }

    func testMatchingFollowsContainerd() throws {
        let armV7 = try Platform(parsing: "linux/arm/v7")
        XCTAssertFalse(armV7.matches(try Platform(parsing: "linux/arm/v6")))
        XCTAssertTrue(try Platform(parsing: "linux/arm64").matches(Platform(os: "linux", architecture: "arm64", variant: "v8")))
        XCTAssertTrue(try Platform(parsing: "linux/amd64").matches(Platform(os: "linux", architecture: "amd64")))
        XCTAssertFalse(try Platform(parsing: "linux/amd64").matches(Platform(os: "linux", architecture: "arm64")))
    }
}

final class CanonicalJSONTests: XCTestCase {
    func testSortedKeysNoWhitespaceNoEscapedSlashes() throws {
        let config = Descriptor(mediaType: MediaType.imageConfig, digest: Digest.sha256(of: Data()), size: 2,
                                annotations: ["z": "1", "a": "x/y"])
        let text = String(decoding: try CanonicalJSON.encode(config), as: UTF8.self)
        XCTAssertEqual(text, #"{"annotations":{"a":"x/y","z":"1"},"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","mediaType":"application/vnd.oci.image.config.v1+json","size":2}"#)
    }

    func testDecodeErrorNamesTheField() {
        XCTAssertThrowsError(try CanonicalJSON.decode(Manifest.self, from: Data(#"{"schemaVersion":2,"layers":[]}"#.utf8), what: "manifest")) { error in
            XCTAssertTrue("\(error)".contains("config"), "\(error)")
        }
    }
}

final class ContentStoreTests: XCTestCase {
    func testPutReadVerifyAndTamperDetection() throws {
        let scratch = try TemporaryDirectory(prefix: "slipway-store")
        let root = scratch.url("store")
        let store = try scratch.store()
        let descriptor = try store.put(Data("hello".utf8), mediaType: "text/plain")
        XCTAssertEqual(try store.read(descriptor.digest), Data("hello".utf8))
        XCTAssertTrue(try store.verify(descriptor.digest))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path + "/ingest"), [], "no temporary files left")
        try Data("evil!".utf8).write(to: store.blobURL(descriptor.digest))
        XCTAssertFalse(try store.verify(descriptor.digest))
        XCTAssertThrowsError(try store.read(descriptor.digest))
    }
}
