import Builder
import Foundation
import Layers
import TestSupport
import XCTest

/// Ports of moby/buildkit `frontend/dockerfile/dockerfile_onbuild_test.go`. BuildKit's
/// triggers are `RUN`s writing a file; here they are COPYs writing the same file. A base
/// "pushed" by BuildKit's test comes to the child as an OCI layout (`--build-context`).
final class OnBuildConformanceTests: XCTestCase {
    func testOnBuildCleared() async throws {
        let (baseFixture, base) = try await BuildFixture.layout("FROM scratch\nONBUILD COPY foo /out/foo\n", files: ["foo": "11"])
        defer { withExtendedLifetime(baseFixture) {} }
        // The child built FROM base ran the trigger once, and its own config has none left.
        let childImage = try await BuildFixture(files: ["foo": "11"]).build("FROM base\n") {
            $0.namedContexts = ["base": .ociLayout(path: base, reference: nil)]
        }
        XCTAssertNil(try childImage.container().onBuild)
        XCTAssertEqual(try childImage.text("out/foo"), "11")
        let fixture = try BuildFixture(files: ["foo": "changed"])
        let grandchild = try await fixture.build("FROM base AS base2\nFROM scratch\nCOPY --from=base2 /out /\n") {
            $0.namedContexts = ["base": .ociLayout(path: base, reference: nil)]
        }
        XCTAssertEqual(try grandchild.text("foo"), "changed", "the trigger ran in this build, with this context")
    }

    func testOnBuildWithChildStage() async throws {
        let (baseFixture, base) = try await BuildFixture.layout("FROM scratch\nONBUILD COPY didrun /out/didrun\n", files: ["didrun": "no"])
        defer { withExtendedLifetime(baseFixture) {} }
        let fixture = try BuildFixture(files: ["didrun": "yes", "step": ""])
        let image = try await fixture.build("""
            FROM registry/onbuildstage AS base
            COPY step /step1
            FROM base AS child
            COPY step /step3
            FROM scratch
            COPY --from=child /step* /
            COPY --from=child /out /out
            """) { $0.namedContexts = ["registry/onbuildstage": .ociLayout(path: base, reference: nil)] }
        let files = try image.files()
        XCTAssertNotNil(files["step1"], "the base stage ran the image's trigger and its own COPY")
        XCTAssertNotNil(files["step3"])
        XCTAssertEqual(try image.text("out/didrun"), "yes", "the trigger ran once, in the stage FROM the image")
    }

    func testOnBuildNamedContext() async throws {
        let (baseFixture, base) = try await BuildFixture.layout("FROM scratch AS otherstage\nFROM scratch\nONBUILD COPY --from=otherstage /testfile /out/foo\n")
        defer { withExtendedLifetime(baseFixture) {} }
        let fixture = try BuildFixture(files: ["testfile": "hello"])
        let image = try await fixture.build("""
            FROM scratch AS otherstage
            COPY testfile /testfile
            FROM base AS inputstage
            FROM scratch
            COPY --from=inputstage /out/foo /bar
            """) { $0.namedContexts = ["base": .ociLayout(path: base, reference: nil)] }
        XCTAssertEqual(try image.text("bar"), "hello")
    }

    func testOnBuildInheritedStageRun() async throws {
        let (busybox, layout) = try await BusyboxBase.layout()
        _ = busybox
        let fixture = try BuildFixture()
        let image = try await fixture.build("""
            FROM busybox AS base
            ONBUILD RUN mkdir -p /out && echo -n 11 >> /out/foo
            FROM base AS mid
            RUN cp /out/foo /out/bar
            FROM scratch
            COPY --from=mid /out/bar /
            """) { $0.namedContexts = ["busybox": .ociLayout(path: layout, reference: nil)] }
        XCTAssertEqual(try image.text("bar"), "11", "the ONBUILD RUN ran in the child stage")
    }

    func testOnBuildInheritedStageWithFrom() async throws {
        let fixture = try BuildFixture(files: ["in/file": "12"])
        let image = try await fixture.build("""
            FROM scratch AS src
            COPY in/file /in/file
            FROM scratch AS base
            ONBUILD COPY --from=src /in/file /out/foo
            FROM base AS mid
            FROM scratch
            COPY --from=mid /out/foo /bar
            """)
        XCTAssertEqual(try image.text("bar"), "12")
    }

    func testOnBuildNewDeps() async throws {
        // BuildKit's first half: a trigger of a pushed image copies from another image, which
        // the child build must then resolve. (The second half needs RUN --mount.)
        let (alpineFixture, alpine) = try await BuildFixture.layout("FROM scratch\nCOPY release /etc/alpine-release\n", files: ["release": "3.19.1"])
        defer { withExtendedLifetime(alpineFixture) {} }
        let (baseFixture, base) = try await BuildFixture.layout("FROM scratch\nONBUILD COPY --from=alpine /etc/alpine-release /out/alpine-release2\n")
        defer { withExtendedLifetime(baseFixture) {} }
        let image = try await BuildFixture().build("FROM testonbuilddeps AS base\nFROM scratch\nCOPY --from=base /out /\n") {
            $0.namedContexts = ["testonbuilddeps": .ociLayout(path: base, reference: nil), "alpine": .ociLayout(path: alpine, reference: nil)]
        }
        XCTAssertEqual(try image.text("alpine-release2"), "3.19.1")
    }
}
