import Builder
import Foundation
import Layers
import OCI
import TestSupport
import XCTest

/// Ports of moby/buildkit `dockerfile_multistage_test.go`, `dockerfile_image_test.go`,
/// `dockerfile_namedcontext_test.go` and `dockerfile_source_date_epoch_test.go`. Registry
/// images BuildKit's tests pull or push come here as OCI layouts (`--build-context`).
final class StagesConformanceTests: XCTestCase {
    // MARK: dockerfile_multistage_test.go

    func testMultiStageImplicitFrom() async throws {
        let (busyboxFixture, busybox) = try await BuildFixture.layout("FROM scratch\nCOPY passwd /etc/passwd\n", files: ["passwd": "root:x:0:0:root:/root:/bin/sh\n"])
        defer { withExtendedLifetime(busyboxFixture) {} }
        let fixture = try BuildFixture(files: ["go": "foo"])
        let image = try await fixture.build("FROM scratch\nCOPY --from=busybox /etc/passwd test\n") {
            $0.namedContexts = ["busybox": .ociLayout(path: busybox, reference: nil)]
        }
        XCTAssertTrue(try image.text("test")?.contains("root") == true)
        let golang = try await fixture.build("FROM scratch AS golang\nCOPY go /usr/bin/go\nFROM scratch\nCOPY --from=golang /usr/bin/go go\n")
        XCTAssertEqual(try golang.text("go"), "foo")
    }

    func testMultiStageCaseInsensitive() async throws {
        let fixture = try BuildFixture(files: ["foo": "foo-contents"])
        let image = try await fixture.build("""
            FROM scratch AS STAge0
            COPY foo bar
            FROM scratch AS staGE1
            COPY --from=staGE0 bar baz
            FROM scratch
            COPY --from=stage1 baz bax
            """) { $0.target = "Stage1" }
        XCTAssertEqual(try image.text("baz"), "foo-contents")
    }

    func testOutOfOrderStage() async throws {
        let fixture = try BuildFixture(files: ["Dockerfile": "d"])
        for source in ["/", "/d2"] {
            let error = await fixture.failure("FROM scratch AS target\nCOPY --from=build \(source) /out\nFROM scratch AS build\nCOPY /Dockerfile /d2\nFROM target\n")
            XCTAssertEqual(error?.line, 2)
            XCTAssertTrue(error?.description.contains("cannot copy from stage") == true
                && error?.description.contains("needs to be defined before current stage") == true, "\(String(describing: error))")
        }
    }

    func testEmptyStages() async throws {
        let fixture = try BuildFixture()
        let error = await fixture.failure("ARG foo=bar")
        XCTAssertTrue(error?.description.contains("no FROM instruction") == true, "\(String(describing: error))")
    }

    // MARK: dockerfile_image_test.go

    func testPullScratch() async throws {
        let (baseFixture, base) = try await BuildFixture.layout("FROM scratch\nLABEL foo=bar\n")
        defer { withExtendedLifetime(baseFixture) {} }
        let fixture = try BuildFixture(files: ["foo": "foo-contents"])
        let image = try await fixture.build("FROM testpullscratch\nLABEL bar=baz\nCOPY foo .\n") {
            $0.namedContexts = ["testpullscratch": .ociLayout(path: base, reference: nil)]
        }
        let config = try image.config()
        XCTAssertEqual(config.rootfs.type, "layers")
        XCTAssertEqual(config.rootfs.diffIDs.count, 1)
        XCTAssertEqual(config.config?.labels, ["foo": "bar", "bar": "baz"])
        XCTAssertEqual(try image.text("foo"), "foo-contents")
    }

    func testDockerfileScratchConfig() async throws {
        let image = try await BuildFixture().build("FROM scratch\nENV foo=bar\n")
        let config = try image.config()
        XCTAssertFalse(config.os.isEmpty)
        XCTAssertFalse(config.architecture.isEmpty)
        XCTAssertEqual(config.config?.workingDir, "/", "BuildKit's empty image has WorkingDir /")
        XCTAssertEqual(config.rootfs.type, "layers")
        XCTAssertEqual(config.rootfs.diffIDs.count, 0)
        XCTAssertEqual(config.history?.count, 1)
        XCTAssertTrue(config.history?.first?.createdBy?.contains("ENV foo=bar") == true)
        XCTAssertEqual(config.history?.first?.emptyLayer, true)
        XCTAssertTrue(config.config?.env?.contains("foo=bar") == true)
        XCTAssertTrue(config.config?.env?.contains { $0.hasPrefix("PATH=") } == true)
    }

    func testMultiNilRefsOCIExporter() async throws {
        let fixture = try BuildFixture()
        let image = try await fixture.build("FROM scratch", platforms: ["linux/arm64", "linux/amd64"])
        let dest = fixture.directory.path + "/oci"
        try Exporter.export(image.result, to: .oci(destination: dest, tar: false), tags: [], sourceDateEpoch: 0)
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: URL(fileURLWithPath: dest + "/index.json")))
        XCTAssertEqual(index.manifests.count, 1)
        let list = try JSONDecoder().decode(Index.self, from: Data(contentsOf: URL(fileURLWithPath: dest + "/blobs/sha256/" + (index.manifests.first?.digest.hex ?? ""))))
        XCTAssertEqual(list.manifests.count, 2)
    }

    func testOCILayoutMultiname() async throws {
        let fixture = try BuildFixture()
        let image = try await fixture.build("FROM scratch\nCOPY <<EOF /foo\nhello\nEOF\n")
        let tags = ["org/repo:tag1", "org/repo:tag2"]
        let dest = fixture.directory.path + "/out"
        try Exporter.export(image.result, to: .oci(destination: dest, tar: false), tags: tags, sourceDateEpoch: 0)
        let tarPath = fixture.directory.path + "/out.tar"
        try Exporter.export(image.result, to: .oci(destination: tarPath, tar: true), tags: tags, sourceDateEpoch: 0)
        let fromTar = try Run.tool("tar", ["-xOf", tarPath, "index.json"])
        for data in [try Data(contentsOf: URL(fileURLWithPath: dest + "/index.json")), Data(fromTar.utf8)] {
            let manifests = try JSONDecoder().decode(Index.self, from: data).manifests
            XCTAssertEqual(manifests.count, 2)
            guard manifests.count == 2 else { continue }
            XCTAssertEqual(manifests[0].digest, manifests[1].digest)
            XCTAssertEqual(manifests[0].platform, manifests[1].platform)
            XCTAssertEqual(manifests[0].mediaType, manifests[1].mediaType)
            XCTAssertEqual(manifests[0].size, manifests[1].size)
            XCTAssertEqual(manifests.map { $0.annotations?["io.containerd.image.name"] }, ["docker.io/org/repo:tag1", "docker.io/org/repo:tag2"])
            XCTAssertEqual(manifests.map { $0.annotations?["org.opencontainers.image.ref.name"] }, ["tag1", "tag2"])
        }
    }

    // MARK: dockerfile_namedcontext_test.go

    func testNamedLocalContext() async throws {
        let fixture = try BuildFixture(files: ["basedir/out": "alpine-release", "basedir/x": "x"])
        let image = try await fixture.build("FROM scratch AS base\nRUN cat /etc/alpine-release > /out\nFROM scratch\nCOPY --from=base /o* /\n") {
            $0.namedContexts = ["base": .directory(fixture.context + "/basedir")]
        }
        XCTAssertEqual(try image.text("out"), "alpine-release", "the context replaces the stage, whose RUN never runs")
        XCTAssertNil(try image.files()["x"])
    }

    func testNamedOCILayoutContext() async throws {
        let (baseFixture, base) = try await BuildFixture.layout("FROM scratch\nWORKDIR /test\nCOPY out /test/out\n", files: ["out": "release"])
        defer { withExtendedLifetime(baseFixture) {} }
        let (fooFixture, foo) = try await BuildFixture.layout("FROM scratch\nWORKDIR /test\nENV foo=bar\n")
        defer { withExtendedLifetime(fooFixture) {} }
        let image = try await BuildFixture().build("""
            FROM scratch AS base
            RUN cat /etc/alpine-release > out
            FROM foo AS imported
            COPY <<EOF outfoo
            $foo
            EOF
            FROM scratch
            COPY --from=base /test/o* /
            COPY --from=imported /test/outfoo /
            """) { $0.namedContexts = ["base": .ociLayout(path: base, reference: nil), "foo": .ociLayout(path: foo, reference: nil)] }
        XCTAssertEqual(try image.text("out"), "release")
        XCTAssertEqual(try image.text("outfoo"), "bar\n")
    }

    func testNamedOCILayoutContextExport() async throws {
        let (baseFixture, base) = try await BuildFixture.layout("FROM scratch\nWORKDIR /test\nENV foo=bar\n")
        defer { withExtendedLifetime(baseFixture) {} }
        let image = try await BuildFixture().build("FROM nonexistent AS base\n") {
            $0.namedContexts = ["nonexistent": .ociLayout(path: base, reference: nil)]
        }
        XCTAssertEqual(try image.container().workingDir, "/test")
        XCTAssertTrue(try image.container().env?.contains("foo=bar") == true)
    }

    func testEagerNamedContextLookup() async throws {
        let fixture = try BuildFixture(files: ["foo": "base\n"])
        let image = try await fixture.build("""
            FROM broken AS notused
            FROM scratch AS base
            COPY foo /foo
            FROM busybox AS otherstage
            FROM scratch
            COPY --from=base /foo /foo
            """) {
            $0.namedContexts = ["notused": .ociLayout(path: "/nonexistent/layout", reference: nil),
                                "busybox": .ociLayout(path: "/nonexistent/layout", reference: nil)]
        }
        XCTAssertEqual(try image.text("foo"), "base\n", "stages the target does not need are never resolved")
    }

    // MARK: dockerfile_source_date_epoch_test.go

    func testSourceDateEpochWithoutExporter() async throws {
        let fixture = try BuildFixture(files: ["Dockerfile": "x"])
        let image = try await fixture.build("FROM scratch\nENTRYPOINT foo bar\nCOPY Dockerfile .\n") { $0.sourceDateEpoch = 1_700_000_001 }
        let config = try image.config()
        XCTAssertEqual(config.created, "2023-11-14T22:13:21Z")
        XCTAssertEqual(config.history?.compactMap(\.created), ["2023-11-14T22:13:21Z", "2023-11-14T22:13:21Z"])
    }
}
