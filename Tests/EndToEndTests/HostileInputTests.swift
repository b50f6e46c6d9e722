import Foundation
import TestSupport
import XCTest

/// Hostile build input (issue 6, section 4), through the built binary: each case is refused
/// with a clear error (or, where Docker defines a safe meaning, kept inside the image), and
/// nothing is ever written outside the output directory. Cases already covered elsewhere are
/// listed in Tests/README.md (`COPY ../x` and a chain of symlinks: BuildErrorTests; archive
/// entry rules: LayersTests' ArchiveExtractorTests).
final class HostileInputTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// Builds `ctx` (already written) to a local directory `out`.
    private func build(environment: [String: String] = [:]) throws -> Run.Output {
        try Run.command(Run.slipway, ["build", "--progress", "plain", "--output", "type=local,dest=\(work)/out", work + "/ctx"], environment: environment)
    }

    /// Everything under `work` except the context and the output: must stay as the test made it.
    private func outsideTree() throws -> [String] {
        let all = try FileManager.default.subpathsOfDirectory(atPath: work)
        return all.filter { path in
            let top = path.split(separator: "/").first.map(String.init) ?? path
            return top != "ctx" && top != "out"
        }.sorted()
    }

    private func refused(_ output: Run.Output, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(output.status, 0, "expected a refusal", file: file, line: line)
        XCTAssertTrue(output.stderr.contains(expected), "expected '\(expected)' in:\n\(output.stderr)", file: file, line: line)
        XCTAssertFalse(output.stderr.contains("Fatal error"), output.stderr, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/out"), "a failed build leaves no output", file: file, line: line)
    }

    /// Writes a tar made by Python's tarfile: members are (name, type, linkname, content), where
    /// content "zeros:N" is N zero bytes.
    private func tar(_ path: String, _ members: [(String, String, String, String)], compression: String = "") throws {
        let spec = members.map { "(\(pyString($0.0)), \(pyString($0.1)), \(pyString($0.2)), \(pyString($0.3)))" }.joined(separator: ", ")
        let script = """
        import io, tarfile, sys
        types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}
        with tarfile.open(sys.argv[1], "w\(compression.isEmpty ? "" : ":" + compression)") as t:
            for name, kind, link, content in [\(spec)]:
                info = tarfile.TarInfo(name); info.type = types[kind]; info.linkname = link
                data = bytes(int(content[6:])) if content.startswith("zeros:") else content.encode(); info.size = len(data) if kind == "file" else 0
                t.addfile(info, io.BytesIO(data) if kind == "file" else None)
        """
        let output = try Run.command("python3", ["-c", script, path])
        XCTAssertEqual(output.status, 0, output.stderr)
    }

    private func pyString(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }

    // MARK: COPY sources

    func testAbsoluteSourceIsRelativeToTheContext() throws {
        try Run.write(["Dockerfile": "FROM scratch\nCOPY /etc/passwd /p\n"], under: work + "/ctx")
        refused(try build(), "etc/passwd")
        try Run.write(["etc/passwd": "from the context"], under: work + "/ctx")
        let output = try build()
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(try String(contentsOfFile: work + "/out/p", encoding: .utf8), "from the context", "never the host's /etc/passwd")
    }

    func testSymlinkedDirectoryLeavingTheContextIsRefused() throws {
        try Run.write(["secret": "s"], under: work + "/outside")
        try Run.write(["Dockerfile": "FROM scratch\nCOPY dir/secret /s\n"], under: work + "/ctx")
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/real", withDestinationPath: "../outside")
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/dir", withDestinationPath: "real")   // a chain
        refused(try build(), "outside the build context")
    }

    func testAbsoluteSymlinkIsNeverFollowedToTheHost() throws {
        // `abs -> <work>/outside` names the host's file system: the build is refused and the
        // host file is never read.
        try Run.write(["secret": "s"], under: work + "/outside")
        try Run.write(["Dockerfile": "FROM scratch\nCOPY abs/secret /s\n"], under: work + "/ctx")
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/abs", withDestinationPath: work + "/outside")
        let output = try build()
        XCTAssertNotEqual(output.status, 0, "the host file was copied:\n\(output.stderr)")
        XCTAssertTrue(output.stderr.contains("abs/secret"), output.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/out"))
    }

    func testHardLinkToAFileOutsideIsAnOrdinaryFileOfTheContext() throws {
        // A hard link has no target path to resolve: it is the file itself, as in Docker.
        try Run.write(["data": "linked"], under: work + "/outside")
        try Run.write(["Dockerfile": "FROM scratch\nCOPY hard /h\n"], under: work + "/ctx")
        try FileManager.default.linkItem(atPath: work + "/outside/data", toPath: work + "/ctx/hard")
        let output = try build()
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(try String(contentsOfFile: work + "/out/h", encoding: .utf8), "linked")
        XCTAssertEqual(try outsideTree(), ["outside", "outside/data"])
    }

    // MARK: COPY destinations and local outputs

    func testSymlinkInTheImageNeverRedirectsALocalOutput() throws {
        // The image gets `d -> <work>/victim` (copied verbatim as a symlink), then a file below
        // /d. Exporting must not follow the link on the host.
        try FileManager.default.createDirectory(atPath: work + "/victim", withIntermediateDirectories: true)
        try Run.write(["Dockerfile": "FROM scratch\nCOPY tree/ /\nCOPY f /d/f\nCOPY f /chain/g\n", "f": "payload", "tree/.keep": ""], under: work + "/ctx")
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/tree/d", withDestinationPath: work + "/victim")
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/tree/chain", withDestinationPath: "d")
        let output = try build()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: work + "/victim"), [], "written through a symlink:\n\(output.stderr)")
        XCTAssertEqual(try outsideTree(), ["victim"])
        XCTAssertEqual(output.status, 0, output.stderr)
        // Inside the output either way: slipway replaces the link with a directory (out/d/f);
        // BuildKit would follow it inside the image root (out/<work>/victim/f).
        let written = [work + "/out/d/f", work + "/out" + work + "/victim/f"].filter { FileManager.default.fileExists(atPath: $0) }
        XCTAssertEqual(written.count, 1, "\(written)")
        XCTAssertEqual(try written.first.map { try String(contentsOfFile: $0, encoding: .utf8) }, "payload")
    }

    // MARK: ADD archives

    func testArchiveEntriesEscapingTheDestinationAreRefused() throws {
        try Run.write(["Dockerfile": "FROM scratch\nADD evil.tar /dest/\n"], under: work + "/ctx")
        let cases: [(String, [(String, String, String, String)], String)] = [
            ("dot-dot", [("../../escaped", "file", "", "x")], "../../escaped"),
            ("symlink", [("l", "symlink", "../../..", ""), ("l/escaped", "file", "", "x")], "l/escaped"),
            ("symlink chain", [("a", "symlink", "/", ""), ("b", "symlink", "a", ""), ("b/escaped", "file", "", "x")], "b/escaped"),
            ("hard link", [("h", "hardlink", "../../etc/passwd", "")], "h"),
        ]
        for (name, members, entry) in cases {
            try tar(work + "/ctx/evil.tar", members)
            let output = try build()
            refused(output, "refusing entry '\(entry)'")
            XCTAssertTrue(output.stderr.contains("ADD"), "\(name): \(output.stderr)")
            XCTAssertEqual(try outsideTree(), [], name)
        }
    }

    func testAbsoluteArchiveEntriesLandUnderTheDestination() throws {
        try Run.write(["Dockerfile": "FROM scratch\nADD abs.tar.gz /dest/\n"], under: work + "/ctx")
        try tar(work + "/ctx/abs.tar.gz", [("/tmp/slipway-absolute-\(UUID().uuidString)", "file", "", "x"), ("/etc/x", "file", "", "y")], compression: "gz")
        let output = try build()
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertEqual(try String(contentsOfFile: work + "/out/dest/etc/x", encoding: .utf8), "y")
        XCTAssertEqual(try outsideTree(), [])
    }

    func testDecompressionBombStopsAtTheBound() throws {
        try Run.write(["Dockerfile": "FROM scratch\nADD bomb.tar.gz /\n"], under: work + "/ctx")
        try tar(work + "/ctx/bomb.tar.gz", [("zeros", "file", "", "zeros:\(4 << 20)")], compression: "gz")
        let size = try FileManager.default.attributesOfItem(atPath: work + "/ctx/bomb.tar.gz")[.size] as? Int ?? 0
        XCTAssertLessThan(size, 64 << 10, "4 MiB of zeros compress to a few KiB")
        refused(try build(environment: ["SLIPWAY_MAX_ARCHIVE_BYTES": "\(1 << 20)"]), "exceeds the limit of \(1 << 20) bytes at entry 'zeros' (decompression bomb?)")
    }

    // MARK: ADD from a URL

    func testHTTPDownloadLargerThanTheBoundAndRedirectsToPlainHTTPAreRefused() throws {
        let server = try TestHTTPServer.start("""
            def do_GET(self):
                if self.path == "/big": return self.send(200, b"x" * 100000)
                if self.path == "/redirect": return self.send(302, b"", {"Location": "/big"})
                self.send(404, b"")
            """)
        defer { server.stop() }
        let port = server.port

        try Run.write(["Dockerfile": "FROM scratch\nADD http://127.0.0.1:\(port)/big /dl\n"], under: work + "/ctx")
        refused(try build(environment: ["SLIPWAY_MAX_ARCHIVE_BYTES": "1000"]), "the download is larger than 1000 bytes")
        XCTAssertEqual(try build().status, 0, "within the default bound")
        try FileManager.default.removeItem(atPath: work + "/out")

        // Redirects may only go to HTTPS (even from a plain-HTTP URL).
        try Run.write(["Dockerfile": "FROM scratch\nADD http://127.0.0.1:\(port)/redirect /dl\n"], under: work + "/ctx")
        refused(try build(), "download failed")
        XCTAssertEqual(try outsideTree(), [])
    }
}
