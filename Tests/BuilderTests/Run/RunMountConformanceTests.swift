@testable import Builder
import Foundation
import TestSupport
import XCTest

/// BuildKit's frontend/dockerfile/dockerfile_mount_test.go, on the busybox base made in the
/// test (BuildKit's `FROM busybox` is `FROM base`; `alpine` too).
final class RunMountConformanceTests: XCTestCase {
    private var keep: BuildFixture?
    private var layout = ""

    override func setUp() async throws {
        let (fixture, path) = try await BusyboxBase.layout()
        keep = fixture
        layout = path
    }

    private func build(_ fixture: BuildFixture, _ dockerfile: String, secrets: [String: String] = [:]) async throws -> BuiltImage {
        try await fixture.build(dockerfile) {
            BusyboxBase.configure(self.layout)(&$0)
            $0.runSettings.secrets = secrets.mapValues { SecretValue(Array($0.utf8)) }
        }
    }

    private func failure(_ fixture: BuildFixture, _ dockerfile: String) async -> String? {
        await fixture.failure(dockerfile, configure: BusyboxBase.configure(layout))?.description
    }

    func testMountContext() async throws {
        let fixture = try BuildFixture(files: ["testfile": "contents0"])
        let image = try await build(fixture, "FROM base\nRUN --mount=target=/context [ \"$(cat /context/testfile)\" == \"contents0\" ]\n")
        XCTAssertEqual(image.result.images[0].layers.count, 1, "the mount point is a stub: no layer")
        XCTAssertNil(try image.files()["context"])
        // With a .dockerignore, the bind sees the context as COPY does (a filtered copy).
        try fixture.write([".dockerignore": "hidden\n", "hidden": "no"])
        _ = try await build(fixture, "FROM base\nRUN --mount=target=/context [ \"$(cat /context/testfile)\" == \"contents0\" ] && [ ! -e /context/hidden ]\n")
        let write = await failure(fixture, "FROM base\nRUN --mount=target=/context touch /context/new\n")
        XCTAssertEqual(write?.contains("exited with 1"), true, "a bind is read-only by default: \(write ?? "built")")
    }

    func testMountTmpfs() async throws {
        let fixture = try BuildFixture()
        let image = try await build(fixture, """
            FROM base
            RUN --mount=target=/mytmp,type=tmpfs touch /mytmp/foo
            RUN [ ! -f /mytmp/foo ]
            """)
        XCTAssertNil(try image.files()["mytmp"], "a tmpfs keeps nothing and its mount point is no layer entry")
    }

    /// The rw half; the second build's "cached by content" half is not applicable (slipway
    /// runs every RUN: the random file differs).
    func testMountRWCache() async throws {
        let fixture = try BuildFixture(files: ["cachebust": "0"])
        let image = try await build(fixture, """
            from base AS build
            copy cachebust /
            run mkdir out && echo foo > out/foo

            from base as second
            RUN --mount=from=build,src=out,target=/out,rw touch /out/bar && ls /out > /listing
            RUN --mount=from=build,src=out,target=/out [ ! -e /out/bar ] && cat /out/foo > /seen

            from scratch
            COPY --from=second /listing /seen /
            """)
        XCTAssertEqual(try image.text("listing"), "bar\nfoo\n", "rw: writes are allowed")
        XCTAssertEqual(try image.text("seen"), "foo\n", "and discarded: the stage is unchanged")
    }

    func testCacheMountDefaultID() async throws {
        _ = try await build(try BuildFixture(), """
            FROM base
            RUN --mount=type=cache,target=/mycache touch /mycache/foo
            RUN --mount=type=cache,target=/mycache2 [ ! -f /mycache2/foo ]
            RUN --mount=type=cache,target=/mycache [ -f /mycache/foo ]
            """)
    }

    func testMountEnvVar() async throws {
        _ = try await build(try BuildFixture(), """
            FROM base
            ENV SOME_PATH=/mycache
            RUN --mount=type=cache,target=/mycache touch /mycache/foo
            RUN --mount=type=cache,target=$SOME_PATH [ -f $SOME_PATH/foo ]
            """)
    }

    func testMountArg() async throws {
        _ = try await build(try BuildFixture(), """
            FROM base
            ARG MNT_TYPE=cache
            RUN --mount=type=$MNT_TYPE,target=/mycache2 touch /mycache2/foo
            RUN --mount=type=cache,target=/mycache2 [ -f /mycache2/foo ]
            """)
    }

    func testMountEnvAcrossStages() async throws {
        _ = try await build(try BuildFixture(), """
            FROM base as stage1

            ENV MNT_ID=mycache
            ENV MNT_TYPE2=cache
            RUN --mount=type=cache,id=mycache,target=/abcabc touch /abcabc/foo
            RUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/cbacba [ -f /cbacba/foo ]

            FROM stage1
            RUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/whatever [ -f /whatever/foo ]
            """)
    }

    func testMountMetaArg() async throws {
        _ = try await build(try BuildFixture(), """
            ARG META_PATH=/tmp/meta

            FROM base
            ARG META_PATH
            RUN --mount=type=cache,id=mycache,target=/tmp/meta touch /tmp/meta/foo
            RUN --mount=type=cache,id=mycache,target=$META_PATH [ -f /tmp/meta/foo ]
            """)
    }

    func testMountFromError() async throws {
        let error = await failure(try BuildFixture(), """
            FROM base as test
            RUN touch /tmp/test

            FROM base
            ENV ttt=test
            RUN --mount=from=$ttt,type=cache,target=/tmp ls
            """)
        XCTAssertEqual(error, "Dockerfile:6: 'from' doesn't support variable expansion, define alias stage instead")
    }

    /// BuildKit says "did you mean mount?"; slipway's flag check says "--mount".
    func testMountInvalid() async throws {
        let fixture = try BuildFixture()
        let flag = await failure(fixture, "FROM scratch\nRUN --mont=target=/mytmp,type=tmpfs /bin/true\n")
        XCTAssertEqual(flag?.contains("unknown flag: --mont"), true, flag ?? "")
        XCTAssertEqual(flag?.contains("did you mean --mount?"), true, flag ?? "")
        let key = await failure(fixture, "FROM scratch\nRUN --mount=typ=tmpfs /bin/true\n")
        XCTAssertEqual(key, "Dockerfile:2: unexpected key 'typ' in 'typ=tmpfs' (did you mean type?)")
        let type = await failure(fixture, "FROM scratch\nRUN --mount=type=tmp /bin/true\n")
        XCTAssertEqual(type, "Dockerfile:2: unsupported mount type \"tmp\" (did you mean tmpfs?)")
    }

    func testMountTmpfsSize() async throws {
        let image = try await build(try BuildFixture(), """
            FROM base AS base2
            RUN --mount=type=tmpfs,target=/dev/shm,size=128m mount | grep /dev/shm > /tmpfssize
            FROM scratch
            COPY --from=base2 /tmpfssize /
            """)
        let line = try image.text("tmpfssize") ?? ""
        XCTAssertTrue(line.contains("size=131072k"), line)
    }

    /// moby/buildkit#4123: a directory and a file of the context at once, the context changed
    /// between two builds.
    func testMountDuplicate() async throws {
        let dockerfile = """
            FROM base AS base2
            RUN --mount=source=.,target=/tmp/test \\
              --mount=source=b.txt,target=/tmp/b.txt \\
              cat /tmp/test/a.txt /tmp/b.txt > /combined.txt
            FROM scratch
            COPY --from=base2 /combined.txt /
            """
        for text in ["foo\n", "updated\n"] {
            let fixture = try BuildFixture(files: ["a.txt": text, "b.txt": "bar\n"])
            let image = try await build(fixture, dockerfile)
            XCTAssertEqual(try image.text("combined.txt"), text + "bar\n")
        }
    }

    func testCacheMountUser() async throws {
        _ = try await build(try BuildFixture(), """
            FROM base
            RUN --mount=type=cache,target=/mycache,uid=1001,gid=1002,mode=0751 [ "$(stat -c "%u %g %f" /mycache)" == "1001 1002 41e9" ]
            """)
    }

    /// Nested cache mounts in two stages, built a few times (BuildKit: 20); slipway builds a
    /// platform's stages one after the other, so "parallel" is the nesting and the reuse.
    func testCacheMountParallel() async throws {
        let fixture = try BuildFixture()
        for _ in 0..<3 {
            let image = try await build(fixture, """
                FROM base AS b1
                RUN --mount=type=cache,target=/foo/bar --mount=type=cache,target=/foo/bar/baz echo 1

                FROM base AS b2
                RUN --mount=type=cache,target=/foo/bar --mount=type=cache,target=/foo/bar/baz echo 2

                FROM scratch
                COPY --from=b1 /etc/passwd p1
                COPY --from=b2 /etc/passwd p2
                """)
            XCTAssertNotNil(try image.files()["p2"])
        }
    }

    func testCacheMountSourceEscape() async throws {
        let error = await failure(try BuildFixture(), """
            FROM base AS init
            RUN --mount=type=cache,id=sourceescape,target=/cache mkdir -p /cache/sel && echo benign > /cache/sel/benign.txt

            FROM init AS link
            RUN --mount=type=cache,id=sourceescape,target=/cache rm -rf /cache/sel && ln -s /etc /cache/sel

            FROM link AS victim
            RUN --mount=type=cache,id=sourceescape,source=sel,target=/victim cat /victim/hostname

            FROM scratch
            COPY --from=victim /etc/hostname /hostname
            """)
        XCTAssertEqual(error, "Dockerfile:8: cache mount source 'sel' is not a directory inside the cache (a symlink in the cache is not followed)")
    }
}
