import Builder
import Foundation
import Layers
import OCI
import TestSupport
import XCTest

/// The file and config rules of issue 11, each checked against what BuildKit writes (its rule
/// named in the test): symlinked destinations, created directories, ENV, WORKDIR, `--chown`,
/// `--chmod`, archives, hard links and platforms.
final class BuildKitRulesTests: XCTestCase {
    /// A usr-merged base (`/bin -> usr/bin`, `/lib -> usr/lib`) as Debian 12 and Ubuntu ship it.
    private func usrMerged(_ fixture: BuildFixture) throws {
        try fixture.write(["base/usr/bin/sh": "#!sh", "base/usr/lib/.keep": ""])
        try fixture.symlink("base/bin", to: "usr/bin")
        try fixture.symlink("base/lib", to: "/usr/lib")
    }

    func testCopyIntoASymlinkedDirectoryWritesWhereItPoints() async throws {
        let fixture = try BuildFixture(files: ["x": "x", "y": "y", "z": "z"])
        try usrMerged(fixture)
        let image = try await fixture.build("""
            FROM scratch
            COPY base/ /
            COPY x /bin/
            COPY y /bin
            COPY z /lib/sub/z
            """)
        XCTAssertEqual(try image.entry("bin").kind, .symlink(target: "usr/bin"), "the link is never replaced by a directory")
        XCTAssertEqual(try image.entry("lib").kind, .symlink(target: "/usr/lib"))
        XCTAssertEqual(try image.text("usr/bin/x"), "x")
        XCTAssertEqual(try image.text("usr/bin/y"), "y", "without a slash: the link resolves to a directory")
        XCTAssertEqual(try image.text("usr/lib/sub/z"), "z", "an absolute link is followed inside the image")
        for index in 1..<4 {
            XCTAssertFalse(try image.layer(index).contains { $0.path == "bin" || $0.path == "lib" || $0.path.hasPrefix("bin/") },
                           "layer \(index) writes through the link, not over it")
        }
    }

    func testCopyingADirectoryOntoASymlinkFailsAsInBuildKit() async throws {
        // moby/moby#47367: BuildKit refuses `COPY rootfs /` when rootfs/bin meets /bin -> usr/bin.
        let fixture = try BuildFixture(files: ["rootfs/bin/foo": "foo"])
        try usrMerged(fixture)
        let error = await fixture.failure("FROM scratch\nCOPY base/ /\nCOPY rootfs /\n")
        XCTAssertEqual(error?.line, 3)
        XCTAssertTrue(error?.description.hasPrefix("Dockerfile:3: cannot copy to non-directory: /bin") == true, "\(String(describing: error))")
    }

    func testAFileNeverBecomesADirectoryAndADirectoryNeverAFile() async throws {
        let fixture = try BuildFixture(files: ["f": "f", "d/inner": "i", "tree/f/x": "x", "tree2/d": "file"])
        let overFile = await fixture.failure("FROM scratch\nCOPY f /f\nCOPY tree/ /\n")
        XCTAssertTrue(overFile?.description.hasPrefix("Dockerfile:3: cannot copy to non-directory: /f") == true, "\(String(describing: overFile))")
        let overDirectory = await fixture.failure("FROM scratch\nCOPY d /d\nCOPY tree2/ /\n")
        XCTAssertTrue(overDirectory?.description.hasPrefix("Dockerfile:3: cannot replace to directory /d with file") == true,
                      "\(String(describing: overDirectory))")
        let underFile = await fixture.failure("FROM scratch\nCOPY f /f\nCOPY d /f/sub/\n")
        XCTAssertEqual(underFile?.description, "Dockerfile:3: mkdir /f: not a directory")
        // A file over a file (or a symlink) replaces it.
        let image = try await fixture.build("FROM scratch\nCOPY f /g\nCOPY d/inner /g\n")
        XCTAssertEqual(try image.text("g"), "i")
    }

    func testWorkdirFollowsASymlink() async throws {
        let fixture = try BuildFixture(files: ["real/.keep": "", "a": "a"])
        try fixture.symlink("links/ln", to: "/real")
        let image = try await fixture.build("FROM scratch\nCOPY real /real\nCOPY links/ /\nWORKDIR /ln/w\nCOPY a .\n")
        XCTAssertEqual(try image.entry("ln").kind, .symlink(target: "/real"))
        XCTAssertEqual(try image.entry("real/w").kind, .directory)
        XCTAssertEqual(try image.text("real/w/a"), "a")
        XCTAssertEqual(try image.container().workingDir, "/ln/w", "the config keeps the path as written")
    }

    func testEnvExpandsEveryValueAgainstTheEnvironmentBeforeIt() async throws {
        let image = try await BuildFixture().build("FROM scratch\nENV A=1\nENV A=2 B=$A C=${A}x\n")
        XCTAssertEqual(try image.container().env, ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=2", "B=1", "C=1x"])
    }

    func testScratchHasWorkingDirRoot() async throws {
        let image = try await BuildFixture().build("FROM scratch\nLABEL a=b\n")
        XCTAssertEqual(try image.container().workingDir, "/")
    }

    func testCreatedDirectoriesAre0755RootOrTheChownOwner() async throws {
        let fixture = try BuildFixture(files: ["a": "a"])
        try fixture.directory("src", mode: 0o700)
        try fixture.directory("src/inner", mode: 0o750)
        try fixture.file("src/inner/f", "f", mode: 0o600)
        let image = try await fixture.build("""
            FROM scratch
            COPY src /plain
            COPY --chown=7:8 src /owned/deep/
            COPY --chown=7:8 --chmod=0640 a /moded/sub/a
            COPY --chmod=u+x a /symbolic/a
            """)
        XCTAssertEqual(try image.owner("plain"), [0o755, 0, 0], "not the source directory's 0700")
        XCTAssertEqual(try image.owner("plain/inner"), [0o750, 0, 0], "a directory below keeps its own mode")
        XCTAssertEqual(try image.owner("owned"), [0o755, 7, 8], "--chown applies to the parents it creates")
        XCTAssertEqual(try image.owner("owned/deep"), [0o755, 7, 8])
        XCTAssertEqual(try image.owner("owned/deep/inner"), [0o750, 7, 8])
        XCTAssertEqual(try image.owner("moded"), [0o640, 7, 8], "an octal --chmod too")
        XCTAssertEqual(try image.owner("moded/sub/a"), [0o640, 7, 8])
        XCTAssertEqual(try image.owner("symbolic"), [0o755, 0, 0], "a symbolic --chmod does not")
        XCTAssertEqual(try image.owner("symbolic/a"), [0o744, 0, 0])
    }

    func testAddChmodLeavesArchiveEntriesAlone() async throws {
        let fixture = try BuildFixture(files: ["plain": "p"])
        try fixture.write("a.tar", rawTarEntry(name: "bin/", type: UInt8(ascii: "5"), mode: 0o750)
            + rawTarEntry(name: "bin/tool", content: Array("t".utf8), mode: 0o700) + rawTarEnd())
        let image = try await fixture.build("FROM scratch\nADD --chmod=0644 a.tar /x/\nADD --chmod=0600 plain /p\n")
        XCTAssertEqual(try image.owner("x/bin/tool")[0], 0o700)
        XCTAssertEqual(try image.owner("x/bin")[0], 0o750)
        XCTAssertEqual(try image.owner("x")[0], 0o755)
        XCTAssertEqual(try image.owner("p")[0], 0o600, "a file that is no archive gets the mode")
    }

    func testChownFormsBuildKitAccepts() async throws {
        let fixture = try BuildFixture(files: ["a": "a"])
        try fixture.users(["root:x:0:0::/root:/bin/sh", "app:x:1000:1001::/app:/bin/sh"], groups: ["root:x:0:", "staff:x:50:"])
        let image = try await fixture.build("""
            FROM scratch
            COPY etc/ /etc/
            COPY --chown=app: a /empty-group
            COPY --chown=1000 a /numeric
            COPY --chown=app:nogroup a /missing-group
            COPY --chown=nobody a /missing-user
            COPY --chown=root:staff a /root-staff
            """)
        XCTAssertEqual(Array(try image.owner("empty-group").dropFirst()), [1000, 0], "`app:` is app's uid with gid 0")
        XCTAssertEqual(Array(try image.owner("numeric").dropFirst()), [1000, 1000], "a number is its own group, passwd or not")
        XCTAssertEqual(Array(try image.owner("missing-group").dropFirst()), [1000, 1001], "an unknown group keeps the user's")
        XCTAssertEqual(Array(try image.owner("missing-user").dropFirst()), [0, 0], "an unknown user is root")
        XCTAssertEqual(Array(try image.owner("root-staff").dropFirst()), [0, 50])
    }

    func testSeveralSourcesIntoAnExistingDirectoryWithoutASlash() async throws {
        let fixture = try BuildFixture(files: ["a": "a", "b": "b"])
        let image = try await fixture.build("FROM scratch\nWORKDIR /app\nCOPY a b /app\n")
        XCTAssertEqual(try image.text("app/a"), "a")
        XCTAssertEqual(try image.text("app/b"), "b")
    }

    func testWildcardsIgnoreNonDirectoriesAtAWildcardLevel() async throws {
        let fixture = try BuildFixture(files: ["one/x.txt": "1", "two/x.txt": "2", "three/y.txt": "3", "file": "f"])
        let image = try await fixture.build("FROM scratch\nCOPY */x.txt /g/\nFROM scratch\nCOPY --from=0 /* /h/\n")
        XCTAssertEqual(try image.text("h/x.txt"), "2", "both match; the later one wins at the same name")
        let none = await fixture.failure("FROM scratch\nCOPY */none.txt /g/\n")
        XCTAssertTrue(none?.description.contains("matched no files") == true, "\(String(describing: none))")
    }

    func testDoubleStarIsOneLevelInAPlainCopyAndAnyLevelWithParents() async throws {
        // fsutil's ResolveWildcards matches with Go's filepath.Match (`**` is `*`); --parents
        // matches with the pattern matcher, where `**` spans directories.
        let fixture = try BuildFixture(files: ["a/x.txt": "a", "a/b/x.txt": "b"])
        let image = try await fixture.build("FROM scratch\nCOPY **/x.txt /g/\nCOPY --parents **/x.txt /p/\n")
        let files = try image.files()
        XCTAssertEqual(try image.text("g/x.txt"), "a")
        XCTAssertEqual(files.keys.filter { $0.hasPrefix("g/") }.count, 1)
        XCTAssertEqual(try image.text("p/a/x.txt"), "a")
        XCTAssertEqual(try image.text("p/a/b/x.txt"), "b")
    }

    func testOnBuildTriggersRunOnceAndAreClearedAndARunTriggerIsRefusedWhereItIsDeclared() async throws {
        let fixture = try BuildFixture(files: ["a": "a"])
        let dockerfile = "FROM scratch AS parent\nONBUILD COPY a /from-trigger\nLABEL p=1\nFROM parent AS child\nLABEL c=1\n"
        let parent = try await fixture.build(dockerfile) { $0.target = "parent" }
        XCTAssertEqual(try parent.container().onBuild, ["COPY a /from-trigger"])
        XCTAssertNil(try parent.files()["from-trigger"], "a trigger does not run in its own stage")
        let child = try await fixture.build(dockerfile)
        XCTAssertNil(try child.container().onBuild)
        XCTAssertEqual(try child.text("from-trigger"), "a")
        let history = try child.config().history?.compactMap(\.createdBy) ?? []
        XCTAssertEqual(history.filter { $0.hasPrefix("COPY a /from-trigger") }.count, 1, "\(history)")

        let base = try BuildFixture()
        let baseImage = try await base.build("FROM scratch\nONBUILD RUN make\n")
        let layout = base.directory.path + "/layout"
        try Exporter.export(baseImage.result, to: .oci(destination: layout, tar: false), tags: [], sourceDateEpoch: 0)
        let error = await fixture.failure("# an image's RUN trigger\nFROM runtrigger\n") {
            $0.namedContexts = ["runtrigger": .ociLayout(path: layout, reference: nil)]
        }
        XCTAssertEqual(error?.line, 2, "an image's trigger is reported at the FROM that brings it")
        XCTAssertEqual(error?.description, "Dockerfile:2: cannot execute \"/bin/sh\": the stage has no such file", "the trigger runs (scratch has no shell)")
    }

    func testLinkCopiesOntoAnEmptyTreeUnlessChmodIsGiven() async throws {
        // BuildKit: COPY --link is Merge(stage, Scratch().File(copy)); --chmod turns it off.
        let fixture = try BuildFixture(files: ["x": "x", "empty/.keep": ""])
        try usrMerged(fixture)
        let image = try await fixture.build("""
            FROM scratch
            COPY base/ /
            COPY --chown=5:5 empty /app
            COPY --link x /bin/
            COPY --link x /app
            COPY --link --chmod=0755 x /lib/y
            """)
        let linked = try image.layer(2)
        XCTAssertEqual(linked.map(\.path), ["bin", "bin/x"], "the stage's /bin symlink is not followed")
        XCTAssertEqual(linked.first?.kind, .directory)
        XCTAssertEqual(try image.layer(3).map(\.path), ["app"], "a file named /app, not one inside the stage's directory")
        XCTAssertEqual(try image.layer(4).map(\.path), ["usr", "usr/lib", "usr/lib/y"], "with --chmod the copy is an ordinary one")
    }

    func testACopyThatChangesNothingHasNoLayer() async throws {
        let fixture = try BuildFixture(files: ["a": "a"])
        try fixture.directory("empty", mode: 0o755)
        let image = try await fixture.build("FROM scratch\nCOPY a /a\nCOPY empty /\n")
        XCTAssertEqual(image.result.images[0].layers.count, 1)
        XCTAssertEqual(try image.config().history?.map { $0.emptyLayer ?? false }, [false, true])
    }

    func testFromAStageTakesThatStagesPlatform() async throws {
        let image = try await BuildFixture().build("""
            FROM --platform=linux/arm64 scratch AS base
            LABEL a=b
            FROM base
            LABEL c=d
            """)
        let config = try image.config()
        XCTAssertEqual(config.architecture, "arm64")
    }
}

/// `COPY --from` words are literal (BuildKit's `toCommand`): any word shell processing would
/// change (after the flag parser took quotes and escapes off) is refused, in every stage,
/// used or not, and in ONBUILD triggers; a literal name works.
final class CopyFromWordRulesTests: XCTestCase {
    private let refusal = "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround"

    func testVariablesInCopyFromAreRefusedWithTheLine() async throws {
        let fixture = try BuildFixture(files: ["a": "a"])
        let cases: [(String, String)] = [
            ("FROM scratch AS one\nCOPY a /a\nFROM scratch\nARG PICK=one\nCOPY --from=${PICK} /a /a\n", "Dockerfile:5: "),
            // Quotes do not hide a variable (the flag's quotes go at parsing, as in BuildKit).
            ("FROM scratch AS one\nCOPY a /a\nFROM scratch\nCOPY --from='$PICK' /a /a\n", "Dockerfile:4: "),
            // An unused stage is checked too, as BuildKit checks the whole Dockerfile.
            ("FROM scratch AS unused\nCOPY --from=$X /a /a\nFROM scratch\nCOPY a /a\n", "Dockerfile:2: "),
            // A trigger of a local stage, at its ONBUILD line.
            ("FROM scratch AS one\nCOPY a /a\nFROM scratch AS parent\nONBUILD COPY --from=$X /a /b\nFROM parent\n", "Dockerfile:4: "),
        ]
        for (dockerfile, location) in cases {
            let error = await fixture.failure(dockerfile)
            XCTAssertEqual(error?.description, location + refusal, dockerfile)
        }
    }

    func testAnImagesTriggerWithAVariableInCopyFromIsRefusedAtTheFromLine() async throws {
        let (baseFixture, layout) = try await BuildFixture.layout("FROM scratch\nONBUILD COPY --from=$X /a /b\n")
        defer { _ = baseFixture }
        let fixture = try BuildFixture(files: ["a": "a"])
        let error = await fixture.failure("FROM scratch AS x\nCOPY a /a\nFROM base\n") {
            $0.namedContexts = ["base": .ociLayout(path: layout, reference: nil)]
        }
        XCTAssertEqual(error?.description, "Dockerfile:3: " + refusal)
    }

    func testALiteralCopyFromIsAcceptedAlsoQuotedOrEscaped() async throws {
        let fixture = try BuildFixture(files: ["a": "a"])
        // BuildKit's flag parsing takes quotes and escapes off before the check: "one" and o\ne are `one`.
        for from in ["one", "\"one\"", "o\\ne"] {
            let image = try await fixture.build("FROM scratch AS one\nCOPY a /a\nFROM scratch\nARG PICK=one\nCOPY --from=\(from) /a /copied\n")
            XCTAssertEqual(try image.text("copied"), "a", from)
        }
    }
}
