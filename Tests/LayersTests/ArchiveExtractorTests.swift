import Foundation
import Layers
import OCI
import TestSupport
import XCTest

final class ArchiveExtractorTests: XCTestCase {
    /// A source tree with every kind of entry, archived by the system's tar tools.
    private func makeTree(_ scratch: TemporaryDirectory) throws -> String {
        let root = scratch.url("tree").path
        try scratch.write("tree/top/readme.txt", Array("read me\n".utf8))
        try scratch.write("tree/top/sub/data.bin", pseudoRandom(count: 200_000, seed: 5))
        try Run.mustShell("""
            cd \(Run.quoted(root)) && chmod 0750 top/sub && chmod 0600 top/sub/data.bin && chmod 0755 top && \
            ln -s readme.txt top/link && ln top/readme.txt top/hard && mkdir -p top/empty && \
            chown 1000:1001 top/readme.txt 2>/dev/null; true
            """)
        return root
    }

    func testExtractsArchivesInEveryCompression() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let root = try makeTree(scratch)
        let archives = [
            "plain.tar": "bsdtar -cf OUT -C \(Run.quoted(root)) top",
            "gnu.tar.gz": "tar -czf OUT -C \(Run.quoted(root)) top",
            "bsd.tar.xz": "bsdtar -cJf OUT -C \(Run.quoted(root)) top",
            "bsd.tar.bz2": "bsdtar -cjf OUT -C \(Run.quoted(root)) top",
            "bsd.tar.zst": "bsdtar --zstd -cf OUT -C \(Run.quoted(root)) top",
        ]
        for (name, command) in archives.sorted(by: { $0.key < $1.key }) {
            let archive = scratch.url(name).path
            try Run.mustShell(command.replacingOccurrences(of: "OUT", with: Run.quoted(archive)))
            XCTAssertTrue(ArchiveExtractor.isArchive(archive), name)
            let out = scratch.url("x-\(name)").path
            let entries = try ArchiveExtractor.extract(archive, into: out, maxBytes: 1 << 30)
            XCTAssertEqual(entries.map(\.path), ["top", "top/empty", "top/hard", "top/link", "top/readme.txt", "top/sub", "top/sub/data.bin"], name)
            let byPath = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0) })
            XCTAssertEqual(byPath["top/sub"]?.kind, .directory)
            XCTAssertEqual(byPath["top/sub"]?.mode, 0o750)
            XCTAssertEqual(byPath["top/link"]?.kind, .symlink(target: "readme.txt"))
            // tar stores the first name it meets as the file; which one that is depends on the
            // tool's directory walk, so accept either direction.
            let hard = byPath["top/hard"]!.kind, readme = byPath["top/readme.txt"]!.kind
            XCTAssertTrue(hard == .hardlink(target: "top/readme.txt") || readme == .hardlink(target: "top/hard"), "\(hard) \(readme)")
            if getuid() == 0 {
                XCTAssertEqual(byPath["top/readme.txt"].map { [$0.uid, $0.gid] }, [1000, 1001], name)
            }
            guard case .regularFile(.path(let dataFile)) = byPath["top/sub/data.bin"]!.kind else { return XCTFail(name) }
            XCTAssertEqual(byPath["top/sub/data.bin"]?.mode, 0o600)
            XCTAssertTrue(dataFile.hasPrefix(out + "/"), dataFile)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dataFile)), Data(pseudoRandom(count: 200_000, seed: 5)))

            // What comes out can go straight into a layer.
            let blob = try LayerWriter.write(entries, options: LayerOptions(compression: .gzip(level: 1), jobs: 2), into: try scratch.store())
            XCTAssertTrue(try Run.mustShell("bsdtar -tvf \(Run.quoted(scratch.store().blobURL(blob.digest).path))").contains("top/sub/data.bin"))
        }
    }

    func testNonArchivesAreRecognised() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let text = try scratch.write("notes.txt", Array(String(repeating: "just text\n", count: 200).utf8))
        let empty = try scratch.write("empty", [])
        let emptyTar = try scratch.write("empty.tar", rawTarEnd())
        try Run.mustShell("gzip -k \(Run.quoted(text))")
        XCTAssertFalse(ArchiveExtractor.isArchive(text))
        XCTAssertFalse(ArchiveExtractor.isArchive(text + ".gz"), "a compressed non-tar is copied, not extracted")
        XCTAssertFalse(ArchiveExtractor.isArchive(empty))
        XCTAssertFalse(ArchiveExtractor.isArchive(emptyTar))
        XCTAssertFalse(ArchiveExtractor.isArchive(scratch.path + "/missing"))
    }

    func testPathsAreCleanedAndAncestorsAdded() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let archive = try scratch.write("a.tar", rawTarEntry(name: "/abs/file", content: Array("x".utf8))
            + rawTarEntry(name: "./rel//./deep/file", content: Array("y".utf8), mode: 0o640)
            + rawTarEntry(name: "./", type: UInt8(ascii: "5"), mode: 0o700)
            + rawTarEnd())
        let entries = try ArchiveExtractor.extract(archive, into: scratch.url("out").path, maxBytes: 100)
        XCTAssertEqual(entries.map(\.path), ["abs", "abs/file", "rel", "rel/deep", "rel/deep/file"])
        XCTAssertEqual(entries[0], .directory("abs", mode: 0o755))
        XCTAssertEqual(entries[4].mode, 0o640)
    }

    func testEscapingEntriesAreRefused() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let cases: [(String, [UInt8], String)] = [
            ("dotdot.tar", rawTarEntry(name: "../evil", content: Array("x".utf8)), "../evil"),
            ("inner.tar", rawTarEntry(name: "a/../../evil"), "a/../../evil"),
            ("hardlink.tar", rawTarEntry(name: "ok") + rawTarEntry(name: "h", type: UInt8(ascii: "1"), linkName: "../../etc/passwd"), "h"),
            ("dangling.tar", rawTarEntry(name: "h", type: UInt8(ascii: "1"), linkName: "nowhere"), "h"),
            ("below-symlink.tar", rawTarEntry(name: "a", type: UInt8(ascii: "2"), linkName: "/etc")
                + rawTarEntry(name: "a/passwd", content: Array("root::0:0::/:/bin/sh\n".utf8)), "a/passwd"),
            ("fifo.tar", rawTarEntry(name: "pipe", type: UInt8(ascii: "6")), "pipe"),
        ]
        for (name, bytes, entry) in cases {
            let archive = try scratch.write(name, bytes + rawTarEnd())
            let out = scratch.url("out-\(name)").path
            XCTAssertThrowsError(try ArchiveExtractor.extract(archive, into: out, maxBytes: 1 << 20), name) { error in
                guard case LayerError.unsafeArchiveEntry(archive, entry, _) = error else { return XCTFail("\(name): \(error)") }
                XCTAssertTrue("\(error)".contains(entry), "\(error)")
            }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [], "\(name): scratch files left")
        }
    }

    func testOversizeArchiveIsRefused() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        // 8 MB of zeros compress to a few KB: the kind of archive the limit is for.
        let tar = try scratch.write("bomb.tar", rawTarEntry(name: "small", content: [1, 2, 3])
            + rawTarEntry(name: "zeros", content: [UInt8](repeating: 0, count: 8 << 20)) + rawTarEnd())
        try Run.mustShell("gzip \(Run.quoted(tar))")
        let out = scratch.url("out").path
        XCTAssertThrowsError(try ArchiveExtractor.extract(tar + ".gz", into: out, maxBytes: 1 << 20)) { error in
            XCTAssertEqual(error as? LayerError, .archiveTooLarge(archive: tar + ".gz", entry: "zeros", limit: 1 << 20))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [])
        XCTAssertEqual(try ArchiveExtractor.extract(tar + ".gz", into: out, maxBytes: 9 << 20).count, 2)
    }

    func testLaterEntryOfTheSameNameWins() throws {
        let scratch = try TemporaryDirectory(prefix: "layers-tests")
        let archive = try scratch.write("dup.tar", rawTarEntry(name: "f", content: Array("old".utf8))
            + rawTarEntry(name: "f", content: Array("new".utf8), mode: 0o600) + rawTarEnd())
        let out = scratch.url("out").path
        let entries = try ArchiveExtractor.extract(archive, into: out, maxBytes: 100)
        XCTAssertEqual(entries.count, 1)
        guard case .regularFile(.path(let file)) = entries[0].kind else { return XCTFail() }
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "new")
        XCTAssertEqual(entries[0].mode, 0o600)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).count, 1)
    }
}
