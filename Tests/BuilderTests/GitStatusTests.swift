import Foundation
import TestSupport
import XCTest
@testable import Builder

/// `GitStatus` and `GitObjects` (slipway's reading of `.git` for buildx's `-dirty`) against
/// git itself: each case is made with `git`, and slipway's answer must be git's
/// (`git status --porcelain --ignored` empty or not); objects read from loose files and from
/// packs with deltas must be the bytes `git cat-file` prints.
final class GitStatusTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws {
        guard Run.isInstalled("git") else { throw XCTSkip("needs git to make repositories (slipway itself never runs git)") }
        work = try Run.temporaryDirectory()
    }

    override func tearDownWithError() throws { if !work.isEmpty { try? FileManager.default.removeItem(atPath: work) } }

    private func git(_ repo: String, _ arguments: String) throws -> String {
        try Run.mustShell("cd \(Run.quoted(repo)) && git -c user.email=t@e -c user.name=t -c init.defaultBranch=main \(arguments)")
    }

    private func repository(_ name: String, format: String = "sha1") throws -> String {
        let repo = work + "/" + name
        try Run.write(["a.txt": "alpha\n", "dir/b.txt": "bravo\n", "dir/sub/c.sh": "echo c\n", ".gitignore": "*.log\n"], under: repo)
        _ = try git(repo, "init -q --object-format=\(format) && chmod +x dir/sub/c.sh && ln -s a.txt link && git add -A && git commit -qm one")
        return repo
    }

    /// slipway's answer and git's, for the tree as it is now.
    private func answers(_ repo: String, file: StaticString = #filePath, line: UInt = #line) throws -> (slipway: String?, git: String) {
        let found = GitWorkTree.find(containing: repo, checkDirty: true)
        let tree = try XCTUnwrap(found, "a work tree", file: file, line: line)
        return (tree.dirty, try git(repo, "status --porcelain --ignored"))
    }

    private func assertAgrees(_ repo: String, _ what: String, dirty: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let (slipway, git) = try answers(repo, file: file, line: line)
        XCTAssertEqual(!git.isEmpty, dirty, "\(what): git says \(git.debugDescription)", file: file, line: line)
        XCTAssertEqual(slipway != nil, dirty, "\(what): slipway says \(slipway ?? "clean"), git \(git.debugDescription)", file: file, line: line)
    }

    func testDirtinessIsWhatGitStatusIgnoredSays() throws {
        let repo = try repository("repo")
        try assertAgrees(repo, "just committed", dirty: false)
        // Rewritten with the same bytes (new mtime): git re-hashes and finds no change.
        try "alpha\n".write(toFile: repo + "/a.txt", atomically: false, encoding: .utf8)
        try assertAgrees(repo, "touched, same content", dirty: false)
        try "ALPHA\n".write(toFile: repo + "/a.txt", atomically: false, encoding: .utf8)
        try assertAgrees(repo, "same size, other content", dirty: true)
        _ = try git(repo, "checkout -q -- a.txt")
        try assertAgrees(repo, "checked out again", dirty: false)
        try "more\n".write(toFile: repo + "/dir/b.txt", atomically: false, encoding: .utf8)
        try assertAgrees(repo, "other size", dirty: true)
        _ = try git(repo, "add dir/b.txt")
        try assertAgrees(repo, "staged", dirty: true)
        _ = try git(repo, "commit -qm two")
        try assertAgrees(repo, "committed", dirty: false)
        _ = try git(repo, "rm -q --cached dir/b.txt && git add dir/b.txt")
        _ = try git(repo, "commit -qm same --allow-empty")
        try assertAgrees(repo, "re-added and committed", dirty: false)
        try FileManager.default.removeItem(atPath: repo + "/dir/sub/c.sh")
        try assertAgrees(repo, "deleted", dirty: true)
        _ = try git(repo, "checkout -q -- dir/sub/c.sh && chmod -x dir/sub/c.sh")
        try assertAgrees(repo, "mode changed", dirty: true)
        _ = try git(repo, "checkout -q -- dir/sub/c.sh && rm link && ln -s dir/b.txt link")
        try assertAgrees(repo, "symlink retargeted", dirty: true)
        _ = try git(repo, "checkout -q -- link")
        try assertAgrees(repo, "all restored", dirty: false)
        try "x".write(toFile: repo + "/dir/new.txt", atomically: false, encoding: .utf8)
        try assertAgrees(repo, "untracked", dirty: true)
        try FileManager.default.removeItem(atPath: repo + "/dir/new.txt")
        try "x".write(toFile: repo + "/build.log", atomically: false, encoding: .utf8)
        try assertAgrees(repo, "ignored (git status --ignored lists it, so buildx says dirty)", dirty: true)
        try FileManager.default.removeItem(atPath: repo + "/build.log")
        try FileManager.default.createDirectory(atPath: repo + "/empty/deeper", withIntermediateDirectories: true)
        try assertAgrees(repo, "an empty directory (git lists none)", dirty: false)
        _ = try git(repo, "config core.filemode false && chmod -x dir/sub/c.sh")
        try assertAgrees(repo, "mode changed with core.filemode=false", dirty: false)
        _ = try git(repo, "config core.filemode true && chmod +x dir/sub/c.sh")
        _ = try git(repo, "update-index --assume-unchanged a.txt && echo changed > a.txt")
        try assertAgrees(repo, "assume-unchanged", dirty: false)
        _ = try git(repo, "update-index --no-assume-unchanged a.txt && git checkout -q -- a.txt")
        try assertAgrees(repo, "assume-unchanged cleared", dirty: false)
        _ = try git(repo, "update-index --index-version 4")
        try assertAgrees(repo, "index version 4", dirty: false)
        _ = try git(repo, "gc -q --aggressive")
        try assertAgrees(repo, "packed (HEAD's commit read from the pack)", dirty: false)
    }

    func testLinkedWorkTreesAndSHA256RepositoriesAreRead() throws {
        let repo = try repository("main")
        _ = try git(repo, "worktree add -q ../linked")
        try assertAgrees(work + "/linked", "a linked work tree", dirty: false)
        try "x".write(toFile: work + "/linked/a.txt", atomically: false, encoding: .utf8)
        try assertAgrees(work + "/linked", "a linked work tree, changed", dirty: true)
        try assertAgrees(repo, "the main one is still clean", dirty: false)

        let sha256 = try repository("sha256", format: "sha256")
        try assertAgrees(sha256, "SHA-256 repository", dirty: false)
        try "ALPHA\n".write(toFile: sha256 + "/a.txt", atomically: false, encoding: .utf8)
        try assertAgrees(sha256, "SHA-256 repository, changed", dirty: true)
    }

    /// Staged changes are found by computing the index's tree (as `git write-tree`), not from
    /// git's cache tree, which `git add` and `update-index` invalidate even when the content ends
    /// up as committed; where slipway cannot tell without git, it says dirty (and why).
    func testStagedChangesAreTheIndexTreeAndWhatCannotBeToldCountsAsDirty() throws {
        let repo = try repository("repo")
        try "changed\n".write(toFile: repo + "/a.txt", atomically: false, encoding: .utf8)
        _ = try git(repo, "add a.txt")
        try assertAgrees(repo, "staged", dirty: true)
        XCTAssertEqual(try answers(repo).slipway, "the index differs from HEAD (staged changes)")
        try "alpha\n".write(toFile: repo + "/a.txt", atomically: false, encoding: .utf8)
        _ = try git(repo, "add a.txt")
        try assertAgrees(repo, "staged back to the committed content", dirty: false)
        _ = try git(repo, "rm -q --cached dir/b.txt")
        try assertAgrees(repo, "removed from the index only", dirty: true)
        _ = try git(repo, "add dir/b.txt && git gc -q")
        try assertAgrees(repo, "added back, packed", dirty: false)
        let head = try git(repo, "rev-parse HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        try FileManager.default.moveItem(atPath: repo + "/.git/objects/pack", toPath: work + "/pack")
        XCTAssertEqual(GitWorkTree.find(containing: repo, checkDirty: true)?.dirty, "HEAD's commit \(head) cannot be read", "git itself fails: \"bad object HEAD\"")
    }

    /// Every truncation and many bit flips of real index files (v2 with extended flags, v4)
    /// and of a delta parse or are refused; none traps.
    func testDamagedIndexesAndDeltasNeverCrash() throws {
        let repo = try repository("damaged")
        _ = try git(repo, "update-index --skip-worktree a.txt")
        for version in ["3", "4"] {
            _ = try git(repo, "update-index --index-version \(version)")
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: repo + "/.git/index")))
            XCTAssertEqual(GitIndex.parse(bytes, hashLength: 20)?.entries.map(\.path), [".gitignore", "a.txt", "dir/b.txt", "dir/sub/c.sh", "link"])
            for length in 0..<bytes.count { _ = GitIndex.parse(Array(bytes.prefix(length)), hashLength: 20) }
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<2000 {
                var flipped = bytes
                let at = Int.random(in: 12..<bytes.count, using: &generator)
                flipped[at] ^= UInt8.random(in: 1...255, using: &generator)
                if let index = GitIndex.parse(flipped, hashLength: 20) { _ = index.treeID(hashLength: 20) }
            }
        }
        let delta: [UInt8] = [0x05, 0x08, 0x90, 0x03, 0x03, 0x41, 0x42, 0x43, 0x91, 0x01, 0x02]
        XCTAssertEqual(GitObjects.applyDelta(delta, to: Array("hello".utf8)), Array("helABCel".utf8))
        for length in 0..<delta.count { _ = GitObjects.applyDelta(Array(delta.prefix(length)), to: Array("hello".utf8)) }
        XCTAssertNil(BoundedInflate.inflate([0x78, 0x9C, 0xFF, 0xFF][...], limit: 100), "not zlib")
    }

    func testObjectsReadFromPacksWithDeltasAreGitsBytes() throws {
        let repo = try repository("objects")
        for round in 1...6 {
            let text = (0..<200).map { "line \($0) of round \($0 % 7 == 0 ? round : 0)\n" }.joined()
            try text.write(toFile: repo + "/big.txt", atomically: false, encoding: .utf8)
            _ = try git(repo, "add -A && git commit -qm r\(round)")
        }
        let loose = try git(repo, "rev-parse HEAD:big.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        let objects = GitObjects(objectsDirectory: repo + "/.git/objects", hashLength: 20)
        XCTAssertEqual(objects.read(loose).map { Data($0.data) }, Data(try git(repo, "cat-file blob \(loose)").utf8), "a loose blob")
        _ = try git(repo, "gc -q --aggressive")
        let deltas = try git(repo, "verify-pack -v .git/objects/pack/*.idx").split(separator: "\n").filter { $0.split(separator: " ").count >= 7 }
        XCTAssertFalse(deltas.isEmpty, "the pack has deltified objects")
        let all = try git(repo, "rev-list --objects --all").split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        XCTAssertGreaterThan(all.count, 20)
        for id in all {
            let kind = try git(repo, "cat-file -t \(id)").trimmingCharacters(in: .whitespacesAndNewlines)
            let read = try XCTUnwrap(objects.read(id), "\(kind) \(id) from the pack")
            XCTAssertEqual("\(read.kind)", kind)
            let size = try git(repo, "cat-file -s \(id)").trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertEqual("\(read.data.count)", size, "\(kind) \(id)")
            if kind == "blob" { XCTAssertEqual(Data(read.data), Data(try git(repo, "cat-file blob \(id)").utf8)) }
        }
        XCTAssertNil(objects.read(String(repeating: "0", count: 40)), "a missing object is nil")
        XCTAssertNil(GitObjects.applyDelta([0x05, 0x03, 0x91, 0xFF, 0x10], to: [1, 2, 3, 4, 5]), "a copy past the base is refused")
    }
}
