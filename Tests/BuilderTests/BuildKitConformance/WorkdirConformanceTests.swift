import Builder
import Foundation
import Layers
import TestSupport
import XCTest

/// Ports of moby/buildkit `frontend/dockerfile/dockerfile_workdir_test.go`.
final class WorkdirConformanceTests: XCTestCase {
    func testWorkdirCreatesDir() async throws {
        let image = try await BuildFixture().build("FROM scratch\nWORKDIR /foo\nWORKDIR /\n")
        XCTAssertEqual(try image.entry("foo").kind, .directory)
        XCTAssertEqual(try image.container().workingDir, "/")
    }

    func testWorkdirSourceDateEpochReproducible() async throws {
        let fixture = try BuildFixture()
        let dockerfile = "FROM scratch\nWORKDIR /mydir\n"
        let epoch = Int64(1_673_364_896) // 2023-01-10T15:34:56Z
        let first = try await fixture.build(dockerfile) { $0.sourceDateEpoch = epoch }
        let second = try await fixture.build(dockerfile) { $0.sourceDateEpoch = epoch }
        XCTAssertEqual(first.result.root.digest, second.result.root.digest)
    }

    func testWorkdirUser() async throws {
        let fixture = try BuildFixture()
        try fixture.users(busyboxPasswd, groups: busyboxGroups)
        let image = try await fixture.build("FROM scratch\nCOPY etc/ /etc/\nUSER user\nWORKDIR /mydir\n")
        XCTAssertEqual(try image.owner("mydir"), [0o755, 1000, 1000], "user user")
    }

    func testWorkdirCopyIgnoreRelative() async throws {
        let fixture = try BuildFixture(files: ["Dockerfile": "x"])
        let image = try await fixture.build("""
            FROM scratch AS base
            WORKDIR /foo
            COPY Dockerfile /
            FROM scratch
            COPY --from=base Dockerfile .
            """)
        XCTAssertEqual(try image.text("Dockerfile"), "x", "a relative --from source is read from the stage's root")
    }

    func testWorkdirExists() async throws {
        let fixture = try BuildFixture()
        try fixture.users(busyboxPasswd, groups: busyboxGroups)
        try fixture.directory("empty", mode: 0o755)
        let image = try await fixture.build("""
            FROM scratch
            COPY etc/ /etc/
            COPY --chown=user:user empty /mydir
            WORKDIR /mydir
            """)
        XCTAssertEqual(try image.owner("mydir"), [0o755, 1000, 1000], "an existing directory keeps its owner")
        XCTAssertEqual(image.result.images[0].layers.count, 2, "no layer for a directory that exists")
    }
}
