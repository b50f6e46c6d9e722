import Builder
import Foundation
import Layers
import OCI
import TestSupport
import XCTest

/// A `--build-context` named like a stage replaces the stage, as in BuildKit (convert.go: a
/// stage whose name has a named context is that context): wherever the stage is used — FROM,
/// `COPY --from` by name or by number, `--target`, the last stage — the context is, and the
/// stage's own instructions (even RUN) never run.
final class ReplacedStageTests: XCTestCase {
    private let dockerfile = """
        FROM scratch AS app
        RUN make
        COPY local.txt /local.txt
        FROM scratch
        COPY --from=0 /release.txt /by-number.txt
        COPY --from=app /release.txt /by-name.txt
        """

    func testEveryReferenceToAReplacedStageGetsTheContext() async throws {
        let (layoutFixture, layout) = try await BuildFixture.layout("FROM scratch\nCOPY release.txt /release.txt\n", files: ["release.txt": "from the context"])
        defer { _ = layoutFixture }
        let fixture = try BuildFixture(files: ["local.txt": "local"])
        let image = try await fixture.build(dockerfile) { $0.namedContexts = ["app": .ociLayout(path: layout, reference: nil)] }
        XCTAssertEqual(try image.text("by-number.txt"), "from the context")
        XCTAssertEqual(try image.text("by-name.txt"), "from the context")

        let target = try await fixture.build(dockerfile) {
            $0.namedContexts = ["app": .ociLayout(path: layout, reference: nil)]
            $0.target = "app"
        }
        XCTAssertEqual(try target.files().keys.sorted(), ["release.txt"], "--target of a replaced stage is the context's image, not the stage")
    }

    func testWithoutTheContextTheStageIsBuiltAndItsRunRuns() async throws {
        let fixture = try BuildFixture(files: ["local.txt": "local"])
        let error = await fixture.failure(dockerfile)
        XCTAssertEqual(error?.description, "Dockerfile:2: cannot execute \"/bin/sh\": the stage has no such file",
                       "the stage's RUN runs (scratch has no shell)")
    }

    func testADirectoryContextCannotReplaceTheTargetStage() async throws {
        let fixture = try BuildFixture(files: ["local.txt": "local"])
        let directory = try fixture.directory.makeSubdirectory("dir")
        let error = await fixture.failure("FROM scratch AS app\nCOPY local.txt /\n") { $0.namedContexts = ["app": .directory(directory)] }
        XCTAssertEqual(error?.description.hasPrefix("Dockerfile:1: FROM app: the build context 'app' is a directory, not an image"), true, error?.description ?? "built")
    }

    /// BuildKit loads the context for the stage it replaces, with that stage's `--platform`:
    /// `COPY --from` gets the files of that platform, and `FROM` that stage takes it.
    func testAReplacedStageKeepsItsPlatform() async throws {
        let remoteDirectory = try TemporaryDirectory()
        let remote = try ContentStore(root: URL(fileURLWithPath: remoteDirectory.path + "/remote"))
        let layer = try LayerWriter.write([LayerEntry(path: "tool", kind: .regularFile(.bytes(Array("arm tool".utf8))), mode: 0o755)],
                                          options: LayerOptions(jobs: 1), into: remote)
        var config = ImageConfig(platform: try Platform(parsing: "linux/arm64"))
        config.rootfs.diffIDs = [layer.diffID]
        let configDescriptor = try remote.putJSON(config, mediaType: MediaType.imageConfig)
        let manifest = Manifest(config: configDescriptor, layers: [Descriptor(mediaType: layer.mediaType, digest: layer.digest, size: layer.size)])
        let manifestDigest = try remote.putJSON(manifest, mediaType: MediaType.imageManifest).digest
        func resolver() -> ScriptedResolver {
            ScriptedResolver(remote: remote, base: ResolvedBase(name: "registry.example.com/tools:1", manifestDigest: manifestDigest, manifest: manifest, config: config))
        }
        let fixture = try BuildFixture()
        let copying = resolver()
        let copied = try await fixture.build("FROM --platform=linux/arm64 scratch AS tools\nFROM scratch\nCOPY --from=tools /tool /tool\n") {
            $0.namedContexts = ["tools": .dockerImage("registry.example.com/tools:1")]
            $0.baseResolver = copying
        }
        XCTAssertEqual(try copied.text("tool"), "arm tool")
        XCTAssertEqual(copying.resolved.withLock { $0 }, ["registry.example.com/tools:1 linux/arm64"], "resolved for the replaced stage's platform, not the build's amd64")

        let based = resolver()
        let derived = try await fixture.build("FROM --platform=linux/arm64 scratch AS tools\nFROM tools\nLABEL on=tools\n") {
            $0.namedContexts = ["tools": .dockerImage("registry.example.com/tools:1")]
            $0.baseResolver = based
        }
        XCTAssertEqual(based.resolved.withLock { $0 }, ["registry.example.com/tools:1 linux/arm64"])
        XCTAssertEqual(try derived.config().architecture, "arm64", "a stage on the replaced stage takes its platform")
    }
}
