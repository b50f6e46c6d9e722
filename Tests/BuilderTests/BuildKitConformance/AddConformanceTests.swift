import Builder
import Foundation
import Layers
import OCI
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

/// The URL half of `dockerfile_add_test.go`, against a loopback HTTP server.
extension AddConformanceTests {
    private func server() throws -> BackgroundServer {
        try TestHTTPServer.start("""
            def do_GET(self):
                if self.path == "/foo":
                    self.send(200, b"content1", {"ETag": "\\"e1\\""})
                elif self.path == "/":
                    self.send(200, b"content2", {"Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT"})
                else:
                    self.send(404, b"")
            def do_HEAD(self):
                self.send(200, b"")
            """)
    }

    func testDockerfileADDFromURL() async throws {
        let http = try server()
        let base = "http://127.0.0.1:\(http.port)"
        let fixture = try BuildFixture()
        let named = try await fixture.build("FROM scratch\nADD \(base)/foo /dest/\n")
        XCTAssertEqual(try named.text("dest/foo"), "content1")
        let unnamed = try await fixture.build("FROM scratch\nADD \(base)/ /dest/\n")
        XCTAssertEqual(try unnamed.text("dest/__unnamed__"), "content2", "a URL without a file name")
    }

    func testAddURLChmod() async throws {
        let http = try server()
        let url = "http://127.0.0.1:\(http.port)/foo"
        let image = try await BuildFixture().build("""
            FROM scratch AS build
            ADD --chmod=644 \(url) /tmp/foo1
            ADD --chmod=755 \(url) /tmp/foo2
            ADD --chmod=0413 \(url) /tmp/foo3
            ARG mode
            ADD --chmod=${mode} \(url) /tmp/foo4
            """) { $0.buildArgs = ["mode": "400"] }
        XCTAssertEqual(try ["foo1", "foo2", "foo3", "foo4"].map { try image.owner("tmp/" + $0)[0] }, [0o644, 0o755, 0o413, 0o400])
    }

    func testAddChecksum() async throws {
        let http = try server()
        let url = "http://127.0.0.1:\(http.port)/foo"
        let good = Digest.sha256(of: Array("content1".utf8)).description
        let fixture = try BuildFixture(files: ["foo": "local file"])
        let valid = try await fixture.build("FROM scratch\nADD --checksum=\(good) \(url) /tmp/foo\n")
        XCTAssertEqual(try valid.text("tmp/foo"), "content1")
        let fromEnv = try await fixture.build("FROM scratch\nENV DIGEST=\(good)\nENV LINK=\(url)\nADD --checksum=${DIGEST} ${LINK} /tmp/foo\n")
        XCTAssertEqual(try fromEnv.text("tmp/foo"), "content1")
        let empty = Digest.sha256(of: []).description
        for (checksum, why) in [(empty, "mismatch"), ("md5:7e55db001d319a94b0b713529a756623", "unsupported algorithm"),
                                ("unknown:" + good.dropFirst(7), "unknown algorithm"), (String(good.dropFirst(7)), "no algorithm")] {
            let error = await fixture.failure("FROM scratch\nADD --checksum=\(checksum) \(url) /tmp/foo\n")
            XCTAssertEqual(error?.line, 2, why)
        }
        let local = await fixture.failure("FROM scratch\nADD --checksum=\(Digest.sha256(of: Array("local file".utf8))) foo /tmp/foo\n")
        XCTAssertEqual(error: local, line: 2, contains: "checksum")
    }
}

private func XCTAssertEqual(error: BuildError?, line: Int, contains text: String, file: StaticString = #filePath, lineNumber: UInt = #line) {
    XCTAssertEqual(error?.line, line, file: file, line: lineNumber)
    XCTAssertTrue(error?.description.contains(text) == true, "\(String(describing: error))", file: file, line: lineNumber)
}
