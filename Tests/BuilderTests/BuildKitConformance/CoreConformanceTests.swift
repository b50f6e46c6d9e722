import Builder
import Foundation
import Layers
import TestSupport
import XCTest

/// Ports of moby/buildkit `frontend/dockerfile/dockerfile_core_test.go`.
final class CoreConformanceTests: XCTestCase {
    func testSymlinkDestination() async throws {
        let fixture = try BuildFixture(files: ["foo": "content0"])
        try fixture.write("t.tar", rawTarEntry(name: "symlink", type: UInt8(ascii: "2"), linkName: "../tmp/symlink-target", mode: 0o755)
            + rawTarEnd())
        let image = try await fixture.build("FROM scratch\nADD t.tar /\nCOPY foo /symlink/\n")
        XCTAssertEqual(try image.text("tmp/symlink-target/foo"), "content0", "the dangling link is followed to where it points")
        XCTAssertEqual(try image.entry("symlink").kind, .symlink(target: "../tmp/symlink-target"), "and stays a link")
    }

    func testContextChangeDirToFile() async throws {
        let first = try BuildFixture(files: ["foo/bar": "contents"])
        _ = try await first.build("FROM scratch\nCOPY foo /\n")
        let second = try BuildFixture(files: ["foo": "contents2"])
        let image = try await second.build("FROM scratch\nCOPY foo /\n")
        XCTAssertEqual(try image.text("foo"), "contents2")
    }

    func testExposeExpansion() async throws {
        let image = try await BuildFixture().build("FROM scratch\nARG PORTS=\"3000 4000/udp\"\nEXPOSE $PORTS\nEXPOSE 5000\n")
        XCTAssertEqual(try image.container().exposedPorts.map { $0.keys.sorted() }, ["3000/tcp", "4000/udp", "5000/tcp"])
    }

    func testLabels() async throws {
        let image = try await BuildFixture().build("FROM scratch\nLABEL foo=bar\n") { $0.labels = ["bar": "baz"] }
        XCTAssertEqual(try image.container().labels, ["foo": "bar", "bar": "baz"])
    }

    func testTargetMistype() async throws {
        let fixture = try BuildFixture(files: ["Dockerfile": "x"])
        let error = await fixture.failure("FROM scratch AS build\nCOPY Dockerfile /out\nFROM scratch\nCOPY --from=build /out /\n") {
            $0.target = "bulid"
        }
        XCTAssertTrue(error?.description.contains("bulid") == true && error?.description.contains("build") == true, "\(String(describing: error))")
    }
}
