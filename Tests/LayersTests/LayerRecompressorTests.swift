import Foundation
import Layers
import OCI
import TestSupport
import XCTest

/// `force-compression`: base layers made by other tools (gzip, pigz, zstd, several gzip
/// members or zstd frames, uncompressed) recompressed by `LayerRecompressor`, the result read
/// back with gzip(1), zstd(1) and bsdtar, hashed by openssl; corrupt inputs refused with
/// nothing left in the store.
final class LayerRecompressorTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var store: ContentStore!
    /// A tar made by bsdtar: 3 MB of incompressible bytes and some text.
    private var tar = ""
    private var diffID: Digest!

    override func setUpWithError() throws {
        scratch = try TemporaryDirectory(prefix: "recompress-tests")
        store = try ContentStore(root: scratch.url("store"))
        try scratch.write("tree/bin/data", pseudoRandom(count: 3_000_000, seed: 11))
        try scratch.write("tree/etc/motd", Array(String(repeating: "hello layer\n", count: 5000).utf8))
        tar = scratch.url("layer.tar").path
        try Run.mustShell("bsdtar --format pax -cf \(Run.quoted(tar)) -C \(Run.quoted(scratch.url("tree").path)) bin etc")
        diffID = try Digest(parsing: "sha256:" + sha256(try Data(contentsOf: URL(fileURLWithPath: tar))))
    }

    /// Stores the file `command` writes to OUT (IN is the tar) as a blob of `mediaType`.
    private func blob(_ command: String, mediaType: String) throws -> Descriptor {
        let out = scratch.url(UUID().uuidString).path
        try Run.mustShell(command.replacingOccurrences(of: "IN", with: Run.quoted(tar)).replacingOccurrences(of: "OUT", with: Run.quoted(out)))
        return try store.put(try Data(contentsOf: URL(fileURLWithPath: out)), mediaType: mediaType)
    }

    /// What an independent decompressor makes of a stored blob, hashed by openssl.
    private func decompressedDigest(_ blob: LayerBlob) throws -> String {
        let path = store.blobURL(blob.digest).path
        let tool: String
        switch blob.mediaType {
        case MediaType.layerZstd: tool = "zstd -dc"
        case MediaType.layerGzip: tool = "gzip -dc"
        default: tool = "cat"
        }
        return "sha256:" + (try Run.mustShell("\(tool) \(Run.quoted(path)) | openssl dgst -sha256 -r").prefix(64))
    }

    private func ingestIsEmpty() throws -> Bool {
        try FileManager.default.contentsOfDirectory(atPath: scratch.url("store/ingest").path).isEmpty
    }

    func testLayersFromOtherToolsBecomeEveryCompression() throws {
        let inputs: [(String, String, String)] = [
            ("gzip", "gzip -9 -nc IN > OUT", MediaType.layerGzip),
            ("pigz", "pigz -p 2 -c IN > OUT", MediaType.dockerLayerGzip),
            ("two gzip members", "head -c 1000000 IN | gzip -c > OUT && tail -c +1000001 IN | gzip -c >> OUT", MediaType.layerGzip),
            ("zstd", "zstd -q -19 -c IN > OUT", MediaType.layerZstd),
            ("two zstd frames", "head -c 1000000 IN | zstd -q -c > OUT && tail -c +1000001 IN | zstd -q -c >> OUT", MediaType.layerZstd),
            ("uncompressed", "cp IN OUT", MediaType.layerTar),
        ]
        for (name, command, mediaType) in inputs {
            let layer = try blob(command, mediaType: mediaType)
            for compression in [LayerCompression.zstd(level: 3), .gzip(level: 6), .uncompressed] {
                let blob = try LayerRecompressor.recompress(layer, diffID: diffID, to: compression, jobs: 2, store: store)
                XCTAssertEqual(blob.diffID, diffID, "\(name) → \(compression)")
                XCTAssertEqual(blob.mediaType, compression.mediaType)
                XCTAssertEqual(try decompressedDigest(blob), diffID.description, "\(name) → \(compression): the new blob holds the same tar")
                XCTAssertEqual("sha256:" + sha256(try Data(contentsOf: store.blobURL(blob.digest))), blob.digest.description)
                XCTAssertEqual(Int64(try Data(contentsOf: store.blobURL(blob.digest)).count), blob.size)
            }
        }
        let listing = try Run.tool("bsdtar", ["-tf", store.blobURL(try LayerRecompressor.recompress(
            try blob("gzip -c IN > OUT", mediaType: MediaType.layerGzip), diffID: diffID, to: .zstd(level: 3), jobs: 1, store: store).digest).path])
        XCTAssertEqual(listing.split(separator: "\n").sorted(), ["bin/", "bin/data", "etc/", "etc/motd"])
        XCTAssertTrue(try ingestIsEmpty())
    }

    func testAWrongDiffIDIsRefusedAndNothingIsStored() throws {
        let layer = try blob("gzip -c IN > OUT", mediaType: MediaType.layerGzip)
        let before = try FileManager.default.contentsOfDirectory(atPath: scratch.url("store/blobs/sha256").path).count
        let other = try Digest(parsing: "sha256:" + String(repeating: "0", count: 64))
        XCTAssertThrowsError(try LayerRecompressor.recompress(layer, diffID: other, to: .zstd(level: 3), jobs: 1, store: store)) { error in
            XCTAssertTrue("\(error)".contains("decompresses to \(self.diffID!), but its image config lists \(other)"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.url("store/blobs/sha256").path).count, before)
        XCTAssertTrue(try ingestIsEmpty())
    }

    func testATamperedTruncatedOrMislabelledBlobIsRefused() throws {
        let layer = try blob("gzip -c IN > OUT", mediaType: MediaType.layerGzip)
        // A blob changed in the cache after it was verified: the bytes no longer hash to the digest.
        let path = store.blobURL(layer.digest).path
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try LayerRecompressor.recompress(layer, diffID: diffID, to: .zstd(level: 3), jobs: 1, store: store)) { error in
            XCTAssertTrue("\(error)".contains("does not match its digest"), "\(error)")
        }
        // A gzip stream cut short, stored under its own digest.
        let truncated = try blob("gzip -c IN | head -c 500000 > OUT", mediaType: MediaType.layerGzip)
        XCTAssertThrowsError(try LayerRecompressor.recompress(truncated, diffID: diffID, to: .zstd(level: 3), jobs: 1, store: store)) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
        let cutZstd = try blob("zstd -q -c IN | head -c 500000 > OUT", mediaType: MediaType.layerZstd)
        XCTAssertThrowsError(try LayerRecompressor.recompress(cutZstd, diffID: diffID, to: .gzip(level: 6), jobs: 1, store: store)) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
        // zstd bytes labelled gzip.
        let mislabelled = try blob("zstd -q -c IN > OUT", mediaType: MediaType.layerGzip)
        XCTAssertThrowsError(try LayerRecompressor.recompress(mislabelled, diffID: diffID, to: .zstd(level: 3), jobs: 1, store: store)) { error in
            XCTAssertTrue("\(error)".contains("gzip stream is corrupt"), "\(error)")
        }
        XCTAssertTrue(try ingestIsEmpty())
    }
}
