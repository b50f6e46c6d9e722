import Foundation
import TestSupport
import XCTest

/// "Never harm the user" (issue 10, items 1, 2 and 7), through the built binary: an output
/// never removes what its destination already held, the blob cache never shares a file with
/// the user (so editing a file of yours can never change a later build), and a `type=local`
/// export keeps what the image holds: setuid bits, hard links in any order, names that are
/// not UTF-8.
final class SafeOutputTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private var cache: String { work + "/cache" }

    private func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    private func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    // MARK: Item 1: type=local writes into the destination and removes nothing

    func testLocalOutputIntoTheProjectDirectoryKeepsTheProject() throws {
        // `slipway build -o type=local,dest=. .`: the project is the context and the destination.
        let project = work + "/project"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY src/main.c /build/main.c\nCOPY VERSION /VERSION\n",
                       "src/main.c": "int main;", "VERSION": "1.0", "notes/todo.txt": "mine"], under: project)
        let relative = try Run.shell("cd \(Run.quoted(project)) && \(Run.quoted(Run.slipway)) build --progress quiet --cache-dir \(Run.quoted(cache)) -o type=local,dest=. .")
        XCTAssertEqual(relative.status, 0, relative.stderr)
        XCTAssertEqual(try read(project + "/Dockerfile"), "FROM scratch\nCOPY src/main.c /build/main.c\nCOPY VERSION /VERSION\n")
        XCTAssertEqual(try read(project + "/src/main.c"), "int main;")
        XCTAssertEqual(try read(project + "/notes/todo.txt"), "mine")
        XCTAssertEqual(try read(project + "/build/main.c"), "int main;")
        XCTAssertEqual(try read(project + "/VERSION"), "1.0", "a file written over itself")
        // The same by absolute path (earlier versions renamed the directory aside and deleted it).
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", cache, "-o", "type=local,dest=\(project)", project])
        XCTAssertEqual(try read(project + "/notes/todo.txt"), "mine")
        XCTAssertEqual(try read(project + "/src/main.c"), "int main;")
    }

    func testLocalOutputReplacesOnlyThePathsItContains() throws {
        let out = work + "/out"
        try Run.write(["unrelated.txt": "keep me", "keepdir/sub/x": "x", "replace.txt": "old content that is longer",
                       "merge/old.txt": "old", "merge/same.txt": "old same"], under: out)
        try Run.write(["Dockerfile": "FROM scratch\nCOPY replace.txt /replace.txt\nCOPY merge /merge/\n",
                       "replace.txt": "new", "merge/new.txt": "new", "merge/same.txt": "new same"], under: work + "/ctx")
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", cache, "-o", "type=local,dest=\(out)", work + "/ctx"])
        XCTAssertEqual(try read(out + "/unrelated.txt"), "keep me")
        XCTAssertEqual(try read(out + "/keepdir/sub/x"), "x")
        XCTAssertEqual(try read(out + "/replace.txt"), "new", "a file of the output replaces the existing file")
        XCTAssertEqual(try read(out + "/merge/old.txt"), "old", "a directory of the output is merged into the existing one")
        XCTAssertEqual(try read(out + "/merge/new.txt"), "new")
        XCTAssertEqual(try read(out + "/merge/same.txt"), "new same")
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: work).filter { $0.contains(".slipway") || $0.contains(".tmp") }
        XCTAssertEqual(leftovers, [], "no temporary files are left behind")
    }

    func testSymlinksInTheDestinationAreReplacedNeverFollowed() throws {
        // The destination holds links leaving it, at paths the output writes: a directory
        // link the output writes below, and a file link the output replaces.
        let out = work + "/out", victim = work + "/victim"
        try Run.write(["file": "victim's"], under: victim)
        try Run.write(["mine": "mine"], under: out)
        try FileManager.default.createSymbolicLink(atPath: out + "/dir", withDestinationPath: "../victim")
        try FileManager.default.createSymbolicLink(atPath: out + "/file", withDestinationPath: victim + "/file")
        try FileManager.default.createSymbolicLink(atPath: out + "/chain", withDestinationPath: "dir")
        try Run.write(["Dockerfile": "FROM scratch\nCOPY f /dir/f\nCOPY f /file\nCOPY f /chain/deeper/g\n", "f": "payload"], under: work + "/ctx")
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", cache, "-o", "type=local,dest=\(out)", work + "/ctx"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: victim), ["file"], "nothing written through a link")
        XCTAssertEqual(try read(victim + "/file"), "victim's")
        XCTAssertFalse(isSymlink(out + "/dir"))
        XCTAssertFalse(isSymlink(out + "/file"))
        XCTAssertFalse(isSymlink(out + "/chain"))
        XCTAssertEqual(try read(out + "/dir/f"), "payload")
        XCTAssertEqual(try read(out + "/file"), "payload")
        XCTAssertEqual(try read(out + "/chain/deeper/g"), "payload")
        XCTAssertEqual(try read(out + "/mine"), "mine")
    }

    func testAFileNeverReplacesANonEmptyDirectoryOfTheDestination() throws {
        // The output's file `x` would have to remove `x/keep`, which the output does not hold:
        // refused before anything is written.
        let out = work + "/out"
        try Run.write(["x/keep": "keep", "y": "old y"], under: out)
        try Run.write(["Dockerfile": "FROM scratch\nCOPY f /x\nCOPY f /y\n", "f": "payload"], under: work + "/ctx")
        let output = try Run.command(Run.slipway, ["build", "--progress", "quiet", "--cache-dir", cache, "-o", "type=local,dest=\(out)", work + "/ctx"])
        XCTAssertNotEqual(output.status, 0)
        XCTAssertTrue(output.stderr.contains("x") && output.stderr.contains("directory"), output.stderr)
        XCTAssertEqual(try read(out + "/x/keep"), "keep")
        XCTAssertEqual(try read(out + "/y"), "old y", "nothing written when the export is refused")
    }

    // MARK: Item 2: the content store never shares an inode with a user's file

    /// An OCI layout made by slipway (with its own cache) holding `/f` with `content`.
    private func makeLayout(_ name: String, content: String) throws -> String {
        let context = work + "/\(name)-ctx", layout = work + "/" + name
        try Run.write(["Dockerfile": "FROM scratch\nCOPY f /f\n", "f": content], under: context)
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", work + "/\(name)-cache",
                         "-o", "type=oci,tar=false,dest=\(layout)", context])
        return layout
    }

    /// The layer blobs of an OCI layout's only image, bottom first.
    private func layerBlobs(of layout: String) throws -> [String] {
        let manifest = try Run.json(Run.tool("skopeo", ["inspect", "--raw", "oci:\(layout)"]))
        let layers = try XCTUnwrap(manifest["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
        return layers.map { layout + "/blobs/sha256/" + $0.dropFirst("sha256:".count) }
    }

    private func layerBlob(of layout: String) throws -> String { try XCTUnwrap(try layerBlobs(of: layout).last) }

    /// Overwrites a file in place (same inode), as an editor or a CI step writing into it does.
    private func rewriteInPlace(_ path: String, with data: Data) throws {
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path), path)
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: data)
        try handle.close()
    }

    /// Every blob of an OCI layout directory hashes to its name.
    private func assertBlobsMatchTheirNames(_ layout: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = layout + "/blobs/sha256"
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        XCTAssertFalse(names.isEmpty, file: file, line: line)
        for name in names {
            let sum = try Run.tool("sha256sum", [directory + "/" + name]).prefix(64)
            XCTAssertEqual(String(sum), name, "blob \(name) of \(layout) does not match its digest", file: file, line: line)
        }
    }

    private func buildFromBase(_ layout: String, outputs: [String]) throws {
        let context = work + "/app"
        try Run.write(["Dockerfile": "FROM base\nCOPY g /g\n", "g": "app"], under: context)
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", cache, "--build-context", "base=oci-layout://\(layout)"]
                        + outputs.flatMap { ["-o", $0] } + [context])
    }

    func testRewritingALayoutContextAfterABuildNeverPoisonsLaterBuilds() throws {
        let layout = try makeLayout("base", content: "original")
        let poison = try Data(contentsOf: URL(fileURLWithPath: try layerBlob(of: try makeLayout("poison", content: "poisoned"))))
        let trusted = work + "/trusted"
        _ = try Run.tool("cp", ["-R", layout, trusted])
        try buildFromBase(layout, outputs: ["type=local,dest=\(work)/first"])
        XCTAssertEqual(try read(work + "/first/f"), "original")

        // The user's layout changes afterwards, in place (a CI artifact being rewritten).
        try rewriteInPlace(try layerBlob(of: layout), with: poison)
        // A later build from an untouched copy must see the original bytes.
        try buildFromBase(trusted, outputs: ["type=local,dest=\(work)/second", "type=oci,tar=false,dest=\(work)/second-oci"])
        XCTAssertEqual(try read(work + "/second/f"), "original", "the cache took the user's rewrite")
        try assertBlobsMatchTheirNames(work + "/second-oci")
    }

    func testEditingAnOCIDirectoryOutputNeverPoisonsLaterBuilds() throws {
        let layout = try makeLayout("base", content: "original")
        try buildFromBase(layout, outputs: ["type=oci,tar=false,dest=\(work)/first"])
        // The user edits every file of the output in place.
        for name in try FileManager.default.contentsOfDirectory(atPath: work + "/first/blobs/sha256") {
            try rewriteInPlace(work + "/first/blobs/sha256/" + name, with: Data("edited by the user".utf8))
        }
        try buildFromBase(layout, outputs: ["type=oci,tar=false,dest=\(work)/second", "type=local,dest=\(work)/second-local"])
        try assertBlobsMatchTheirNames(work + "/second")
        XCTAssertEqual(try read(work + "/second-local/f"), "original")
        XCTAssertEqual(try read(work + "/second-local/g"), "app")
    }

    // MARK: Item 7: type=local keeps what the image holds

    func testLocalOutputKeepsSetuidAndSetgidBits() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY --chown=1000:1000 bin /bin\n", "bin/su": "x", "bin/wall": "y", "bin/games/x": "z"],
                      under: context)
        XCTAssertEqual(chmod(context + "/bin/su", 0o4755), 0)
        XCTAssertEqual(chmod(context + "/bin/wall", 0o2755), 0)
        XCTAssertEqual(chmod(context + "/bin/games", 0o2775), 0)
        let out = work + "/out"
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", cache, "-o", "type=local,dest=\(out)", context])
        func mode(_ path: String) -> UInt32 {
            var info = stat()
            return lstat(path, &info) == 0 ? UInt32(info.st_mode) & 0o7777 : 0
        }
        XCTAssertEqual(String(mode(out + "/bin/su"), radix: 8), "4755")
        XCTAssertEqual(String(mode(out + "/bin/wall"), radix: 8), "2755")
        XCTAssertEqual(String(mode(out + "/bin/games"), radix: 8), "2775")
        XCTAssertEqual(String(mode(out + "/bin"), radix: 8), "755", "the directory COPY creates is 0755, as in BuildKit")
    }

    /// A tar written by Python's tarfile: members are (name, type, link target, content).
    private func tar(_ path: String, _ members: [(String, String, String, String)]) throws {
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        let spec = members.map { "(\(quoted($0.0)), \(quoted($0.1)), \(quoted($0.2)), \(quoted($0.3)))" }.joined(separator: ", ")
        let script = """
        import io, tarfile, sys
        types = {"file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}
        with tarfile.open(sys.argv[1], "w") as t:
            for name, kind, link, content in [\(spec)]:
                info = tarfile.TarInfo(name); info.type = types[kind]; info.linkname = link
                data = content.encode(); info.size = len(data) if kind == "file" else 0
                t.addfile(info, io.BytesIO(data) if kind == "file" else None)
        """
        let output = try Run.command("python3", ["-c", script, path])
        XCTAssertEqual(output.status, 0, output.stderr)
    }

    private func inode(_ path: String) -> UInt64 {
        var info = stat()
        return lstat(path, &info) == 0 ? UInt64(info.st_ino) : 0
    }

    func testHardLinkSortingBeforeItsTargetIsExported() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nADD links.tar /l/\n"], under: context)
        try tar(context + "/links.tar", [("z", "file", "", "content"), ("a", "hardlink", "z", "")])
        let out = work + "/out"
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", cache, "-o", "type=local,dest=\(out)", context])
        XCTAssertEqual(try read(out + "/l/a"), "content")
        XCTAssertEqual(try read(out + "/l/z"), "content")
        XCTAssertEqual(inode(out + "/l/a"), inode(out + "/l/z"), "still one file with two names")
    }

    func testArchiveFileReplacedBySymlinkKeepsItsHardLink() throws {
        // GNU tar and Docker: `h` keeps the content; the later `f` is the symlink.
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nADD links.tar /l/\n"], under: context)
        try tar(context + "/links.tar", [("f", "file", "", "content"), ("h", "hardlink", "f", ""), ("f", "symlink", "elsewhere", "")])
        let out = work + "/out", oci = work + "/oci"
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", cache, "-o", "type=local,dest=\(out)",
                         "-o", "type=oci,tar=false,dest=\(oci)", context])
        XCTAssertEqual(try read(out + "/l/h"), "content")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/l/f"), "elsewhere")
        let listing = try Run.tool("bsdtar", ["-tvf", try layerBlob(of: oci)])
        XCTAssertTrue(listing.contains("l/f -> elsewhere"), listing)
        XCTAssertTrue(listing.split(separator: "\n").contains { $0.hasPrefix("-") && $0.hasSuffix(" l/h") }, listing)
    }

    /// Names of a directory as raw bytes (readdir), sorted.
    private func rawNames(_ path: String) -> [[UInt8]] {
        guard let stream = opendir(path) else { return [] }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name) }
        }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Creates an empty file whose name is the given bytes (not necessarily UTF-8).
    private func createRaw(_ directory: String, _ name: [UInt8], content: String) throws {
        let path = Array(directory.utf8) + [0x2F] + name + [0]
        let fd = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY | O_EXCL, 0o644) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = content.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress!, $0.count - 1) }
        close(fd)
    }

    func testNamesThatAreNotUTF8AreKeptByteExact() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY d /d\nCOPY d/*.txt /globbed/\n", "d/plain": "p"], under: context)
        let invalid: [UInt8] = [0xFF]                                  // a lone byte that is never UTF-8
        let latin1: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".txt".utf8)   // "café.txt" in Latin-1
        let escapeLike: [UInt8] = [0xEF, 0x9F, 0xBF]                   // valid UTF-8 (U+F7FF): must stay as it is
        for name in [invalid, latin1, escapeLike] { try createRaw(context + "/d", name, content: "raw") }
        let out = work + "/out", oci = work + "/oci"
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", cache, "-o", "type=local,dest=\(out)",
                         "-o", "type=oci,tar=false,dest=\(oci)", context])
        let expected = [invalid, latin1, escapeLike, Array("plain".utf8)].sorted { $0.lexicographicallyPrecedes($1) }
        XCTAssertEqual(rawNames(out + "/d"), expected, "the local export keeps the bytes of every name")
        XCTAssertEqual(rawNames(out + "/globbed"), [latin1], "a wildcard matches the Latin-1 name")
        for name in [invalid, latin1, escapeLike] {
            let path = Array((out + "/d/").utf8) + name + [0]
            let fd = path.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_RDONLY) } }
            XCTAssertGreaterThanOrEqual(fd, 0)
            if fd >= 0 { close(fd) }
        }
        // In the layer, bsdtar shows each byte that is not printable as an octal escape.
        let listing = try layerBlobs(of: oci).map { try Run.tool("bsdtar", ["-tf", $0]) }.joined()
        let names = Set(listing.split(separator: "\n").map(String.init))
        XCTAssertTrue(names.contains("d/\\377"), listing)
        XCTAssertTrue(names.contains("d/caf\\351.txt"), listing)
        XCTAssertTrue(names.contains("globbed/caf\\351.txt"), listing)
        XCTAssertFalse(listing.contains("\u{FFFD}") || listing.contains("\\357\\277\\275"), "no replacement character: \(listing)")
        let extracted = work + "/extracted"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        for layer in try layerBlobs(of: oci) { _ = try Run.tool("bsdtar", ["-xf", layer, "-C", extracted]) }
        XCTAssertEqual(rawNames(extracted + "/d"), expected, "the layer keeps the bytes of every name")
        // And back out of a layer: the image as a base, exported again.
        try Run.write(["Dockerfile": "FROM base\n"], under: work + "/again")
        try Run.slipway(["build", "--progress", "quiet", "--cache-dir", cache, "--build-context", "base=oci-layout://\(oci)",
                         "-o", "type=local,dest=\(work)/again-out", work + "/again"])
        XCTAssertEqual(rawNames(work + "/again-out/d"), expected, "a base image's layer keeps the bytes of every name")
    }
}
