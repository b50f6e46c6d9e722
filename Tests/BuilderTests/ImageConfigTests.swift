import Builder
import Foundation
import Layers
import OCI
import TestSupport
import XCTest

/// The image config each metadata instruction produces, built in process through
/// `Builder.build` and read back from the content store.
final class ImageConfigTests: XCTestCase {
    private let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    private func container(_ dockerfile: String, configure: (inout BuildRequest) -> Void = { _ in }) async throws -> ContainerConfig {
        try await BuildFixture().build(dockerfile, configure: configure).container()
    }

    func testScratchHasTheDefaultPathAndNoLayer() async throws {
        let image = try await BuildFixture().build("FROM scratch\n")
        let config = try image.config()
        XCTAssertEqual(config.config?.env, [defaultPath])
        XCTAssertEqual([config.os, config.architecture], ["linux", "amd64"])
        XCTAssertEqual(config.rootfs.diffIDs, [])
        XCTAssertEqual(try image.manifest().layers, [])
        XCTAssertEqual(image.result.root.digest, image.result.images[0].manifest.digest, "one platform: the root is its manifest")
        XCTAssertEqual(image.result.root.mediaType, MediaType.imageManifest)
    }

    func testEnvKeepsOrderAndExpandsEarlierValues() async throws {
        let config = try await container("""
            FROM scratch
            ENV A=1 B="two words"
            ENV A=${A}-x
            ENV C=$B
            """)
        XCTAssertEqual(config.env, [defaultPath, "A=1-x", "B=two words", "C=two words"], "a redefinition keeps its place")
    }

    func testArgDefaultsBuildArgsAndScope() async throws {
        let dockerfile = """
            ARG VERSION=1.0
            FROM scratch
            LABEL before=[$VERSION]
            ARG VERSION
            ARG NAME=app-$VERSION
            ARG UNSET
            LABEL version=$VERSION name=$NAME unset=[$UNSET]
            """
        let defaults = try await container(dockerfile)
        XCTAssertEqual(defaults.labels, ["before": "[]", "version": "1.0", "name": "app-1.0", "unset": "[]"],
                       "a global ARG is visible in a stage only after the stage declares it")
        let overridden = try await container(dockerfile) { $0.buildArgs = ["VERSION": "2.0", "UNSET": "set"] }
        XCTAssertEqual(overridden.labels, ["before": "[]", "version": "2.0", "name": "app-2.0", "unset": "[set]"])
        XCTAssertNil(overridden.env?.first { $0.hasPrefix("VERSION=") }, "ARG values are not kept in the image")
    }

    func testUnconsumedBuildArgIsAWarning() async throws {
        let image = try await BuildFixture().build("FROM scratch\nARG USED\n") { $0.buildArgs = ["USED": "1", "NOPE": "2"] }
        XCTAssertEqual(image.result.warnings, ["build argument 'NOPE' was not consumed by any ARG instruction"])
    }

    func testWorkdirResolvesAgainstThePreviousOneAndCreatesItsDirectory() async throws {
        let image = try await BuildFixture().build("FROM scratch\nWORKDIR /app\nWORKDIR src\nWORKDIR /app\n")
        XCTAssertEqual(try image.container().workingDir, "/app")
        let files = try image.files()
        for path in ["app", "app/src"] {
            let entry = try XCTUnwrap(files[path], path)
            XCTAssertEqual(entry.kind, .directory, path)
            XCTAssertEqual([Int(entry.mode & 0o7777), entry.uid, entry.gid], [0o755, 0, 0], path)
        }
        XCTAssertEqual(image.result.images[0].layers.count, 2, "one layer per new directory; an existing one adds none")
        XCTAssertEqual(try image.config().history?.map { $0.emptyLayer ?? false }, [false, false, true])
    }

    func testUserExposeVolumeAndStopSignal() async throws {
        let config = try await container("""
            FROM scratch
            ENV PORT=8080
            USER app:staff
            EXPOSE $PORT 53/udp 7000-7002/tcp
            VOLUME ["/data", "/logs"]
            VOLUME /cache
            STOPSIGNAL SIGQUIT
            """)
        XCTAssertEqual(config.user, "app:staff")
        XCTAssertEqual(config.exposedPorts.map { Set($0.keys) }, ["8080/tcp", "53/udp", "7000/tcp", "7001/tcp", "7002/tcp"])
        XCTAssertEqual(config.volumes.map { Set($0.keys) }, ["/data", "/logs", "/cache"])
        XCTAssertEqual(config.stopSignal, "SIGQUIT")
    }

    func testShellFormUsesTheStageShellAndCmdSurvivesALaterEntrypoint() async throws {
        let config = try await container("""
            FROM scratch
            SHELL ["/bin/bash", "-ec"]
            CMD echo hi
            ENTRYPOINT ["/bin/app"]
            """)
        XCTAssertEqual(config.shell, ["/bin/bash", "-ec"])
        XCTAssertEqual(config.cmd, ["/bin/bash", "-ec", "echo hi"])
        XCTAssertEqual(config.entrypoint, ["/bin/app"], "a CMD of the same stage stays")
    }

    func testEntrypointClearsTheCmdOfTheBaseStage() async throws {
        let dockerfile = """
            FROM scratch AS base
            CMD ["serve"]
            FROM base AS plain
            FROM base
            ENTRYPOINT /bin/app --flag
            """
        let config = try await container(dockerfile)
        XCTAssertNil(config.cmd)
        XCTAssertEqual(config.entrypoint, ["/bin/sh", "-c", "/bin/app --flag"])
        let plain = try await container(dockerfile) { $0.target = "plain" }
        XCTAssertEqual(plain.cmd, ["serve"], "inherited as it is without an ENTRYPOINT")
    }

    func testHealthcheckFormsAndDurations() async throws {
        let exec = try await container("""
            FROM scratch
            HEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms --retries=4 CMD ["/bin/check", "--quick"]
            """)
        let health = try XCTUnwrap(exec.healthcheck)
        XCTAssertEqual(health.test, ["CMD", "/bin/check", "--quick"])
        XCTAssertEqual(health.interval, 30_000_000_000)
        XCTAssertEqual(health.timeout, 90_000_000_000)
        XCTAssertEqual(health.startPeriod, 500_000_000)
        XCTAssertEqual(health.retries, 4)
        let shell = try await container("FROM scratch\nHEALTHCHECK CMD curl -f http://localhost/\n")
        XCTAssertEqual(shell.healthcheck?.test, ["CMD-SHELL", "curl -f http://localhost/"])
        let none = try await container("FROM scratch\nHEALTHCHECK NONE\n")
        XCTAssertEqual(none.healthcheck?.test, ["NONE"])
    }

    func testOnbuildMaintainerAndLabelsFromTheRequest() async throws {
        let image = try await BuildFixture().build("""
            FROM scratch
            MAINTAINER Jane <jane@example.com>
            ONBUILD COPY . /src
            LABEL a=1 b=2
            """) { $0.labels = ["b": "from-request", "c": "3"] }
        let config = try image.config()
        XCTAssertEqual(config.author, "Jane <jane@example.com>")
        XCTAssertEqual(config.config?.onBuild, ["COPY . /src"])
        XCTAssertEqual(config.config?.labels, ["a": "1", "b": "from-request", "c": "3"], "request labels win")
    }

    func testHistoryHasOneEntryPerInstructionAtTheSourceDateEpoch() async throws {
        let fixture = try BuildFixture(files: ["f": "f"])
        let image = try await fixture.build("FROM scratch\nENV A=1\nCOPY f /f\nCMD [\"x\"]\n") { $0.sourceDateEpoch = 1_700_000_000 }
        let config = try image.config()
        XCTAssertEqual(config.created, "2023-11-14T22:13:20Z")
        let history = try XCTUnwrap(config.history)
        XCTAssertEqual(history.map(\.createdBy), ["ENV A=1", "COPY f /f # buildkit", "CMD [\"x\"]"])
        XCTAssertEqual(history.map { $0.emptyLayer ?? false }, [true, false, true])
        XCTAssertEqual(Set(history.map(\.created)), ["2023-11-14T22:13:20Z"])
        XCTAssertEqual(config.rootfs.diffIDs.count, 1, "one layer for the one non-empty entry")
    }

    func testInvalidValuesNameTheirLine() async throws {
        let cases = [
            ("STOPSIGNAL SIGNOPE", "STOPSIGNAL: invalid signal 'SIGNOPE'"),
            ("EXPOSE 80/icmp", "EXPOSE: invalid protocol 'icmp' in '80/icmp'"),
            ("EXPOSE 70000", "EXPOSE: invalid port '70000'"),
            ("HEALTHCHECK --interval=soon CMD true", "invalid duration \"soon\" for --interval (use a duration such as 30s, 1m30s or 500ms)"),
            ("HEALTHCHECK --retries=-1 CMD true", "--retries cannot be negative (-1)"),
        ]
        let fixture = try BuildFixture()
        for (instruction, message) in cases {
            let error = await fixture.failure("FROM scratch\nENV X=1\n\(instruction)\n")
            XCTAssertEqual(error?.line, 3, instruction)
            XCTAssertTrue(error?.description.hasPrefix("Dockerfile:3: \(message)") == true, "\(instruction): \(error.map { "\($0)" } ?? "")")
        }
    }
}
