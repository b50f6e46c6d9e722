import Builder
import Foundation
import Layers
import TestSupport
import XCTest

/// COPY and ADD through `Builder.build`, checked in the layers written to the store.
final class CopyTests: XCTestCase {
    func testFileDirectoryGlobRenameAndSeveralSources() async throws {
        let fixture = try BuildFixture(files: ["a.txt": "a", "one.txt": "1", "dir/b.txt": "b", "dir/sub/c.txt": "c"])
        let image = try await fixture.build("""
            FROM scratch
            COPY a.txt /renamed
            COPY dir /contents/
            COPY dir/*.txt /globbed/
            COPY a.txt one.txt /many/
            """)
        let files = try image.files()
        XCTAssertEqual(try image.text("renamed"), "a")
        XCTAssertEqual(try image.text("contents/b.txt"), "b", "a directory source copies its contents")
        XCTAssertEqual(try image.text("contents/sub/c.txt"), "c")
        XCTAssertNil(files["contents/dir"])
        XCTAssertEqual(try image.text("globbed/b.txt"), "b")
        XCTAssertNil(files["globbed/sub"], "the wildcard matches one level")
        XCTAssertEqual(try image.text("many/a.txt"), "a")
        XCTAssertEqual(try image.text("many/one.txt"), "1")
        XCTAssertEqual(image.result.images[0].layers.count, 4, "one layer per COPY")
    }

    func testDestinationsRelativeToWorkdirAndIntoAnExistingDirectory() async throws {
        let fixture = try BuildFixture(files: ["a.txt": "a", "b.txt": "b"])
        let image = try await fixture.build("""
            FROM scratch
            WORKDIR /app
            COPY a.txt .
            COPY a.txt rel/
            COPY b.txt /app
            """)
        XCTAssertEqual(try image.text("app/a.txt"), "a")
        XCTAssertEqual(try image.text("app/rel/a.txt"), "a")
        XCTAssertEqual(try image.text("app/b.txt"), "b", "an existing directory is a directory destination without a slash")
    }

    func testChownByNameFromTheStageAndChmod() async throws {
        let fixture = try BuildFixture(files: ["passwd": "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
                                               "group": "root:x:0:\nstaff:x:50:\n", "a.txt": "a"])
        let image = try await fixture.build("""
            FROM scratch
            COPY passwd /etc/passwd
            COPY group /etc/group
            COPY --chown=app:staff --chmod=0640 a.txt /a
            COPY --chown=1234 a.txt /b
            COPY --chown=app a.txt /c
            ARG OWNER=7:8
            COPY --chown=$OWNER --chmod=755 a.txt /d
            """)
        XCTAssertEqual(try image.owner("a"), [0o640, 1000, 50])
        XCTAssertEqual(try image.owner("b"), [0o644, 1234, 1234], "a numeric user not in /etc/passwd: its number as group")
        XCTAssertEqual(try image.owner("c"), [0o644, 1000, 1001], "the user's primary group")
        XCTAssertEqual(try image.owner("d"), [0o755, 7, 8])
    }

    func testUnknownChownUserIsRootAndBadChmodNamesItsLine() async throws {
        let fixture = try BuildFixture(files: ["a.txt": "a"])
        // BuildKit: a name missing from the stage's /etc/passwd resolves to 0:0.
        let image = try await fixture.build("FROM scratch\nCOPY --chown=ghost a.txt /a\n")
        XCTAssertEqual(try image.owner("a"), [0o644, 0, 0])
        let mode = await fixture.failure("FROM scratch\n\nCOPY --chmod=999 a.txt /a\n")
        XCTAssertEqual(mode?.description, "Dockerfile:3: invalid chmod parameter: '999'. it should be octal string and between 0 and 07777")
    }

    func testDockerignoreExcludesFromCopyDotAndRefusesAnExplicitSource() async throws {
        let fixture = try BuildFixture(files: [".dockerignore": "*.log\nsecret/\n!secret/keep.txt\n", "a.txt": "a", "x.log": "x",
                                               "secret/key": "k", "secret/keep.txt": "kept"])
        let files = try await fixture.build("FROM scratch\nCOPY . /app\n").files()
        XCTAssertNotNil(files["app/a.txt"])
        XCTAssertNil(files["app/x.log"])
        XCTAssertNil(files["app/secret/key"])
        XCTAssertNotNil(files["app/secret/keep.txt"], "an exception re-includes a file under an excluded directory")
        let error = await fixture.failure("FROM scratch\nCOPY x.log /x.log\n")
        XCTAssertEqual(error?.description, "Dockerfile:2: COPY source 'x.log' is excluded by .dockerignore in context 'context'")
    }

    func testHeredocsExpandUnlessTheDelimiterIsQuoted() async throws {
        let image = try await BuildFixture().build("FROM scratch\nARG NAME=world\nCOPY <<EOF /greeting\nhello $NAME\nEOF\n"
            + "COPY <<'RAW' /raw\nhello $NAME\nRAW\nCOPY <<-TABS /tabs\n\thello\n\tTABS\n")
        XCTAssertEqual(try image.text("greeting"), "hello world\n")
        XCTAssertEqual(try image.text("raw"), "hello $NAME\n")
        XCTAssertEqual(try image.text("tabs"), "hello\n", "<<- strips leading tabs")
        XCTAssertEqual(try image.owner("greeting"), [0o644, 0, 0])
    }

    func testSymlinksStayLinksAndHardLinksStayLinked() async throws {
        let fixture = try BuildFixture(files: ["target.txt": "t"])
        try FileManager.default.createSymbolicLink(atPath: fixture.context + "/link", withDestinationPath: "target.txt")
        XCTAssertEqual(link(fixture.context + "/target.txt", fixture.context + "/hard"), 0)
        let image = try await fixture.build("FROM scratch\nCOPY . /app\n")
        XCTAssertEqual(try image.entry("app/link").kind, .symlink(target: "target.txt"), "the target is kept verbatim")
        let pair = [try image.entry("app/hard"), try image.entry("app/target.txt")]
        let regular = pair.filter { if case .regularFile = $0.kind { return true } else { return false } }
        XCTAssertEqual(regular.count, 1, "\(pair)")
        XCTAssertEqual(pair.filter { $0.kind == .hardlink(target: regular.first?.path ?? "?") }.count, 1, "the other name links to it: \(pair)")
    }

    func testParentsAndExclude() async throws {
        let fixture = try BuildFixture(files: ["dir/b.txt": "b", "dir/skip.log": "l", "dir/sub/c.txt": "c"])
        let files = try await fixture.build("""
            FROM scratch
            COPY --parents dir/sub/c.txt /p/
            COPY --exclude=*.log dir /e/
            """).files()
        XCTAssertNotNil(files["p/dir/sub/c.txt"], "--parents keeps the source's path")
        XCTAssertNotNil(files["e/b.txt"])
        XCTAssertNotNil(files["e/sub/c.txt"])
        XCTAssertNil(files["e/skip.log"])
    }

    func testAddUnpacksALocalArchiveAndCopyDoesNot() async throws {
        let fixture = try BuildFixture(files: ["plain.txt": "plain"])
        try fixture.write("bundle.tar", rawTarEntry(name: "pkg/", type: UInt8(ascii: "5"), mode: 0o755)
            + rawTarEntry(name: "pkg/hello.txt", content: Array("hi".utf8)) + rawTarEntry(name: "pkg/link", type: UInt8(ascii: "2"), linkName: "hello.txt")
            + rawTarEnd())
        try Run.mustShell("gzip -k \(Run.quoted(fixture.context + "/bundle.tar"))")
        let image = try await fixture.build("""
            FROM scratch
            ADD bundle.tar /x/
            ADD --chown=7:8 bundle.tar.gz /o
            COPY bundle.tar /y/
            ADD plain.txt /z/
            """)
        XCTAssertEqual(try image.text("x/pkg/hello.txt"), "hi")
        XCTAssertEqual(try image.entry("x/pkg/link").kind, .symlink(target: "hello.txt"))
        XCTAssertEqual(try image.owner("o/pkg/hello.txt"), [0o644, 7, 8], "--chown applies to the unpacked entries")
        if case .regularFile = try image.entry("y/bundle.tar").kind {} else { XCTFail("COPY keeps an archive as a file") }
        XCTAssertEqual(try image.text("z/plain.txt"), "plain", "ADD of a file that is no archive copies it")
    }

    func testAddRefusesAnArchiveEntryLeavingTheDestination() async throws {
        let fixture = try BuildFixture()
        try fixture.write("evil.tar", rawTarEntry(name: "../evil", content: Array("x".utf8)) + rawTarEnd())
        let error = await fixture.failure("FROM scratch\nADD evil.tar /dest/\n")
        XCTAssertEqual(error?.line, 2)
        XCTAssertTrue(error?.description.hasPrefix("Dockerfile:2: ADD: cannot extract") == true, "\(String(describing: error))")
        XCTAssertTrue(error?.description.contains("refusing entry '../evil'") == true, "\(String(describing: error))")
    }

    func testMissingSourceOutsideTheContextAndSeveralSourcesToAFile() async throws {
        let fixture = try BuildFixture(files: ["a": "1", "b": "2"])
        let missing = await fixture.failure("FROM scratch\n\nCOPY missing.txt /app/\n")
        XCTAssertEqual(missing?.line, 3)
        XCTAssertTrue(missing?.description.hasPrefix("Dockerfile:3: ") == true && missing?.description.contains("missing.txt") == true,
                      "\(String(describing: missing))")
        let outside = await fixture.failure("FROM scratch\nCOPY ../secret /s\n")
        XCTAssertTrue(outside?.description.contains("outside the build context") == true, "\(String(describing: outside))")
        let several = await fixture.failure("FROM scratch\nCOPY a b /dest\n")
        XCTAssertEqual(several?.description,
                       "Dockerfile:2: when using COPY with more than one source file, the destination must be a directory and end with a /")
    }
}
