import Builder
import Foundation
import Layers
import TestSupport
import XCTest

/// Ports of moby/buildkit `frontend/dockerfile/dockerfile_args_test.go`. BuildKit's
/// `RUN echo -n "$A" > /out` becomes a heredoc COPY, which expands with the same variables
/// (and ends with a newline); base images become `scratch` spelled through the same ARGs.
final class ArgsConformanceTests: XCTestCase {
    func testGlobalArg() async throws {
        let fixture = try BuildFixture(files: ["x": "x"])
        let dockerfile = "ARG tag=nosuchtag\nFROM scr${tag}\nCOPY x /x\n"
        let error = await fixture.failure(dockerfile)
        XCTAssertEqual(error?.line, 2, "FROM scrnosuchtag is no image this build can use")
        let image = try await fixture.build(dockerfile) { $0.buildArgs = ["tag": "atch"] }
        XCTAssertEqual(try image.text("x"), "x")
    }

    func testGlobalArgErrors() async throws {
        let fixture = try BuildFixture()
        let dockerfile = "ARG FOO=${FOO:?\"custom error\"}\nFROM scratch\n"
        let error = await fixture.failure(dockerfile)
        XCTAssertTrue(error?.description.contains("FOO: custom error") == true, "\(String(describing: error))")
        _ = try await fixture.build(dockerfile) { $0.buildArgs = ["FOO": "bar"] }
    }

    func testArgDefaultExpansion() async throws {
        let fixture = try BuildFixture()
        let dockerfile = "FROM scratch\nARG FOO\nARG BAR=${FOO:?\"foo missing\"}\n"
        let error = await fixture.failure(dockerfile)
        XCTAssertTrue(error?.description.contains("FOO: foo missing") == true, "\(String(describing: error))")
        XCTAssertEqual(error?.line, 3)
        _ = try await fixture.build(dockerfile) { $0.buildArgs = ["FOO": "123"] }
        _ = try await fixture.build(dockerfile) { $0.buildArgs = ["BAR": "123"] }
    }

    func testMultiArgs() async throws {
        let image = try await BuildFixture().build("""
            ARG a1="foo bar" a2=atch
            ARG a3="$a2-foo"
            FROM scr$a2 AS build
            ARG a3 a4="123 456" a1
            COPY <<EOF /out
            $a1:$a3:$a4
            EOF
            FROM scratch
            COPY --from=build /out .
            """)
        XCTAssertEqual(try image.text("out"), "foo bar:atch-foo:123 456\n")
    }

    func testQuotedMetaArgs() async throws {
        let image = try await BuildFixture().build("""
            ARG a1="atch"
            ARG a2="$a1-foo"
            FROM scr$a1 AS build
            ARG a2
            ARG a3="bar-$a2"
            COPY <<EOF /out
            $a3
            EOF
            FROM scratch
            COPY --from=build /out .
            """)
        XCTAssertEqual(try image.text("out"), "bar-atch-foo\n")
    }

    func testTargetStageNameArg() async throws {
        let fixture = try BuildFixture()
        var dockerfile = """
            FROM scratch AS base
            WORKDIR /out
            COPY <<EOF /out/first
            value:$TARGETSTAGE
            EOF
            ARG TARGETSTAGE
            COPY <<EOF /out/second
            value:$TARGETSTAGE
            EOF
            FROM scratch AS foo
            COPY --from=base /out/ /
            FROM scratch
            COPY --from=base /out/ /

            """
        let foo = try await fixture.build(dockerfile) { $0.target = "foo" }
        XCTAssertEqual(try foo.text("first"), "value:\n", "not declared: empty")
        XCTAssertEqual(try foo.text("second"), "value:foo\n")
        let unnamed = try await fixture.build(dockerfile)
        XCTAssertEqual(try unnamed.text("second"), "value:default\n")
        dockerfile += "FROM scratch AS final\nCOPY --from=base /out/ /\n"
        let final = try await fixture.build(dockerfile)
        XCTAssertEqual(try final.text("first"), "value:\n")
        XCTAssertEqual(try final.text("second"), "value:final\n")
    }

    func testDefaultEnvWithArgs() async throws {
        let fixture = try BuildFixture()
        let dockerfile = """
            ARG image=idlescratch
            FROM ${image#idle} AS build
            ARG my_arg
            ENV my_arg "my_arg=${my_arg:-def_val}"
            ENV my_trimmed_arg "${my_arg%%e*}"
            """
        for (args, expected) in [([:], ["my_arg=my_arg=def_val", "my_trimmed_arg=my_arg=d"]),
                                 (["my_arg": ""], ["my_arg=my_arg=def_val", "my_trimmed_arg=my_arg=d"]),
                                 (["my_arg": "override"], ["my_arg=my_arg=override", "my_trimmed_arg=my_arg=ov"])] {
            let image = try await fixture.build(dockerfile) { $0.buildArgs = args }
            XCTAssertEqual(try image.container().env?.filter { !$0.hasPrefix("PATH=") }, expected, "\(args)")
        }
    }

    func testEnvEmptyFormatting() async throws {
        let image = try await BuildFixture().build("FROM scratch AS build\nENV myenv foo%sbar\n")
        XCTAssertTrue(try image.container().env?.contains("myenv=foo%sbar") == true)
    }
}
