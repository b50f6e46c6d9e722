import Builder
import Foundation
import Layers
import TestSupport
import XCTest

/// Ports of moby/buildkit `frontend/dockerfile/dockerfile_copy_test.go` (one test per BuildKit
/// test, same name). BuildKit's `RUN` checks become assertions on the written layers; users
/// BuildKit adds with `RUN adduser` come from a copied `/etc/passwd`. See
/// `Tests/BuildKitConformance.md` for the tests not ported and why.
final class CopyConformanceTests: XCTestCase {
    func testDockerfileCopyFromArgs() async throws {
        let fixture = try BuildFixture()
        let error = await fixture.failure("\nFROM scratch\nCOPY --from=$FOO . .\n")
        XCTAssertEqual(error?.description, "Dockerfile:3: variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround")
    }

    func testEmptyDestDir() async throws {
        let fixture = try BuildFixture(files: ["testfile": "contents0"])
        let image = try await fixture.build("FROM scratch\nENV empty=\"\"\nCOPY testfile $empty\n")
        XCTAssertEqual(try image.text("testfile"), "contents0")
    }

    func testPreserveDestDirSlash() async throws {
        let fixture = try BuildFixture(files: ["testfile": "contents0"])
        let image = try await fixture.build("FROM scratch\nCOPY testfile /sample/\n")
        XCTAssertEqual(try image.text("sample/testfile"), "contents0")
    }

    func testCopyLinkDotDestDir() async throws {
        let fixture = try BuildFixture(files: ["testfile": "contents0"])
        let image = try await fixture.build("FROM scratch\nWORKDIR /var/www\nCOPY --link testfile .\n")
        XCTAssertEqual(try image.text("var/www/testfile"), "contents0")
    }

    func testCopyLinkEmptyDestDir() async throws {
        let fixture = try BuildFixture(files: ["testfile": "contents0"])
        let image = try await fixture.build("FROM scratch\nWORKDIR /var/www\nENV empty=\"\"\nCOPY --link testfile $empty\n")
        XCTAssertEqual(try image.text("var/www/testfile"), "contents0")
    }

    func testCopyChownExistingDir() async throws {
        let fixture = try BuildFixture(files: ["file": ""])
        try fixture.directory("emptydir", mode: 0o755)
        // The ownership BuildKit's stages set up with RUN chown, made here with COPY --chown.
        let stages = """
            FROM scratch AS source
            COPY --chown=100:200 file /file
            COPY --chown=100:200 emptydir /dir
            COPY --chown=101:201 emptydir /dir/subdir
            COPY --chown=102:202 file /dir/subdir/nestedfile
            FROM scratch AS test_base
            COPY --chown=500:600 emptydir /existingdir
            COPY --chown=501:601 emptydir /existingdir/existingsubdir
            COPY --chown=501:601 file /existingdir/existingfile

            """
        let plain = try await fixture.build(stages + """
            FROM test_base AS copy_from
            COPY --from=source /file .
            COPY --from=source /dir /dir
            COPY --from=source /dir/. /existingdir
            """)
        func owners(_ image: BuiltImage, _ paths: [String]) throws -> [[Int]] {
            try paths.map { Array(try image.owner($0).dropFirst()) }
        }
        let paths = ["file", "dir", "dir/subdir", "dir/subdir/nestedfile", "existingdir", "existingdir/existingsubdir",
                     "existingdir/existingfile", "existingdir/subdir", "existingdir/subdir/nestedfile"]
        XCTAssertEqual(try owners(plain, paths), [[100, 200], [0, 0], [101, 201], [102, 202], [500, 600], [501, 601],
                                                   [501, 601], [101, 201], [102, 202]])
        let chowned = try await fixture.build(stages + """
            FROM test_base AS copy_from_chowned
            COPY --from=source --chown=300:400 /file .
            COPY --from=source --chown=300:400 /dir /dir
            COPY --from=source --chown=300:400 /dir/. /existingdir
            """)
        XCTAssertEqual(try owners(chowned, paths), [[300, 400], [300, 400], [300, 400], [300, 400], [500, 600], [501, 601],
                                                     [501, 601], [300, 400], [300, 400]])
    }

    func testEmptyWildcard() async throws {
        let fixture = try BuildFixture(files: ["foo": "contents0"])
        let image = try await fixture.build("FROM scratch\nCOPY foo nomatch* /\n")
        XCTAssertEqual(try image.text("foo"), "contents0")
    }

    func testCopyChownCreateDest() async throws {
        let fixture = try BuildFixture()
        try fixture.users(busyboxPasswd, groups: busyboxGroups)
        let image = try await fixture.build("""
            FROM scratch
            COPY etc/ /etc/
            ARG group
            ENV owner user01
            COPY --chown=user:user . /dest
            COPY --chown=${owner}:${group} . /dest01
            """) { $0.buildArgs = ["group": "user"] }
        XCTAssertEqual(Array(try image.owner("dest").dropFirst()), [1000, 1000])
        XCTAssertEqual(Array(try image.owner("dest01").dropFirst()), [1001, 1000])
    }

    func testCopyThroughSymlinkContext() async throws {
        let fixture = try BuildFixture(files: ["sub/foo": "contents"])
        try fixture.symlink("link", to: "sub")
        let image = try await fixture.build("FROM scratch\nCOPY link/foo .\n")
        XCTAssertEqual(try image.text("foo"), "contents")
    }

    func testCopyThroughSymlinkMultiStage() async throws {
        let fixture = try BuildFixture(files: ["tree/out/sub/foo": "data"])
        // BuildKit's RUN: mkdir -p /out/sub && ln -s /out/sub /sub && ln -s out/sub /sub2
        try fixture.symlink("tree/sub", to: "/out/sub")
        try fixture.symlink("tree/sub2", to: "out/sub")
        let image = try await fixture.build("""
            FROM scratch AS build
            COPY tree/ /
            FROM scratch
            COPY --from=build /sub/foo .
            COPY --from=build /sub2/foo bar
            """)
        XCTAssertEqual(try image.text("foo"), "data")
        XCTAssertEqual(try image.text("bar"), "data")
    }

    func testCopyFollowAllSymlinks() async throws {
        let fixture = try BuildFixture(files: ["bar": "bar-contents"])
        try fixture.directory("foo", mode: 0o700)
        try fixture.symlink("foo/sub", to: "../bar")
        let image = try await fixture.build("FROM scratch\nCOPY foo /\nCOPY foo/sub bar\n")
        XCTAssertEqual(try image.entry("sub").kind, .symlink(target: "../bar"))
        XCTAssertEqual(try image.text("bar"), "bar-contents")
    }

    func testCopySymlinks() async throws {
        let fixture = try BuildFixture(files: ["bar": "bar-contents", "sub/lfile": "lfile-contents", "sub/subfile": "subfile-contents",
                                               "sub/baz": "baz-contents"])
        try fixture.symlink("foo", to: "bar")
        try fixture.symlink("sub/l0", to: "subfile")
        try fixture.symlink("sub/l1", to: "second")
        try fixture.symlink("sub/second", to: "baz")
        let image = try await fixture.build("FROM scratch\nCOPY foo /\nCOPY sub/l* alllinks/\n")
        XCTAssertEqual(try image.text("foo"), "bar-contents")
        XCTAssertEqual(try image.text("alllinks/l0"), "subfile-contents")
        XCTAssertEqual(try image.text("alllinks/lfile"), "lfile-contents")
        XCTAssertEqual(try image.text("alllinks/l1"), "baz-contents")
    }

    func testCopyChown() async throws {
        let fixture = try BuildFixture(files: ["foo": "foo-contents", "bar/sub": ""])
        try fixture.users(busyboxPasswd, groups: busyboxGroups)
        let image = try await fixture.build("""
            FROM scratch AS base
            COPY etc/ /etc/
            ENV owner 1000
            COPY --chown=daemon foo /
            COPY --chown=1000:nobody bar /baz
            ARG group
            COPY --chown=${owner}:${group} foo /foobis
            """) { $0.buildArgs = ["group": "nobody"] }
        XCTAssertEqual(Array(try image.owner("foo").dropFirst()), [1, 1], "daemon daemon")
        XCTAssertEqual(Array(try image.owner("baz/sub").dropFirst()), [1000, 65534], "1000 nobody")
        XCTAssertEqual(Array(try image.owner("foobis").dropFirst()), [1000, 65534], "1000 nobody")
    }

    func testCopyChmod() async throws {
        let fixture = try BuildFixture()
        try fixture.file("foo", "foo-contents", mode: 0o600)
        try fixture.file("bar", "bar-contents", mode: 0o700)
        let image = try await fixture.build("""
            FROM scratch AS base
            COPY --chmod=0644 foo /
            COPY --chmod=777 bar /baz
            COPY --chmod=0 foo /foobis
            COPY --chmod=777 foo /parent/foo
            COPY --chmod=770 foo /parent/sub/foo
            ARG mode
            COPY --chmod=${mode} foo /footer
            """) { $0.buildArgs = ["mode": "755"] }
        XCTAssertEqual(try image.owner("foo")[0], 0o644)
        XCTAssertEqual(try image.owner("baz")[0], 0o777)
        XCTAssertEqual(try image.owner("foobis")[0], 0)
        XCTAssertEqual(try image.owner("parent")[0], 0o777, "the directory --chmod creates gets the mode too")
        XCTAssertEqual(try image.owner("parent/sub")[0], 0o770)
        XCTAssertEqual(try image.owner("footer")[0], 0o755)
    }

    func testCopyInvalidChmod() async throws {
        let fixture = try BuildFixture(files: ["foo": "foo-contents"])
        let letter = await fixture.failure("FROM scratch\nCOPY --chmod=64a foo /\n")
        XCTAssertEqual(letter?.description, "Dockerfile:2: invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777")
        let large = await fixture.failure("FROM scratch\nCOPY --chmod=10000 foo /\n")
        XCTAssertEqual(large?.description, "Dockerfile:2: invalid chmod parameter: '10000'. it should be octal string and between 0 and 07777")
    }

    func testCopyOverrideFiles() async throws {
        let fixture = try BuildFixture(files: ["sub/dir1/dir2/foo": "foo-contents", "files/foo.go": "foo.go-contents"])
        let image = try await fixture.build("""
            FROM scratch AS base
            COPY sub sub
            COPY sub sub
            COPY files/foo.go dest/foo.go
            COPY files/foo.go dest/foo.go
            COPY files dest
            """)
        XCTAssertEqual(try image.text("sub/dir1/dir2/foo"), "foo-contents")
        XCTAssertEqual(try image.text("dest/foo.go"), "foo.go-contents")
    }

    func testCopyVarSubstitution() async throws {
        let fixture = try BuildFixture(files: ["bar": "bar-contents"])
        let image = try await fixture.build("FROM scratch AS base\nENV FOO bar\nCOPY $FOO baz\n")
        XCTAssertEqual(try image.text("baz"), "bar-contents")
    }

    func testCopyWildcards() async throws {
        let fixture = try BuildFixture(files: ["foo.go": "foo-contents", "bar.go": "bar-contents", "sub/dir1/dir2/foo": "foo-contents"])
        let image = try await fixture.build("""
            FROM scratch AS base
            COPY *.go /gofiles/
            COPY f*.go foo2.go
            COPY sub/* /subdest/
            COPY sub/*/dir2/foo /subdest2/
            COPY sub/*/dir2/foo /subdest3/bar
            COPY . all/
            COPY sub/dir1/ subdest4
            COPY sub/dir1/. subdest5
            COPY sub/dir1 subdest6
            """)
        let expected = ["gofiles/foo.go": "foo-contents", "gofiles/bar.go": "bar-contents", "foo2.go": "foo-contents",
                        "subdest/dir2/foo": "foo-contents", "subdest2/foo": "foo-contents", "subdest3/bar": "foo-contents",
                        "all/foo.go": "foo-contents", "subdest4/dir2/foo": "foo-contents", "subdest5/dir2/foo": "foo-contents",
                        "subdest6/dir2/foo": "foo-contents"]
        for (path, text) in expected { XCTAssertEqual(try image.text(path), text, path) }
    }

    func testCopyRelative() async throws {
        let fixture = try BuildFixture(files: ["foo": "hello"])
        let image = try await fixture.build("""
            FROM scratch
            WORKDIR /test1
            WORKDIR test2
            COPY foo ./
            ADD foo ./bar/baz
            COPY foo ./bar/baz2
            WORKDIR ..
            COPY foo ./
            COPY foo /test3/
            WORKDIR /test4
            COPY . .
            WORKDIR /test5/test6
            COPY foo ../
            """)
        for path in ["test1/test2/foo", "test1/test2/bar/baz", "test1/test2/bar/baz2", "test1/foo", "test3/foo", "test4/foo", "test5/foo"] {
            XCTAssertEqual(try image.text(path), "hello", path)
        }
        XCTAssertEqual(try image.container().workingDir, "/test5/test6")
    }

    func testCopyUnicodePath() async throws {
        let fixture = try BuildFixture(files: ["test-äöü.txt": "foo", "test-%C3%A4%C3%B6%C3%BC.txt": "bar", "test+aou.txt": "baz"])
        let image = try await fixture.build("""
            FROM scratch
            COPY test-äöü.txt /
            COPY test-%C3%A4%C3%B6%C3%BC.txt /
            COPY test+aou.txt /
            """)
        XCTAssertEqual(try image.text("test-äöü.txt"), "foo")
        XCTAssertEqual(try image.text("test-%C3%A4%C3%B6%C3%BC.txt"), "bar")
        XCTAssertEqual(try image.text("test+aou.txt"), "baz")
    }

    func testChmodNonOctal() async throws {
        let fixture = try BuildFixture()
        try fixture.file("input/file", "", mode: 0o666)
        for name in ["d1", "d2", "d3"] { try fixture.directory("input/dirs/\(name)/\(name)", mode: 0o124) }
        let image = try await fixture.build("""
            FROM scratch AS base
            COPY input/ /input/
            FROM scratch
            COPY --from=base --chmod=go-w /input/file /f1
            COPY --from=base --chmod=u=rw,g=r,o=r /input/file /f2
            COPY --from=base --chmod=a+X /input/file /f3
            COPY --from=base --chmod=go-w /input/dirs/d1 /
            COPY --from=base --chmod=u+rw,g+r,o-x,o+w /input/dirs/d2 /
            COPY --from=base --chmod=a+X /input/dirs/d3 /
            """)
        // What chmod(1) makes of a 0666 file and a 0124 directory.
        XCTAssertEqual(try image.owner("f1")[0], 0o644)
        XCTAssertEqual(try image.owner("f2")[0], 0o644)
        XCTAssertEqual(try image.owner("f3")[0], 0o666)
        XCTAssertEqual(try image.owner("d1")[0], 0o104)
        XCTAssertEqual(try image.owner("d2")[0], 0o766)
        XCTAssertEqual(try image.owner("d3")[0], 0o135)
    }
}

extension CopyConformanceTests {
    func testCopySocket() async throws {
        let fixture = try BuildFixture(files: ["a": "a"])
        // A Unix socket in the context, as fstest.CreateSocket makes it.
        let path = fixture.context + "/socket.sock"
        let socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(socketFD, 0)
        defer { close(socketFD) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in path.utf8.prefix(buffer.count - 1).enumerated() { buffer[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0, "bind \(path)")
        let image = try await fixture.build("FROM scratch\nCOPY . /\n")
        XCTAssertEqual(try image.text("socket.sock"), "", "a socket becomes an empty regular file")
    }
}
