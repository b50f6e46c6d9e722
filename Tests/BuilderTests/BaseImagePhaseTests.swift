import Foundation
import TestSupport
import HTTP
import Layers
import OCI
import XCTest
@testable import Builder

/// The async phase of a build: bases resolved before planning, layers fetched only for the
/// images whose files planning reads, and resolution failures reported where planning uses
/// the image.
final class BaseImagePhaseTests: XCTestCase {
    var work = ""
    var remote: ContentStore!
    var resolver: ScriptedResolver!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("phase-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work + "/context", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: work + "/scratch", withIntermediateDirectories: true)
        try Data("a".utf8).write(to: URL(fileURLWithPath: work + "/context/a"))
        remote = try ContentStore(root: URL(fileURLWithPath: work + "/remote"))
        let passwd = LayerEntry(path: "etc/passwd", kind: .regularFile(.bytes(Array("root:x:0:0::/root:/bin/sh\nweb:x:33:44::/srv:/bin/sh\n".utf8))), mode: 0o644)
        let layer = try LayerWriter.write([LayerEntry(path: "etc", kind: .directory, mode: 0o755), passwd],
                                          options: LayerOptions(jobs: 1), into: remote)
        var config = ImageConfig(platform: try Platform(parsing: "linux/amd64"))
        config.rootfs.diffIDs = [layer.diffID]
        config.config?.env = ["FROM_BASE=one"]
        let configDescriptor = try remote.putJSON(config, mediaType: MediaType.imageConfig)
        let manifest = Manifest(config: configDescriptor, layers: [Descriptor(mediaType: layer.mediaType, digest: layer.digest, size: layer.size)])
        let manifestDigest = try remote.putJSON(manifest, mediaType: MediaType.imageManifest).digest
        resolver = ScriptedResolver(remote: remote, base: ResolvedBase(name: "registry.example.com/base:1", manifestDigest: manifestDigest,
                                                                      manifest: manifest, config: config))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func build(_ dockerfile: String, fetchBaseLayers: Bool = false) async throws -> BuildResult {
        var request = BuildRequest(contextDirectory: work + "/context", dockerfileText: dockerfile, platforms: [try Platform(parsing: "linux/amd64")],
                                   storeDirectory: work + "/store", scratchDirectory: work + "/scratch")
        request.baseResolver = resolver
        request.fetchBaseLayers = fetchBaseLayers
        return try await Builder.build(request)
    }

    func testAFromThatOnlyChangesTheConfigFetchesNoLayer() async throws {
        let result = try await build("FROM registry.example.com/base:1\nLABEL a=b\n")
        XCTAssertEqual(resolver.fetched.withLock { $0 }, [])
        XCTAssertEqual(result.images.first?.layers.count, 1, "the base layer is kept")
        XCTAssertEqual(result.blobSources.values.first, "registry.example.com/base:1", "and can be fetched or mounted from its registry")
        XCTAssertEqual(resolver.resolved.withLock { $0 }, ["registry.example.com/base:1 linux/amd64"])
    }

    func testLayersPlanningReadsAreFetchedOnceBeforePlanning() async throws {
        let result = try await build("""
            FROM registry.example.com/base:1 AS first
            COPY --chown=web a /a
            FROM scratch
            COPY --from=registry.example.com/base:1 /etc/passwd /passwd
            COPY --from=first /a /b
            """)
        XCTAssertEqual(resolver.fetched.withLock { $0 }, ["registry.example.com/base:1"], "one image, fetched once for both uses")
        XCTAssertEqual(result.images.first?.layers.count, 2)
    }

    func testExportsFetchEveryBaseLayerAfterwards() async throws {
        _ = try await build("FROM registry.example.com/base:1\nLABEL a=b\n", fetchBaseLayers: true)
        XCTAssertEqual(resolver.fetched.withLock { $0 }, ["registry.example.com/base:1"])
    }

    func testAVariableInCopyFromIsRefusedBeforeAnyImageIsResolved() async throws {
        do {
            _ = try await build("""
                FROM scratch AS one
                COPY a /from-one
                FROM registry.example.com/base:1
                COPY --from=$FROM_BASE /from-one /copied
                """)
            XCTFail("COPY --from=$FROM_BASE was accepted; BuildKit refuses it")
        } catch let error as BuildError {
            XCTAssertEqual(error.description, "Dockerfile:4: variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround")
        }
        XCTAssertEqual(resolver.resolved.withLock { $0 }, [], "refused before the registry is asked")
    }

    func testAResolutionFailureIsReportedWhereTheImageIsUsed() async throws {
        resolver.failing.withLock { $0 = "registry.example.com/missing:1" }
        do {
            _ = try await build("FROM scratch\nCOPY a /a\nFROM registry.example.com/missing:1\n")
            XCTFail("built from an image that does not resolve")
        } catch let error as BuildError {
            XCTAssertEqual(error.description, "Dockerfile:3: FROM registry.example.com/missing:1: no such image")
        }
    }
}

/// A registry as the builder sees it: one image, and a record of what was asked.
final class ScriptedResolver: BaseImageResolver {
    let remote: ContentStore
    let base: ResolvedBase
    let failing = Locked<String?>(nil)
    let resolved = Locked<[String]>([])
    let fetched = Locked<[String]>([])

    init(remote: ContentStore, base: ResolvedBase) {
        self.remote = remote
        self.base = base
    }

    struct NoSuchImage: Error, CustomStringConvertible {
        var description: String { "no such image" }
    }

    func resolve(_ reference: String, platform: Platform) async throws -> ResolvedBase {
        resolved.withLock { $0.append("\(reference) \(platform)") }
        if reference == failing.withLock({ $0 }) { throw NoSuchImage() }
        return base
    }

    func fetchLayers(_ layers: [Descriptor], of reference: String, into store: ContentStore) async throws {
        fetched.withLock { $0.append(reference) }
        for layer in layers {
            try await remote.copyBlob(layer, from: base.manifestDigest, into: store)
        }
    }
}
