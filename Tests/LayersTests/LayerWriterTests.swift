import Foundation
import Layers
import OCI
import TestSupport
import XCTest

final class LayerWriterTests: XCTestCase {
    static let mtime: Int64 = 1_700_000_000
    static let longDirectory = "app/" + String(repeating: "d", count: 120)
    static let longFile = longDirectory + "/" + String(repeating: "f", count: 150)
    static let longTarget = String(repeating: "t/", count: 80) + "end"

    /// A layer exercising every kind of entry and every header extension: > 1 MiB of text (many
    /// gzip blocks), incompressible bytes, setuid and sticky modes, big ids, a 275-byte path, a
    /// 163-byte symlink target, a non-ASCII name, an empty file and a hard link.
    func sampleEntries(in scratch: TemporaryDirectory) throws -> [LayerEntry] {
        let tool = try scratch.write("src/tool", pseudoText(count: 1_500_000, seed: 1))
        let data = try scratch.write("src/data.bin", pseudoRandom(count: 300_000, seed: 2))
        let long = try scratch.write("src/long", Array("long\n".utf8))
        return [
            .directory("app"),
            .directory("app/bin", mode: 0o750, uid: 1000, gid: 1000),
            .file("app/bin/tool", source: .path(tool), mode: 0o4755),
            .file("app/data.bin", source: .path(data), mode: 0o640, uid: 3_000_000, gid: 3_000_001),
            .file("app/hello.txt", source: .bytes(Array("hello\n".utf8))),
            .hardlink("app/hard", target: "app/hello.txt"),
            .file("app/empty", source: .bytes([])),
            .symlink("app/link", target: "bin/tool"),
            .symlink("app/longlink", target: Self.longTarget),
            .file("app/café", source: .bytes(Array("ü\n".utf8))),
            .directory(Self.longDirectory),
            .file(Self.longFile, source: .path(long)),
            .directory("etc", mode: 0o1777),
        ]
    }

    func write(_ entries: [LayerEntry], _ compression: LayerCompression, jobs: Int = 2,
               store: ContentStore, mtime: Int64 = LayerWriterTests.mtime) throws -> LayerBlob {
        try LayerWriter.write(entries, options: LayerOptions(mtime: mtime, compression: compression, jobs: jobs), into: store)
    }

    // MARK: determinism

    func testGzipIsIndependentOfOrderAndJobs() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        let entries = try sampleEntries(in: scratch)
        let reference = try write(entries, .gzip(level: 6), jobs: 1, store: store)
        var generator = SystemRandomNumberGenerator()
        for jobs in [8, 3, 2] {
            let blob = try write(entries.shuffled(using: &generator), .gzip(level: 6), jobs: jobs, store: store)
            XCTAssertEqual(blob, reference, "jobs=\(jobs)")
        }
        XCTAssertGreaterThan(reference.uncompressedSize, 12 * 128 * 1024, "must span many gzip blocks")
        XCTAssertEqual(reference.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip")
        let plain = try write(entries, .uncompressed, store: store)
        XCTAssertEqual(plain.diffID, reference.diffID)
        XCTAssertEqual(plain.digest, plain.diffID)
        XCTAssertEqual(plain.size, reference.uncompressedSize)
    }

    func testZstdIsIndependentOfOrderAndJobs() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        // Level 1 uses 2 MiB zstd jobs, so 9 MB make several jobs for the workers.
        var entries = try sampleEntries(in: scratch)
        let big = try scratch.write("src/big", pseudoText(count: 9_000_000, seed: 3))
        entries.append(.file("app/big", source: .path(big)))
        for level in [1, 3] {
            let reference = try write(entries, .zstd(level: level), jobs: 1, store: store)
            for jobs in [8, 3] {
                let blob = try write(entries.reversed(), .zstd(level: level), jobs: jobs, store: store)
                XCTAssertEqual(blob, reference, "level=\(level) jobs=\(jobs)")
            }
        }
    }

    func testHardLinkGroupsAreCanonical() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        let content = LayerEntry.FileSource.bytes(Array("shared\n".utf8))
        let a = try write([.file("b", source: content), .hardlink("a", target: "b"), .hardlink("c", target: "a")],
                          .uncompressed, store: store)
        let b = try write([.hardlink("b", target: "c"), .hardlink("a", target: "c"), .file("c", source: content)],
                          .uncompressed, store: store)
        XCTAssertEqual(a.digest, b.digest)
        let listing = try Run.mustShell("bsdtar -tvf \(Run.quoted(store.blobURL(a.digest).path))")
        XCTAssertTrue(listing.contains("b link to a"), listing)
        XCTAssertTrue(listing.contains("c link to a"), listing)
    }

    /// The bytes of a layer written in this process equal those written by a second process
    /// (another pid, another start time): no variable data reaches the headers.
    func testSameBytesFromAnotherProcess() throws {
        #if os(Linux)
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        let entries = try sampleEntries(in: scratch)
        let gzip = try write(entries, .gzip(level: 6), store: store)
        let zstd = try write(entries, .zstd(level: 3), store: store)
        let other = try TemporaryDirectory(prefix: "layers-tests")
        let helper = "LayersTests.LayerWriterTests/testHelperWritesSampleLayer"
        let result = try Run.shell("LAYERS_TEST_HELPER_DIR=\(Run.quoted(other.path)) \(Run.quoted(CommandLine.arguments[0])) \(helper)")
        XCTAssertEqual(result.status, 0, result.stderr)
        let otherStore = try other.store()
        for blob in [gzip, zstd] {
            XCTAssertTrue(otherStore.contains(blob.digest), "the other process wrote different bytes for \(blob.mediaType)")
            XCTAssertEqual(try Data(contentsOf: store.blobURL(blob.digest)), try Data(contentsOf: otherStore.blobURL(blob.digest)))
        }
        #else
        throw XCTSkip("re-invoking the test binary is only set up for Linux")
        #endif
    }

    /// Writes the sample layer into $LAYERS_TEST_HELPER_DIR for `testSameBytesFromAnotherProcess`;
    /// does nothing in a normal run.
    func testHelperWritesSampleLayer() throws {
        guard let dir = ProcessInfo.processInfo.environment["LAYERS_TEST_HELPER_DIR"] else { return }
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try ContentStore(root: URL(fileURLWithPath: dir).appendingPathComponent("store"))
        let entries = try sampleEntries(in: scratch)
        _ = try write(entries, .gzip(level: 6), jobs: 3, store: store)
        _ = try write(entries, .zstd(level: 3), jobs: 5, store: store)
    }

    /// The tar encoding is pinned: a change of libarchive's output (or of our options) shows
    /// up here before it changes every user's layer digests.
    func testTarEncodingIsPinned() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let entries: [LayerEntry] = [
            .directory("etc"),
            .file("etc/hostname", source: .bytes(Array("slipway\n".utf8)), mode: 0o644),
            .symlink("etc/localtime", target: "/usr/share/zoneinfo/UTC"),
            .file("etc/" + String(repeating: "n", count: 120), source: .bytes([1, 2, 3]), mode: 0o600, uid: 1, gid: 2),
        ]
        let blob = try write(entries, .uncompressed, store: try scratch.store(), mtime: 0)
        XCTAssertEqual(blob.diffID.description, "sha256:4a622975e1dcd72b0319a176bd307d228d4526e583a559c53ba3b8f79a7ba361")
    }

    // MARK: validity, checked by other tools

    func testHeadersCarryOnlyEntryData() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        let blob = try write(try sampleEntries(in: scratch), .uncompressed, store: store)
        let headers = parseTar(Array(try Data(contentsOf: store.blobURL(blob.digest))))
        let expectedMtime = String(Self.mtime, radix: 8)
        XCTAssertEqual(headers.filter { $0.typeflag != UInt8(ascii: "x") }.count, 13)
        for header in headers {
            XCTAssertEqual(header.magic, Array("ustar\u{0}00".utf8), header.name)
            XCTAssertTrue(header.uname.allSatisfy { $0 == 0 } && header.gname.allSatisfy { $0 == 0 }, header.name)
            XCTAssertEqual(Int(header.mtimeField.trimmingCharacters(in: .whitespaces), radix: 8),
                           Int(expectedMtime, radix: 8), header.name)
            XCTAssertFalse(header.name.contains("PaxHeader."), "pid in \(header.name)")
            if let records = header.paxRecords {
                for key in ["atime", "ctime", "uname", "gname", "hdrcharset", "SCHILY", "LIBARCHIVE"] {
                    XCTAssertFalse(records.contains(key), "pax record \(key) in \(records)")
                }
            }
        }
        let pax = headers.compactMap(\.paxRecords).joined()
        XCTAssertTrue(pax.contains("path=\(Self.longFile)\n"), pax)
        XCTAssertTrue(pax.contains("linkpath=\(Self.longTarget)\n"), pax)
        XCTAssertTrue(pax.contains("uid=3000000\n") && pax.contains("gid=3000001\n"), pax)
        XCTAssertTrue(pax.contains("path=app/café\n"), pax)
    }

    func testGzipLayerIsValidForOtherTools() throws {
        try checkWithTools(.gzip(level: 6), test: "gzip -t", decompress: "gzip -dc")
    }

    func testZstdLayerIsValidForOtherTools() throws {
        guard Run.isInstalled("zstd") else { throw XCTSkip("zstd CLI not installed") }
        try checkWithTools(.zstd(level: 3), test: "zstd -q -t", decompress: "zstd -q -dc")
    }

    func testUncompressedLayerIsValidForOtherTools() throws {
        try checkWithTools(.uncompressed, test: "true", decompress: "cat")
    }

    private func checkWithTools(_ compression: LayerCompression, test: String, decompress: String) throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        let blob = try write(try sampleEntries(in: scratch), compression, store: store)
        let file = store.blobURL(blob.digest).path
        try Run.mustShell("\(test) \(Run.quoted(file))")
        XCTAssertEqual(try Run.mustShell("sha256sum \(Run.quoted(file))").prefix(64), Substring(blob.digest.hex))
        XCTAssertEqual(try Run.mustShell("\(decompress) \(Run.quoted(file)) | sha256sum").prefix(64), Substring(blob.diffID.hex))
        XCTAssertEqual(try Run.mustShell("\(decompress) \(Run.quoted(file)) | wc -c").trimmingCharacters(in: .whitespacesAndNewlines),
                       String(blob.uncompressedSize))
        XCTAssertEqual(Int64(try FileManager.default.attributesOfItem(atPath: file)[.size] as! Int), blob.size)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("ingest").path), [])

        let listing = try Run.mustShell("bsdtar -tvvf \(Run.quoted(file))")
        XCTAssertTrue(listing.contains("POSIX pax interchange format"), listing)
        // name -> "mode uid gid size" (the date column depends on the time zone).
        var columns: [String: String] = [:]
        for line in listing.split(separator: "\n") {
            let tokens = line.split(separator: " ", omittingEmptySubsequences: true)
            guard tokens.count >= 9 else { continue }
            let name = tokens[8...].joined(separator: " ")
            columns[name] = [tokens[0], tokens[2], tokens[3], tokens[4]].joined(separator: " ")
        }
        let expected: [String: String] = [
            "app/": "drwxr-xr-x 0 0 0",
            "app/bin/": "drwxr-x--- 1000 1000 0",
            "app/bin/tool": "-rwsr-xr-x 0 0 1500000",
            "app/data.bin": "-rw-r----- 3000000 3000001 300000",
            "app/hard": "-rw-r--r-- 0 0 6",
            "app/hello.txt link to app/hard": "hrw-r--r-- 0 0 0",
            "app/empty": "-rw-r--r-- 0 0 0",
            "app/link -> bin/tool": "lrwxrwxrwx 0 0 0",
            "app/longlink -> \(Self.longTarget)": "lrwxrwxrwx 0 0 0",
            "app/café": "-rw-r--r-- 0 0 3",
            Self.longDirectory + "/": "drwxr-xr-x 0 0 0",
            Self.longFile: "-rw-r--r-- 0 0 5",
            "etc/": "drwxrwxrwt 0 0 0",
        ]
        XCTAssertEqual(columns, expected, listing)
        let names = try Run.mustShell("bsdtar -tf \(Run.quoted(file))").split(separator: "\n").map(String.init)
        XCTAssertEqual(names, names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })

        guard getuid() == 0 else { return }  // restoring owners needs root
        let out = scratch.url("out").path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Run.mustShell("bsdtar -xpf \(Run.quoted(file)) -C \(Run.quoted(out))")
        func info(_ path: String) throws -> stat {
            var st = stat()
            XCTAssertEqual(lstat(out + "/" + path, &st), 0, path)
            return st
        }
        let tool = try info("app/bin/tool")
        XCTAssertEqual(tool.st_mode & 0o7777, 0o4755)
        XCTAssertEqual(Int64(tool.st_mtim.tv_sec), Self.mtime)
        let data = try info("app/data.bin")
        XCTAssertEqual([data.st_uid, data.st_gid], [3_000_000, 3_000_001])
        XCTAssertEqual(try info("app/bin").st_uid, 1000)
        XCTAssertEqual(try info("etc").st_mode & 0o7777, 0o1777)
        XCTAssertEqual(try info("app/hard").st_ino, try info("app/hello.txt").st_ino)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/app/longlink"), Self.longTarget)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/app/bin/tool")),
                       try Data(contentsOf: scratch.url("src/tool")))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/" + Self.longFile)), Data("long\n".utf8))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/app/café")), Data("ü\n".utf8))
    }

    func testEmptyLayerIsTheWellKnownEmptyTar() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        for compression in [LayerCompression.gzip(level: 6), .zstd(level: 3), .uncompressed] {
            let blob = try write([], compression, store: store)
            // Two zero blocks, as docker's and BuildKit's empty layers.
            XCTAssertEqual(blob.diffID.description, "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef")
            XCTAssertEqual(blob.uncompressedSize, 1024)
        }
        let gzip = try write([], .gzip(level: 6), store: store)
        try Run.mustShell("gzip -t \(Run.quoted(store.blobURL(gzip.digest).path))")
    }

    func testGzipLevelsAndExactBlockMultiples() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        // 256 KiB - 1024 of content + 512 header + 1024 end = exactly two 128 KiB blocks.
        let entries: [LayerEntry] = [.file("f", source: .bytes(pseudoText(count: 256 * 1024 - 1536, seed: 9)))]
        for level in [0, 1, 9] {
            let blob = try write(entries, .gzip(level: level), jobs: 2, store: store)
            XCTAssertEqual(blob.uncompressedSize, 256 * 1024)
            XCTAssertEqual(try Run.mustShell("gzip -dc \(Run.quoted(store.blobURL(blob.digest).path)) | sha256sum").prefix(64),
                           Substring(blob.diffID.hex))
        }
    }

    // MARK: errors

    func testInvalidPathsAreRefused() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        let bad = ["../evil", "a/../b", "/abs", "a//b", "a/", "./a", "a/.", ""]
        for path in bad {
            XCTAssertThrowsError(try write([.file(path, source: .bytes([]))], .gzip(level: 6), store: store), path) { error in
                guard case LayerError.invalidPath(let reported, _) = error else { return XCTFail("\(path): \(error)") }
                XCTAssertEqual(reported, path)
            }
        }
        XCTAssertThrowsError(try write([.hardlink("a", target: "../x")], .uncompressed, store: store))
        XCTAssertThrowsError(try write([.file("a", source: .path("relative/file"))], .uncompressed, store: store))
        XCTAssertThrowsError(try write([.symlink("a", target: "")], .uncompressed, store: store))
        XCTAssertThrowsError(try write([.file("a", source: .bytes([]), uid: -1)], .uncompressed, store: store))
        try assertStoreEmpty(store)
    }

    func testDuplicatesAndInconsistentEntriesAreRefused() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        XCTAssertThrowsError(try write([.directory("a"), .file("a", source: .bytes([]))], .gzip(level: 6), store: store)) {
            XCTAssertEqual($0 as? LayerError, .duplicatePath("a"))
            XCTAssertTrue("\($0)".contains("'a'"))
        }
        XCTAssertThrowsError(try write([.symlink("a", target: "/etc"), .file("a/passwd", source: .bytes([]))],
                                       .uncompressed, store: store)) {
            guard case LayerError.invalidEntry("a/passwd", _) = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try write([.directory("d"), .hardlink("h", target: "d")], .uncompressed, store: store))
        XCTAssertThrowsError(try write([.hardlink("x", target: "y"), .hardlink("y", target: "x")], .uncompressed, store: store))
        XCTAssertThrowsError(try write([], .gzip(level: 12), store: store)) {
            guard case LayerError.invalidOptions = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try write([], .zstd(level: 99), store: store))
        try assertStoreEmpty(store)
    }

    func testFailureMidStreamLeavesNoIngestFile() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        let big = try scratch.write("src/big", pseudoText(count: 3_000_000, seed: 4))
        for compression in [LayerCompression.gzip(level: 6), .zstd(level: 3), .uncompressed] {
            let entries: [LayerEntry] = [.file("a", source: .path(big)), .file("b", source: .path(scratch.path + "/missing"))]
            XCTAssertThrowsError(try write(entries, compression, jobs: 3, store: store)) {
                XCTAssertTrue("\($0)".contains("missing"), "\($0)")
                XCTAssertTrue("\($0)".contains("'b'"), "\($0)")
            }
            try assertStoreEmpty(store)
        }
        // A directory is not a regular file.
        XCTAssertThrowsError(try write([.file("a", source: .path(scratch.path))], .gzip(level: 6), store: store))
        try assertStoreEmpty(store)
    }

    func testFileWhoseSizeChangesIsAnError() throws {
        #if os(Linux)
        // procfs files report size 0 but have content: to the writer, the file grew.
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let store = try scratch.store()
        XCTAssertThrowsError(try write([.file("status", source: .path("/proc/self/status"))], .gzip(level: 6), store: store)) {
            guard case LayerError.fileChanged(entry: "status", source: "/proc/self/status", expected: 0, _) = $0 else {
                return XCTFail("\($0)")
            }
        }
        try assertStoreEmpty(store)
        #else
        throw XCTSkip("needs procfs")
        #endif
    }

    private func assertStoreEmpty(_ store: ContentStore, file: StaticString = #filePath, line: UInt = #line) throws {
        let fm = FileManager.default
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: store.root.appendingPathComponent("ingest").path), [],
                       "ingest/ not empty", file: file, line: line)
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: store.root.appendingPathComponent("blobs/sha256").path), [],
                       "blobs/ not empty", file: file, line: line)
    }
}
