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

        // A context named like a stage replaces that stage, here one based on another stage
        // (moby/buildkit#5578): its FROM and its RUN are never run; `RUN [ -f … ]` checks become
        // assertions on the result.
        let pushed = try registry(files: ["etc/alpine-release": "3.20.0\n"], env: ["PATH=/foobar:/usr/bin:/bin", "FOOBAR=foobar"])
        let replaced = try await fixture.build("""
            FROM busybox AS parent
            FROM parent AS base
            RUN echo base > /out
            FROM base
            """) {
            $0.namedContexts = ["base": .dockerImage("registry.example.com/buildkit/testnamedimagecontext:latest")]
            $0.baseResolver = pushed
        }
        XCTAssertEqual(try replaced.text("etc/alpine-release"), "3.20.0\n", "[ -f /etc/alpine-release ]")
        XCTAssertNil(try replaced.text("out"), "[ ! -f /out ]")
        XCTAssertEqual(pushed.resolved.withLock { $0 }, ["registry.example.com/buildkit/testnamedimagecontext:latest linux/amd64"],
                       "busybox (the replaced stage's base) is never resolved")
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

    /// BuildKit's test asserts that the derived image's `created` is its own build's time, not
    /// its base's (a named context's `created` is dropped, convert.go). BuildKit without an epoch
    /// takes the wall clock; slipway always writes the source date epoch (0 by default, for
    /// reproducible images), so each build here is given its time as `SOURCE_DATE_EPOCH=$(date +%s)`
    /// would — with which BuildKit writes the same `created` — the base's build a minute earlier.
    /// `RUN echo foo >> /test` becomes a heredoc COPY of the same file.
    func testNamedImageContextTimestamps() async throws {
        let now = Int64(Date().timeIntervalSince1970)
        let baseFixture = try BuildFixture()
        let base = try await baseFixture.build("FROM scratch\nCOPY <<EOF /test\nfoo\nEOF\n") { $0.sourceDateEpoch = now - 60 }
        let registry = ScriptedResolver(remote: base.store, base: ResolvedBase(
            name: "registry.example.com/buildkit/testnamedimagecontexttimestamps:latest", manifestDigest: base.result.images[0].manifest.digest,
            manifest: try base.manifest(), config: try base.config()))
        let fixture = try BuildFixture()
        let dockerfile = "FROM alpine\nCOPY <<EOF /test\nfoo\nfoo\nEOF\n"
        let derived = try await fixture.build(dockerfile) {
            $0.namedContexts = ["alpine": .dockerImage("registry.example.com/buildkit/testnamedimagecontexttimestamps:latest")]
            $0.baseResolver = registry
            $0.sourceDateEpoch = now
        }
        let baseCreated = try XCTUnwrap(Self.date(try base.config().created))
        let derivedCreated = try XCTUnwrap(Self.date(try derived.config().created))
        XCTAssertNotEqual(baseCreated, derivedCreated)
        let difference = derivedCreated.timeIntervalSince(baseCreated)
        XCTAssertGreaterThan(difference, 0)
        XCTAssertLessThan(difference, 10 * 60)
        XCTAssertEqual(try derived.text("test"), "foo\nfoo\n")

        // Without an epoch slipway's `created` is epoch 0 — still not the base's.
        let unstamped = try await fixture.build(dockerfile) {
            $0.namedContexts = ["alpine": .dockerImage("registry.example.com/buildkit/testnamedimagecontexttimestamps:latest")]
            $0.baseResolver = registry
        }
        XCTAssertEqual(try unstamped.config().created, "1970-01-01T00:00:00Z")
    }

    private static func date(_ text: String?) -> Date? {
        text.flatMap { ISO8601DateFormatter().date(from: $0) }
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
