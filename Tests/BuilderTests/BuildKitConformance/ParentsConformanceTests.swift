import Builder
import Foundation
import Layers
import TestSupport
import XCTest

/// Ports of moby/buildkit `frontend/dockerfile/dockerfile_parents_test.go`. BuildKit's base
/// stage makes its tree with `RUN mkdir/touch`; here the same tree comes from the context.
final class ParentsConformanceTests: XCTestCase {
    func testCopyParents() async throws {
        let fixture = try BuildFixture(files: ["foo1/foo2/bar": "testing", "foo1/foo2/baz": "testing2"])
        let image = try await fixture.build("""
            FROM scratch
            COPY --parents foo1/foo2/bar /
            WORKDIR /test
            COPY --parents foo1/foo2/ba* .
            """)
        XCTAssertEqual(try image.text("foo1/foo2/bar"), "testing")
        XCTAssertEqual(try image.text("test/foo1/foo2/bar"), "testing")
        XCTAssertEqual(try image.text("test/foo1/foo2/baz"), "testing2")
    }

    /// BuildKit's base stage: `WORKDIR /test` and the tree below.
    private func baseFixture() throws -> BuildFixture {
        try BuildFixture(files: ["test/a/b/c/d/foo": "", "test/a/b/c/d/e/bay": "", "test/a/b2/c/d/e/bar": "",
                                 "test/a/b/c2/d/e/baz": "", "test/a/b/c2/d/e2/baz": ""])
    }

    private func paths(_ image: BuiltImage) throws -> Set<String> { Set(try image.files().keys) }

    func testCopyRelativeParents() async throws {
        let fixture = try baseFixture()
        func build(_ copy: String) async throws -> Set<String> {
            try paths(try await fixture.build("FROM scratch AS base\nCOPY test /test\nFROM scratch\n\(copy)\n"))
        }
        let middle = try await build("COPY --from=base --parents /test/a/b/./c/d /out/")
        XCTAssertTrue(middle.isSuperset(of: ["out/c/d/e", "out/c/d/foo"]), "\(middle)")
        XCTAssertFalse(middle.contains("out/a") || middle.contains("out/e"), "\(middle)")
        let end = try await build("COPY --from=base --parents /test/a/b/c/d/. /out/")
        XCTAssertTrue(end.isSuperset(of: ["out/test/a/b/c/d/e", "out/test/a/b/c/d/foo"]), "\(end)")
        let start = try await build("COPY --from=base --parents ./test/a/b/c/d /out/")
        XCTAssertTrue(start.isSuperset(of: ["out/test/a/b/c/d/e", "out/test/a/b/c/d/foo"]), "\(start)")
        let double = try await build("COPY --from=base --parents /test/a/./b/./c /out/")
        XCTAssertTrue(double.isSuperset(of: ["out/b/c/d/e", "out/b/c/d/foo"]), "\(double)")
        let wildcard = try await build("COPY --from=base --parents /test/a/./*/c /out/")
        XCTAssertTrue(wildcard.isSuperset(of: ["out/b/c/d/e", "out/b2/c/d/e/bar"]), "\(wildcard)")
        let doubleWildcard = try await build("COPY --from=base --parents /test/a/b*/./c/**/e /out/")
        XCTAssertTrue(doubleWildcard.isSuperset(of: ["out/c/d/e", "out/c/d/e/bay", "out/c/d/e/bar"]), "\(doubleWildcard)")
        let doubleInputs = try await build("COPY --from=base --parents /test/a/b/c*/./d/**/baz /test/a/b*/./c/**/bar /out/")
        XCTAssertTrue(doubleInputs.isSuperset(of: ["out/d/e/baz", "out/d/e2/baz", "out/c/d/e/bar"]), "\(doubleInputs)")
        XCTAssertFalse(doubleInputs.contains("out/d/e/bay"), "\(doubleInputs)")
    }

    func testCopyParentsMissingDirectory() async throws {
        let fixture = try BuildFixture(files: ["test/a/b/c/d/foo": "", "test/a/b/c/d/e/bay": ""])
        let prefix = "FROM scratch AS base\nCOPY test /test\nFROM scratch\n"
        let normal = try paths(try await fixture.build(prefix + "COPY --from=base --parents /test/a/b/c/d /out/\n"))
        XCTAssertTrue(normal.isSuperset(of: ["out/test/a/b/c/d/e", "out/test/a/b/c/d/e/bay"]), "\(normal)")
        XCTAssertFalse(normal.contains("out/e") || normal.contains("out/a"), "\(normal)")
        let pivot = try paths(try await fixture.build(prefix + "COPY --from=base --parents /test/a/b/./c/d /out/\n"))
        XCTAssertTrue(pivot.isSuperset(of: ["out/c/d/e", "out/c/d/foo"]), "\(pivot)")
        XCTAssertFalse(pivot.contains("out/a") || pivot.contains("out/e"), "\(pivot)")
        let missing = await fixture.failure(prefix + "COPY --from=base --parents /test/nonexistent-file /out/\n")
        XCTAssertEqual(missing?.line, 4)
        XCTAssertTrue(missing?.description.contains("/test/nonexistent-file") == true && missing?.description.contains("not found") == true,
                      "\(String(describing: missing))")
        let noMatch = try paths(try await fixture.build(prefix + "COPY --from=base --parents /test/a/b2*/c /out/\n"))
        XCTAssertEqual(noMatch, ["out"])
        let afterPivot = try paths(try await fixture.build(prefix + "COPY --from=base --parents /test/a/b/./c2* /out/\n"))
        XCTAssertEqual(afterPivot, ["out"])
    }
}
