import Builder
import Foundation
import Layers
import OCI
import TestSupport
import XCTest

/// Ports of moby/buildkit `dockerfile_namedcontext_test.go`'s `docker-image://` tests. The
/// registry is a `ScriptedResolver` serving one image for any reference, and recording which
/// references and platforms were asked for; `RUN` steps that only read the image become
/// `COPY --from` of the file they read, or assertions on the config.
final class NamedImageContextConformanceTests: XCTestCase {
    private var remoteDirectory: TemporaryDirectory?

    /// A registry image with `files` in one layer and `env` in its config.
    private func registry(files: [String: String], env: [String] = []) throws -> ScriptedResolver {
        let directory = try TemporaryDirectory()
        remoteDirectory = directory
        let remote = try ContentStore(root: URL(fileURLWithPath: directory.path + "/remote"))
        let entries = files.sorted { $0.key < $1.key }.map {
            LayerEntry(path: $0.key, kind: .regularFile(.bytes(Array($0.value.utf8))), mode: 0o644)
        }
        let layer = try LayerWriter.write([LayerEntry(path: "etc", kind: .directory, mode: 0o755)] + entries,
                                          options: LayerOptions(jobs: 1), into: remote)
        var config = ImageConfig(platform: try Platform(parsing: "linux/amd64"))
        config.rootfs.diffIDs = [layer.diffID]
        config.config = ContainerConfig()
        config.config?.env = env
        let configDescriptor = try remote.putJSON(config, mediaType: MediaType.imageConfig)
        let manifest = Manifest(config: configDescriptor, layers: [Descriptor(mediaType: layer.mediaType, digest: layer.digest, size: layer.size)])
        let manifestDigest = try remote.putJSON(manifest, mediaType: MediaType.imageManifest).digest
        return ScriptedResolver(remote: remote, base: ResolvedBase(name: "docker.io/library/alpine:latest", manifestDigest: manifestDigest,
                                                                  manifest: manifest, config: config))
    }

    func testNamedImageContext() async throws {
        let alpine = try registry(files: ["etc/alpine-release": "3.20.0\n"])
        let fixture = try BuildFixture()
        let image = try await fixture.build("""
            FROM busybox AS base
            FROM scratch
            COPY --from=base /etc/alpine-release /out
            """) {
            $0.namedContexts = ["busybox": .dockerImage("alpine")]
            $0.baseResolver = alpine
        }
        XCTAssertGreaterThan(try image.text("out")?.count ?? 0, 0)
        XCTAssertEqual(alpine.resolved.withLock { $0 }, ["alpine linux/amd64"], "the context's reference is resolved, not the stage's name")

        // An image with its own environment: the stage based on the context inherits it.
        let custom = try registry(files: ["etc/alpine-release": "3.20.0\n"], env: ["PATH=/foobar:/usr/bin:/bin", "FOOBAR=foobar"])
        let derived = try await fixture.build("""
            FROM busybox AS base
            FROM base
            """) {
            $0.namedContexts = ["busybox": .dockerImage("registry.example.com/buildkit/testnamedimagecontext:latest")]
            $0.baseResolver = custom
        }
        let env = try derived.container().env ?? []
        XCTAssertTrue(env.contains("FOOBAR=foobar"), "\(env)")
        XCTAssertTrue(env.contains { $0.hasPrefix("PATH=") && $0.contains("/foobar:") }, "\(env)")
        XCTAssertEqual(try derived.text("etc/alpine-release"), "3.20.0\n")
    }

    func testNamedImageContextPlatform() async throws {
        let base = try registry(files: ["etc/alpine-release": "3.20.0\n"])
        let fixture = try BuildFixture()
        _ = try await fixture.build("FROM --platform=$BUILDPLATFORM busybox AS target\nLABEL hello=world\n", platforms: ["darwin/ppc64le"]) {
            $0.namedContexts = ["busybox": .dockerImage("registry.example.com/buildkit/testnamedimagecontextplatform:latest")]
            $0.baseResolver = base
        }
        let resolved = base.resolved.withLock { $0 }
        XCTAssertEqual(resolved.count, 1)
        XCTAssertTrue(resolved.first?.hasPrefix("registry.example.com/buildkit/testnamedimagecontextplatform:latest linux/") == true,
                      "the image is resolved for the Dockerfile's platform, not the target: \(resolved)")
    }

    func testNamedImageContextScratch() async throws {
        let fixture = try BuildFixture()
        let image = try await fixture.build("FROM busybox AS build\nCOPY <<EOF /out\nhello world!\nEOF\n") {
            $0.namedContexts = ["busybox": .dockerImage("scratch")]
        }
        XCTAssertEqual(try image.files().keys.sorted(), ["out"])
        XCTAssertEqual(try image.text("out"), "hello world!\n")
    }
}
