import Builder
import Foundation
import Layers
import OCI
import TestSupport
import XCTest

/// Multi-stage builds, `--target`, named contexts and images from an OCI layout, in process.
final class StageTests: XCTestCase {
    func testCopyFromAStageByNameAndByIndexKeepsItsOwners() async throws {
        let fixture = try BuildFixture(files: ["a.txt": "a", "b.txt": "b"])
        let image = try await fixture.build("""
            FROM scratch AS build
            COPY --chown=5:6 a.txt /out/a.txt
            FROM scratch AS other
            COPY b.txt /b.txt
            FROM scratch
            COPY --from=build /out/a.txt /a.txt
            COPY --from=1 /b.txt /b.txt
            """)
        XCTAssertEqual(try image.owner("a.txt"), [0o644, 5, 6], "a stage's file keeps the owner it has there")
        XCTAssertEqual(try image.text("b.txt"), "b")
        XCTAssertEqual(Set(try image.files().keys), ["a.txt", "b.txt"], "only the final stage's layers are in the image")
        XCTAssertEqual(image.result.images[0].layers.count, 2)
    }

    func testFromAStageInheritsItsFilesAndConfig() async throws {
        let fixture = try BuildFixture(files: ["a.txt": "a", "b.txt": "b"])
        let image = try await fixture.build("""
            FROM scratch AS base
            ENV A=1
            WORKDIR /srv
            COPY a.txt /srv/a.txt
            CMD ["run"]
            FROM base
            ENV B=$A-2
            COPY b.txt .
            """)
        let config = try image.container()
        XCTAssertEqual(config.env?.filter { !$0.hasPrefix("PATH=") }, ["A=1", "B=1-2"])
        XCTAssertEqual(config.workingDir, "/srv")
        XCTAssertEqual(config.cmd, ["run"])
        XCTAssertEqual(try image.text("srv/a.txt"), "a")
        XCTAssertEqual(try image.text("srv/b.txt"), "b")
        XCTAssertEqual(image.result.images[0].layers.count, 3, "the base stage's two layers and one more")
    }

    func testTargetBuildsTheNamedStageAndRunIsIgnoredWhereNotNeeded() async throws {
        let fixture = try BuildFixture(files: ["a.txt": "a", "b.txt": "b"])
        let dockerfile = """
            FROM scratch AS first
            COPY a.txt /a.txt
            FROM scratch AS tools
            RUN make
            FROM scratch AS second
            COPY b.txt /b.txt
            """
        let last = try await fixture.build(dockerfile)
        XCTAssertEqual(Set(try last.files().keys), ["b.txt"])
        let first = try await fixture.build(dockerfile) { $0.target = "FIRST" }
        XCTAssertEqual(Set(try first.files().keys), ["a.txt"], "--target names a stage case-insensitively")
    }

    func testRunInANeededStageIsRefusedBeforeAnyWork() async throws {
        let fixture = try BuildFixture(files: ["a.txt": "a"])
        let error = await fixture.failure("""
            FROM scratch AS build
            COPY a.txt /a
            RUN make
            FROM scratch
            COPY --from=build /a /a
            """)
        XCTAssertEqual(error?.description, "Dockerfile:3: cannot execute \"/bin/sh\": the stage has no such file",
                       "RUN runs (RunTests cover it on a busybox base); scratch has no shell")
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: fixture.directory.path + "/store/blobs/sha256")) ?? []
        XCTAssertEqual(blobs, [], "nothing was written")
    }

    func testUnknownStagesTargetsAndImages() async throws {
        let fixture = try BuildFixture(files: ["x": "x"])
        let from = await fixture.failure("FROM scratch\nCOPY --from=nowhere /x /x\n")
        XCTAssertEqual(from?.description, "Dockerfile:2: COPY --from=nowhere: no stage or build context by that name, and this build has no "
                       + "registry access (pass it as --build-context nowhere=oci-layout://PATH)")
        let own = await fixture.failure("FROM scratch AS me\nCOPY --from=me /x /x\n")
        XCTAssertEqual(own?.description, "Dockerfile:2: COPY --from=me refers to its own stage")
        let target = await fixture.failure("FROM scratch AS one\nCOPY x /x\n") { $0.target = "two" }
        XCTAssertEqual(target?.description, "Dockerfile: target stage 'two' not found; the Dockerfile has stages: one")
        let image = await fixture.failure("FROM alpine:3.20\nCOPY x /x\n")
        XCTAssertEqual(image?.line, 1)
        XCTAssertTrue(image?.description.hasPrefix("Dockerfile:1: FROM alpine:3.20: this build has no registry access") == true,
                      "\(String(describing: image))")
    }

    func testMessagesUseTheDockerfilesNameAndAFileWithoutFromIsRefused() async throws {
        let fixture = try BuildFixture()
        let named = await fixture.failure("FROM scratch\nFROBNICATE x\n") { $0.dockerfileName = "build/Dockerfile.prod" }
        XCTAssertEqual(named?.file, "build/Dockerfile.prod")
        XCTAssertEqual(named?.line, 2)
        XCTAssertTrue(named?.description.hasPrefix("build/Dockerfile.prod:2: ") == true, "\(String(describing: named))")
        let empty = await fixture.failure("ARG X=1\n")
        XCTAssertEqual(empty?.description, "Dockerfile:1: the Dockerfile has no FROM instruction: add `FROM <image>` to start a build stage")
    }

    func testNamedDirectoryContextWithItsOwnDockerignore() async throws {
        let fixture = try BuildFixture()
        let other = try TemporaryDirectory(prefix: "slipway-named")
        try other.write(["shared.txt": "shared", "skip.txt": "skip", ".dockerignore": "skip.txt\n"])
        let named: (inout BuildRequest) -> Void = { $0.namedContexts = ["extra": .directory(other.path)] }
        let files = try await fixture.build("FROM scratch\nCOPY --from=extra . /x/\n", configure: named).files()
        XCTAssertNotNil(files["x/shared.txt"])
        XCTAssertNil(files["x/skip.txt"])
        let asImage = await fixture.failure("FROM extra\n", configure: named)
        XCTAssertTrue(asImage?.description.hasPrefix("Dockerfile:1: FROM extra: the build context 'extra' is a directory, not an image") == true,
                      "\(String(describing: asImage))")
    }

    func testAnImageFromAnOCILayoutKeepsItsLayersConfigAndUsers() async throws {
        let baseFixture = try BuildFixture(files: ["passwd": "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
                                                   "group": "root:x:0:\nstaff:x:50:\n"])
        let base = try await baseFixture.build("FROM scratch\nCOPY passwd /etc/passwd\nCOPY group /etc/group\nENV BASE=yes\nCMD [\"base\"]\n")
        let layout = baseFixture.directory.path + "/layout"
        try Exporter.export(base.result, to: .oci(destination: layout, tar: false), tags: [], sourceDateEpoch: 0)

        let fixture = try BuildFixture(files: ["a.txt": "a"])
        let image = try await fixture.build("""
            FROM base
            COPY --chown=app:staff a.txt /a
            COPY --from=base /etc/group /copied-group
            ENTRYPOINT ["/a"]
            """) { $0.namedContexts = ["base": .ociLayout(path: layout, reference: nil)] }
        let baseLayers = base.result.images[0].layers.map(\.digest)
        XCTAssertEqual(Array(image.result.images[0].layers.map(\.digest).prefix(2)), baseLayers, "the base's layers are reused as they are")
        XCTAssertEqual(image.result.images[0].layers.count, 4)
        let config = try image.container()
        XCTAssertTrue(config.env?.contains("BASE=yes") == true, "\(config.env ?? [])")
        XCTAssertNil(config.cmd, "a new ENTRYPOINT clears the inherited CMD")
        XCTAssertEqual(try image.owner("a"), [0o644, 1000, 50], "--chown by the base's own /etc/passwd and /etc/group")
        XCTAssertEqual(try image.text("copied-group"), "root:x:0:\nstaff:x:50:\n")
        let annotations = try image.manifest().annotations
        XCTAssertEqual(annotations?["org.opencontainers.image.base.name"], "base")
        XCTAssertEqual(annotations?["org.opencontainers.image.base.digest"], base.result.images[0].manifest.digest.description)
    }
}
