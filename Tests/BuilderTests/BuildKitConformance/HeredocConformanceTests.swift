import Builder
import Foundation
import Layers
import TestSupport
import XCTest

/// Ports of moby/buildkit `frontend/dockerfile/dockerfile_heredoc_test.go` (the COPY heredocs;
/// the RUN heredocs need a runtime). The `perms` file BuildKit writes with `RUN stat` becomes
/// assertions on the entries.
final class HeredocConformanceTests: XCTestCase {
    func testCopyHeredoc() async throws {
        let fixture = try BuildFixture()
        try fixture.users(busyboxPasswd, groups: busyboxGroups)
        let image = try await fixture.build("""
            FROM scratch AS build
            COPY etc/ /etc/
            WORKDIR /dest
            COPY <<EOF single
            single file
            EOF
            COPY <<EOF <<EOF2 double/
            first file
            EOF
            second file
            EOF2
            COPY --chmod=777 <<EOF /permfiles/all
            dummy content
            EOF
            COPY --chmod=0644 <<EOF /permfiles/rw
            dummy content
            EOF
            COPY --chown=user:user <<EOF /permfiles/owned
            dummy content
            EOF
            """)
        XCTAssertEqual(try image.text("dest/single"), "single file\n")
        XCTAssertEqual(try image.text("dest/double/EOF"), "first file\n")
        XCTAssertEqual(try image.text("dest/double/EOF2"), "second file\n")
        XCTAssertEqual(try image.owner("permfiles/all")[0], 0o777)
        XCTAssertEqual(try image.owner("permfiles/rw")[0], 0o644)
        XCTAssertEqual(Array(try image.owner("permfiles/owned").dropFirst()), [1000, 1000], "user:user")
    }

    func testCopyHeredocSpecialSymbols() async throws {
        let image = try await BuildFixture().build(#"""
            FROM scratch
            COPY <<EOF quotefile
            "quotes in file"
            EOF
            COPY <<EOF slashfile1
            \
            EOF
            COPY <<EOF slashfile2
            \\
            EOF
            COPY <<EOF slashfile3
            \$
            EOF
            COPY <<"EOF" rawslashfile1
            \
            EOF
            COPY <<"EOF" rawslashfile2
            \\
            EOF
            COPY <<"EOF" rawslashfile3
            \$
            EOF
            """#)
        let expected = ["quotefile": "\"quotes in file\"\n", "slashfile1": "\n", "slashfile2": "\\\n", "slashfile3": "$\n",
                        "rawslashfile1": "\\\n", "rawslashfile2": "\\\\\n", "rawslashfile3": "\\$\n"]
        for (path, text) in expected { XCTAssertEqual(try image.text(path), text, path) }
    }

    func testHeredocIndent() async throws {
        let image = try await BuildFixture().build("FROM scratch\nCOPY <<EOF /dest/foo-copy\n\tfoo\nEOF\nCOPY <<-EOF /dest/bar-copy\n\tbar\nEOF\n")
        XCTAssertEqual(try image.text("dest/foo-copy"), "\tfoo\n")
        XCTAssertEqual(try image.text("dest/bar-copy"), "bar\n")
    }

    func testHeredocVarSubstitution() async throws {
        let image = try await BuildFixture().build("""
            FROM scratch AS build
            ARG name=world
            COPY <<EOF /dest/c1
            Hello ${name}!
            EOF
            COPY <<'EOF' /dest/c2
            Hello ${name}!
            EOF
            COPY <<"EOF" /dest/c3
            Hello ${name}!
            EOF
            COPY <<EOF /dest/q1
            Hello '${name}'!
            EOF
            COPY <<EOF /dest/q2
            Hello "${name}"!
            EOF
            COPY <<'EOF' /dest/qsingle1
            Hello '${name}'!
            EOF
            COPY <<'EOF' /dest/qsingle2
            Hello "${name}"!
            EOF
            COPY <<"EOF" /dest/qdouble1
            Hello '${name}'!
            EOF
            COPY <<"EOF" /dest/qdouble2
            Hello "${name}"!
            EOF
            """)
        let expected = ["c1": "Hello world!\n", "c2": "Hello ${name}!\n", "c3": "Hello ${name}!\n", "q1": "Hello 'world'!\n",
                        "q2": "Hello \"world\"!\n", "qsingle1": "Hello '${name}'!\n", "qsingle2": "Hello \"${name}\"!\n",
                        "qdouble1": "Hello '${name}'!\n", "qdouble2": "Hello \"${name}\"!\n"]
        for (name, text) in expected { XCTAssertEqual(try image.text("dest/" + name), text, name) }
    }

    func testOnBuildHeredoc() async throws {
        let base = try BuildFixture()
        let baseImage = try await base.build("FROM scratch\nONBUILD COPY <<EOF /dest\nhello world\nEOF\n")
        let layout = base.directory.path + "/layout"
        try Exporter.export(baseImage.result, to: .oci(destination: layout, tar: false), tags: [], sourceDateEpoch: 0)
        let image = try await BuildFixture().build("FROM base\n") { $0.namedContexts = ["base": .ociLayout(path: layout, reference: nil)] }
        XCTAssertEqual(try image.text("dest"), "hello world\n")
    }
}
