import Builder
import Foundation
import Layers
import TestSupport
import XCTest

/// Ports of moby/buildkit `frontend/dockerfile/dockerfile_add_test.go` (local archives and
/// flags; the URL tests need an HTTP server and are listed in Tests/BuildKitConformance.md).
final class AddConformanceTests: XCTestCase {
    private func dir(_ name: String, mode: Int = 0o755) -> [UInt8] { rawTarEntry(name: name, type: UInt8(ascii: "5"), mode: mode) }

    func testDockerfileAddArchive() async throws {
        let fixture = try BuildFixture()
        let tar = rawTarEntry(name: "foo", content: Array("content0".utf8)) + rawTarEnd()
        try fixture.write("t.tar", tar)
        try Run.mustShell("gzip -k \(Run.quoted(fixture.context + "/t.tar"))")
        let plain = try await fixture.build("FROM scratch\nADD t.tar /\n")
        XCTAssertEqual(try plain.text("foo"), "content0")
        let gzipped = try await fixture.build("FROM scratch\nADD t.tar.gz /\n")
        XCTAssertEqual(try gzipped.text("foo"), "content0")
        let gz = try Data(contentsOf: URL(fileURLWithPath: fixture.context + "/t.tar.gz"))
        let copied = try await fixture.build("FROM scratch\nCOPY t.tar.gz /\n")
        if case .regularFile(.path(let path))? = try copied.files()["t.tar.gz"]?.kind {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), gz, "COPY keeps an archive as it is")
        } else {
            XCTFail("no t.tar.gz file")
        }
        let renamed = try await fixture.build("FROM scratch\nADD t.tar.gz /newname.tar.gz\n")
        XCTAssertNotNil(try renamed.files()["newname.tar.gz/foo"], "ADD unpacks into the destination, whatever its name")
    }

    func testDockerfileAddArchiveWithImpliedParentDir() async throws {
        let fixture = try BuildFixture()
        try fixture.write("t.tar", dir("etc/dnf/") + rawTarEntry(name: "etc/dnf/dnf.conf", content: Array("content0".utf8)) + rawTarEnd())
        try Run.mustShell("gzip \(Run.quoted(fixture.context + "/t.tar"))")
        let image = try await fixture.build("FROM scratch\nADD t.tar.gz /\n")
        XCTAssertEqual(try image.text("etc/dnf/dnf.conf"), "content0")
    }

    func testDockerfileAddArchiveThroughAbsoluteSymlink() async throws {
        let fixture = try BuildFixture()
        try fixture.write("rootfs.tar", dir("run/") + dir("var/")
            + rawTarEntry(name: "var/run", type: UInt8(ascii: "2"), linkName: "/run", mode: 0o777) + rawTarEnd())
        let head = Array("ref: refs/heads/main\n".utf8)
        try fixture.write("payload.tar", dir("var/run/act/") + dir("var/run/act/actions/") + dir("var/run/act/actions/broad/")
            + dir("var/run/act/actions/broad/.git/") + rawTarEntry(name: "var/run/act/actions/broad/.git/HEAD", content: head)
            + rawTarEntry(name: "var/run/act/actions/broad/.git/HEAD.link", type: UInt8(ascii: "1"),
                          linkName: "var/run/act/actions/broad/.git/HEAD") + rawTarEnd())
        let image = try await fixture.build("FROM scratch\nADD rootfs.tar /\nADD payload.tar /\n")
        XCTAssertEqual(try image.text("run/act/actions/broad/.git/HEAD"), "ref: refs/heads/main\n")
        XCTAssertEqual(try image.entry("run/act/actions/broad/.git/HEAD.link").kind, .hardlink(target: "run/act/actions/broad/.git/HEAD"))
        XCTAssertEqual(try image.entry("var/run").kind, .symlink(target: "/run"), "the link survives")
    }

    func testDockerfileAddChownArchive() async throws {
        let fixture = try BuildFixture()
        try fixture.write("t.tar", rawTarEntry(name: "foo", content: Array("content0".utf8)) + rawTarEnd())
        let image = try await fixture.build("FROM scratch\nADD --chown=100:200 t.tar /out/\n")
        XCTAssertEqual(try image.text("out/foo"), "content0")
        XCTAssertEqual(Array(try image.owner("out/foo").dropFirst()), [100, 200])
        XCTAssertEqual(Array(try image.owner("out").dropFirst()), [100, 200], "the directory ADD creates too")
    }

    func testDockerfileAddArchiveWildcard() async throws {
        let fixture = try BuildFixture()
        try fixture.write("t.tar", rawTarEntry(name: "foo", content: Array("content0".utf8)) + rawTarEnd())
        try fixture.write("b.tar", rawTarEntry(name: "bar", content: Array("content1".utf8)) + rawTarEnd())
        let image = try await fixture.build("FROM scratch\nADD *.tar /dest\n")
        XCTAssertEqual(try image.text("dest/foo"), "content0")
        XCTAssertEqual(try image.text("dest/bar"), "content1")
    }

    func testDockerfileAddChownExpand() async throws {
        let fixture = try BuildFixture(files: ["foo": "foo-contents"])
        try fixture.users(busyboxPasswd, groups: busyboxGroups)
        let image = try await fixture.build("FROM scratch\nCOPY etc/ /etc/\nARG group\nENV owner 1000\nADD --chown=${owner}:${group} foo /\n") {
            $0.buildArgs = ["group": "nobody"]
        }
        XCTAssertEqual(Array(try image.owner("foo").dropFirst()), [1000, 65534], "1000 nobody")
    }

    func testAddInvalidChmod() async throws {
        let fixture = try BuildFixture(files: ["foo": "foo-contents"])
        let letter = await fixture.failure("FROM scratch\nADD --chmod=64a foo /\n")
        XCTAssertEqual(letter?.description, "Dockerfile:2: invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777")
        let large = await fixture.failure("FROM scratch\nADD --chmod=10000 foo /\n")
        XCTAssertEqual(large?.description, "Dockerfile:2: invalid chmod parameter: '10000'. it should be octal string and between 0 and 07777")
    }
}
