import Foundation
import Layers
import TestSupport
import XCTest
@testable import Builder

/// COPY semantics on a real directory, without writing any layer.
final class CopyPlannerTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = try TemporaryDirectory.create(prefix: "copy")
        try Run.write(["a.txt": "a", "dir/b.txt": "b", "dir/sub/c.txt": "c", "dir/skip.log": "l"], under: root)
        XCTAssertEqual(link(root + "/a.txt", root + "/dir/hard.txt"), 0)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    private func plan(_ sources: [String], _ destination: String, workdir: String = "/", parents: Bool = false,
                      excludes: [String] = [], tree: FileTree = FileTree(), owner: (Int, Int)? = nil) throws -> [String: LayerEntry] {
        let context = try BuildContext(root: root, name: "context", ignorePatterns: [])
        let request = CopyRequest(instruction: "COPY", sources: sources, generated: [], destination: destination, workdir: workdir,
                                  owner: owner, chmod: nil, parents: parents, excludes: excludes, extractArchive: nil)
        let entries = try CopyPlanner.plan(request, from: ContextSource(context: context), onto: tree)
        return Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0) })
    }

    func testFileToNewNameAndIntoDirectory() throws {
        XCTAssertEqual(Set(try plan(["a.txt"], "/x/y.txt").keys), ["x", "x/y.txt"])
        XCTAssertEqual(Set(try plan(["a.txt"], "/x/").keys), ["x", "x/a.txt"])
        XCTAssertEqual(Set(try plan(["a.txt"], "rel", workdir: "/w").keys), ["w", "w/rel"])
    }

    func testDirectoryCopiesContentsAndKeepsHardLinks() throws {
        let entries = try plan(["dir"], "/d")
        XCTAssertEqual(Set(entries.keys), ["d", "d/b.txt", "d/sub", "d/sub/c.txt", "d/skip.log", "d/hard.txt"])
        XCTAssertEqual(entries["d/b.txt"]?.uid, 0)
    }

    func testHardLinksAreKeptWithinOneSourceOnly() throws {
        // BuildKit copies each source with a copier of its own: links across sources are lost.
        let separate = try plan(["a.txt", "dir/hard.txt"], "/l/")
        XCTAssertEqual(separate["l/hard.txt"]?.kind, .regularFile(.path(root + "/dir/hard.txt")))
        XCTAssertEqual(separate["l/a.txt"]?.kind, .regularFile(.path(root + "/a.txt")))
        let together = try plan(["."], "/t/")
        let kinds = [together["t/a.txt"]?.kind, together["t/dir/hard.txt"]?.kind]
        XCTAssertTrue(kinds.contains { if case .hardlink? = $0 { return true }; return false }, "\(kinds)")
    }

    func testWildcardExcludeParentsAndOwner() throws {
        XCTAssertEqual(Set(try plan(["dir/*.txt"], "/g/").keys), ["g", "g/b.txt", "g/hard.txt"])
        XCTAssertNil(try plan(["dir"], "/e", excludes: ["*.log"])["e/skip.log"])
        XCTAssertNotNil(try plan(["dir/sub/c.txt"], "/p/", parents: true)["p/dir/sub/c.txt"])
        XCTAssertEqual(try plan(["a.txt"], "/o", owner: (7, 8))["o"]?.gid, 8)
    }

    func testExistingDirectoryInTheStageIsATarget() throws {
        var tree = FileTree()
        tree.apply([LayerEntry(path: "srv", kind: .directory, mode: 0o700, uid: 5, gid: 5)])
        let entries = try plan(["a.txt"], "/srv", tree: tree)
        XCTAssertNotNil(entries["srv/a.txt"])
        XCTAssertEqual(entries["srv"]?.mode, 0o700, "an existing parent keeps its metadata in the layer")
    }

    func testErrors() {
        XCTAssertThrowsError(try plan(["a.txt", "dir/b.txt"], "/single")) { XCTAssertTrue("\($0)".contains("must be a directory")) }
        XCTAssertThrowsError(try plan(["../etc/passwd"], "/x")) { XCTAssertTrue("\($0)".contains("outside the build context")) }
        XCTAssertThrowsError(try plan(["nope*"], "/x/")) { XCTAssertTrue("\($0)".contains("matched no files")) }
    }
}

final class FileTreeTests: XCTestCase {
    func testWhiteoutsAndSymlinkResolution() {
        var tree = FileTree()
        tree.apply([
            LayerEntry(path: "a", kind: .directory, mode: 0o755, uid: 0, gid: 0),
            LayerEntry(path: "a/x", kind: .regularFile(.bytes([1])), mode: 0o644, uid: 0, gid: 0),
            LayerEntry(path: "a/y", kind: .regularFile(.bytes([2])), mode: 0o644, uid: 0, gid: 0),
            LayerEntry(path: "link", kind: .symlink(target: "/a"), mode: 0o777, uid: 0, gid: 0),
        ])
        XCTAssertTrue(tree.isDirectory("/link"))
        tree.whiteout("a/.wh.x")
        XCTAssertNil(tree.node("a/x"))
        XCTAssertNotNil(tree.node("a/y"))
        tree.whiteout("a/.wh..wh..opq")
        XCTAssertNil(tree.node("a/y"))
        XCTAssertNotNil(tree.node("a"))
    }
}

final class ConfigValuesTests: XCTestCase {
    func testDurationsPortsModesSignals() throws {
        XCTAssertEqual(try ConfigValues.duration("1m30s", flag: "interval"), 90_000_000_000)
        XCTAssertEqual(try ConfigValues.duration("500ms", flag: "interval"), 500_000_000)
        XCTAssertThrowsError(try ConfigValues.duration("5 minutes", flag: "interval"))
        XCTAssertEqual(try ConfigValues.ports("8000-8002/udp"), ["8000/udp", "8001/udp", "8002/udp"])
        XCTAssertEqual(try ConfigValues.ports("80"), ["80/tcp"])
        XCTAssertThrowsError(try ConfigValues.ports("99999"))
        XCTAssertEqual(try ChmodSpec.parse("0755"), .octal(0o755))
        XCTAssertEqual(try ChmodSpec.parse("u+x").apply(to: 0o644, isDirectory: false), 0o744)
        XCTAssertNoThrow(try ConfigValues.checkSignal("SIGKILL"))
        XCTAssertNoThrow(try ConfigValues.checkSignal("9"))
        XCTAssertThrowsError(try ConfigValues.checkSignal("SIGNOPE"))
    }

    func testContextPathCleaning() {
        XCTAssertEqual(ContextPath.clean("/a//b/../c/."), "/a/c")
        XCTAssertEqual(ContextPath.contextRelative("/x/../y"), "y")
        XCTAssertNil(ContextPath.contextRelative("a/../../b"))
        XCTAssertEqual(ContextPath.resolve("../up", workdir: "/w/x"), "/w/up")
    }
}
