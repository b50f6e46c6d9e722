import Foundation
import HTTP
import OCI
@testable import Registry
import TestSupport
import XCTest

/// Pull, platform selection, verification, the tag resolution cache, blob streaming between
/// registries and immutable tags, against a scripted registry.
final class PullTests: XCTestCase {
    var scratch: TemporaryDirectory!
    var root: URL { scratch.url }
    var store: ContentStore!

    override func setUpWithError() throws {
        scratch = try TemporaryDirectory(prefix: "slipway-pull")
        store = try scratch.store()
    }

    override func tearDown() { scratch = nil }

    struct Image {
        var index: Descriptor
        var manifests: [String: Descriptor]
        var layers: [String: Descriptor]
        var configs: [String: Descriptor]
    }

    /// An index over amd64, arm64/v8, arm/v6 and an attestation, as BuildKit would push it.
    func makeImage(_ registry: ScriptedRegistry, repository: String, tag: String = "1.0", docker: Bool = false) throws -> Image {
        var manifests: [String: Descriptor] = [:], layers: [String: Descriptor] = [:], configs: [String: Descriptor] = [:]
        var entries: [Descriptor] = []
        for (name, platform) in [("amd64", Platform(os: "linux", architecture: "amd64")), ("arm64", Platform(os: "linux", architecture: "arm64")),
                                 ("armv6", Platform(os: "linux", architecture: "arm", variant: "v6"))] {
            let layer = registry.addBlob(Data("layer for \(name)".utf8), repository: repository, mediaType: docker ? MediaType.dockerLayerGzip : MediaType.layerGzip)
            var config = ImageConfig(platform: platform)
            config.rootfs = RootFS(diffIDs: [Digest.sha256(of: Data(name.utf8))])
            let configData = try CanonicalJSON.encode(config)
            let configDescriptor = registry.addBlob(configData, repository: repository, mediaType: docker ? MediaType.dockerConfig : MediaType.imageConfig)
            var manifest = Manifest(config: configDescriptor, layers: [layer])
            manifest.mediaType = docker ? MediaType.dockerManifest : MediaType.imageManifest
            var descriptor = try registry.addManifest(manifest, mediaType: manifest.mediaType ?? "", repository: repository)
            var entryPlatform = platform
            if name == "arm64" { entryPlatform.variant = "v8" }   // as written by many tools
            descriptor.platform = entryPlatform
            entries.append(descriptor)
            manifests[name] = descriptor
            layers[name] = layer
            configs[name] = configDescriptor
        }
        if !docker {
            let attestation = try registry.addManifest(Manifest(config: registry.addBlob(Data("{}".utf8), repository: repository, mediaType: "application/vnd.in-toto+json"), layers: []),
                                                       mediaType: MediaType.imageManifest, repository: repository)
            entries.append(Descriptor(mediaType: attestation.mediaType, digest: attestation.digest, size: attestation.size,
                                      platform: Platform(os: "unknown", architecture: "unknown"),
                                      annotations: ["vnd.docker.reference.type": "attestation-manifest"]))
        }
        var index = Index(manifests: entries)
        index.mediaType = docker ? MediaType.dockerManifestList : MediaType.imageIndex
        let descriptor = try registry.addManifest(index, mediaType: index.mediaType ?? "", repository: repository, tag: tag)
        return Image(index: descriptor, manifests: manifests, layers: layers, configs: configs)
    }

    func puller(_ transport: any HTTPTransport, resolveTags: Bool = true) -> ImagePuller {
        ImagePuller(store: store, transport: transport, credentials: AnonymousCredentials(),
                    options: PullOptions(retry: .none, resolveTags: resolveTags),
                    resolutions: TagResolutionCache(file: root.appendingPathComponent("resolutions.json")))
    }

    // MARK: platform selection

    func testPlatformSelectionFollowsContainerdVariantRules() throws {
        func entry(_ p: String, _ n: Int) throws -> Descriptor {
            var parts = p.split(separator: "/").map(String.init)
            let platform = Platform(os: parts.removeFirst(), architecture: parts.removeFirst(), variant: parts.first)
            var d = Descriptor(mediaType: MediaType.imageManifest, digest: Digest.sha256(of: Data([UInt8(n)])), size: 1)
            d.platform = platform
            // Decoded entries are not normalised: write the platform as the index spells it.
            d.platform?.architecture = String(p.split(separator: "/")[1])
            d.platform?.variant = p.split(separator: "/").count > 2 ? String(p.split(separator: "/")[2]) : nil
            return d
        }
        let index = Index(manifests: [try entry("linux/amd64", 1), try entry("linux/arm64/v8", 2), try entry("linux/arm/v6", 3),
                                      try entry("unknown/unknown", 4), try entry("linux/s390x", 5)])
        let pick = { (p: String) in index.manifest(for: try Platform(parsing: p))?.digest }
        XCTAssertEqual(try pick("linux/arm64"), index.manifests[1].digest, "arm64 = arm64/v8")
        XCTAssertEqual(try pick("linux/arm64/v8"), index.manifests[1].digest)
        XCTAssertEqual(try pick("linux/aarch64"), index.manifests[1].digest)
        XCTAssertEqual(try pick("linux/arm/v6"), index.manifests[2].digest)
        XCTAssertNil(try pick("linux/arm/v7"), "arm/v7 does not take arm/v6")
        XCTAssertEqual(try pick("linux/x86_64"), index.manifests[0].digest)
        XCTAssertNil(try pick("linux/riscv64"))
        XCTAssertEqual(index.availablePlatforms, ["linux/amd64", "linux/arm64", "linux/arm/v6", "linux/s390x"], "attestations are not platforms")

        // An entry without variant: arm64 serves arm64/v8; arm (= arm/v7 for containerd) serves v7, not v6.
        let bare = Index(manifests: [try entry("linux/arm64", 1), try entry("linux/arm", 2)])
        XCTAssertEqual(bare.manifest(for: try Platform(parsing: "linux/arm64/v8"))?.digest, bare.manifests[0].digest)
        XCTAssertEqual(bare.manifest(for: try Platform(parsing: "linux/arm/v7"))?.digest, bare.manifests[1].digest)
        XCTAssertNil(bare.manifest(for: try Platform(parsing: "linux/arm/v6")))

        // An exact variant match beats an entry that only matches by naming no variant.
        let both = Index(manifests: [try entry("linux/arm64", 1), try entry("linux/arm64/v8", 2), try entry("linux/arm/v7", 3), try entry("linux/arm", 4)])
        XCTAssertEqual(both.manifest(for: try Platform(parsing: "linux/arm64"))?.digest, both.manifests[0].digest, "equal after normalisation: first wins")
        XCTAssertEqual(both.manifest(for: try Platform(parsing: "linux/arm/v7"))?.digest, both.manifests[2].digest)
    }

    // MARK: pulling

    func testResolvesEachPlatformAndVerifiesIntoTheStore() async throws {
        let registry = ScriptedRegistry(bearer: true)
        let image = try makeImage(registry, repository: "library/base")
        let reference = try ImageReference(parsing: "registry.example.com/library/base:1.0")
        let puller = puller(registry)
        let arm = try await puller.resolve(reference, platform: Platform(parsing: "linux/arm64"))
        XCTAssertEqual(arm.indexDigest, image.index.digest)
        XCTAssertEqual(arm.root.digest, image.index.digest)
        XCTAssertEqual(arm.manifestDescriptor.digest, image.manifests["arm64"]?.digest)
        XCTAssertEqual(arm.configDescriptor.digest, image.configs["arm64"]?.digest)
        XCTAssertEqual(arm.config.architecture, "arm64")
        XCTAssertEqual(arm.layers, [try XCTUnwrap(image.layers["arm64"])])
        XCTAssertEqual(arm.pinnedReference.description, "registry.example.com/library/base@\(image.manifests["arm64"]!.digest)")
        for digest in [image.index.digest, arm.manifestDescriptor.digest, arm.configDescriptor.digest] {
            XCTAssertTrue(try store.verify(digest), "\(digest) stored and intact")
        }
        XCTAssertFalse(store.contains(arm.layers[0].digest), "layers are fetched only on demand")

        try await puller.fetchBlob(arm.layers[0], from: reference)
        XCTAssertTrue(try store.verify(arm.layers[0].digest))
        try await puller.fetchBlob(arm.layers[0], from: reference)
        XCTAssertEqual(registry.count("GET /v2/library/base/blobs/\(arm.layers[0].digest)"), 1, "a cached blob is not downloaded again")
        XCTAssertEqual(registry.count("GET /v2/library/base/manifests/1.0"), 1)

        let amd = try await puller.resolve(reference, platform: Platform(parsing: "linux/amd64"))
        XCTAssertEqual(amd.manifestDescriptor.digest, image.manifests["amd64"]?.digest)
        XCTAssertEqual(registry.count("HEAD /v2/library/base/manifests/1.0"), 2, "tags are re-resolved by default")
        XCTAssertEqual(registry.count("GET /v2/library/base/manifests/1.0"), 1, "a root already stored is not downloaded again")
        XCTAssertEqual(registry.count("GET /v2/library/base/manifests/\(image.index.digest)"), 0)
        XCTAssertTrue(registry.requests.contains("GET /token"), "anonymous bearer token")
    }

    func testMissingPlatformFailsBeforeAnyWorkListingWhatExists() async throws {
        let registry = ScriptedRegistry()
        _ = try makeImage(registry, repository: "base")
        let puller = puller(registry)
        do {
            _ = try await puller.resolve(try ImageReference(parsing: "registry.example.com/base:1.0"), platform: Platform(parsing: "linux/arm/v7"))
            XCTFail("expected a missing platform")
        } catch let error as RegistryError {
            XCTAssertEqual(error.description, "base image registry.example.com/base:1.0 has no linux/arm/v7 manifest; it has: linux/amd64, linux/arm64, linux/arm/v6")
        }
        XCTAssertEqual(registry.requests.filter { $0.contains("/blobs/") }, [], "nothing but the index was fetched")
    }

    func testDockerManifestListAndSinglePlatformManifest() async throws {
        let registry = ScriptedRegistry()
        let image = try makeImage(registry, repository: "docker", docker: true)
        let puller = puller(registry)
        let reference = try ImageReference(parsing: "registry.example.com/docker:1.0")
        let resolved = try await puller.resolve(reference, platform: Platform(parsing: "linux/amd64"))
        XCTAssertEqual(resolved.manifestDescriptor.mediaType, MediaType.dockerManifest)
        XCTAssertEqual(resolved.configDescriptor.mediaType, MediaType.dockerConfig)
        XCTAssertEqual(resolved.layers.first?.mediaType, MediaType.dockerLayerGzip)

        // A reference to one platform's manifest by digest: the config decides the platform.
        let pinned = reference.with(digest: image.manifests["arm64"]!.digest)
        let arm = try await puller.resolve(pinned, platform: Platform(parsing: "linux/arm64"))
        XCTAssertNil(arm.indexDigest)
        XCTAssertEqual(arm.manifestDescriptor.platform?.description, "linux/arm64")
        do {
            _ = try await puller.resolve(pinned, platform: Platform(parsing: "linux/amd64"))
            XCTFail("expected a platform mismatch")
        } catch let error as RegistryError {
            XCTAssertTrue(error.description.hasSuffix("has no linux/amd64 manifest; it has: linux/arm64"), error.description)
        }
    }

    func testTamperedContentIsRefusedAndNeverStored() async throws {
        let registry = ScriptedRegistry()
        let image = try makeImage(registry, repository: "base")
        let reference = try ImageReference(parsing: "registry.example.com/base:1.0")
        let layer = try XCTUnwrap(image.layers["amd64"])
        registry.state.withLock { $0.tampered["base@\(layer.digest)"] = Data("layer for amd65".utf8) }
        let config = try XCTUnwrap(image.configs["arm64"])
        registry.state.withLock { $0.tampered["base@\(config.digest)"] = Data(#"{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8) }
        let puller = puller(registry)
        do {
            try await puller.fetchBlob(layer, from: reference)
            XCTFail("expected a digest mismatch")
        } catch let error as RegistryError {
            guard case .digestMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(store.contains(layer.digest))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.root.appendingPathComponent("ingest").path), [], "no partial file left")
        do {
            _ = try await puller.resolve(reference, platform: Platform(parsing: "linux/arm64"))
            XCTFail("expected a digest mismatch for the config")
        } catch let error as RegistryError {
            guard case .digestMismatch = error else { return XCTFail("\(error)") }
        }

        // A manifest fetched by digest with other bytes, and a tag whose Docker-Content-Digest lies.
        let manifest = try XCTUnwrap(image.manifests["amd64"])
        registry.state.withLock { $0.tampered["base@\(manifest.digest)"] = Data("{}".utf8) }
        do {
            _ = try await puller.resolve(reference, platform: Platform(parsing: "linux/amd64"))
            XCTFail("expected a digest mismatch for the manifest")
        } catch let error as RegistryError {
            guard case .digestMismatch = error else { return XCTFail("\(error)") }
        }
        registry.state.withLock { $0.wrongDigestHeader = true }
        do {
            _ = try await ImagePuller(store: store, transport: registry, credentials: AnonymousCredentials(), options: PullOptions(retry: .none)).resolveRoot(reference)
            XCTFail("expected a Docker-Content-Digest mismatch")
        } catch let error as RegistryError {
            guard case .digestMismatch = error else { return XCTFail("\(error)") }
        }
    }

    func testCorruptCacheEntryIsReplaced() async throws {
        let registry = ScriptedRegistry()
        let image = try makeImage(registry, repository: "base")
        let reference = try ImageReference(parsing: "registry.example.com/base:1.0")
        let layer = try XCTUnwrap(image.layers["amd64"])
        try Data("garbage".utf8).write(to: store.blobURL(layer.digest))
        try await puller(registry).fetchBlob(layer, from: reference)
        XCTAssertTrue(try store.verify(layer.digest))
        XCTAssertEqual(registry.count("GET /v2/base/blobs/\(layer.digest)"), 1)
    }

    func testPullFalseUsesTheCachedTagResolution() async throws {
        let registry = ScriptedRegistry()
        let image = try makeImage(registry, repository: "base")
        let reference = try ImageReference(parsing: "registry.example.com/base:1.0")
        _ = try await puller(registry).resolve(reference, platform: Platform(parsing: "linux/amd64"))
        XCTAssertEqual(registry.count("GET /v2/base/manifests/1.0"), 1)

        // The tag moves; --pull=false keeps the cached resolution and asks nothing.
        let moved = try registry.addManifest(Index(manifests: [try XCTUnwrap(image.manifests["amd64"])]), mediaType: MediaType.imageIndex, repository: "base", tag: "1.0")
        XCTAssertNotEqual(moved.digest, image.index.digest)
        let before = registry.requests.count
        let cached = try await puller(registry, resolveTags: false).resolve(reference, platform: Platform(parsing: "linux/amd64"))
        XCTAssertEqual(cached.indexDigest, image.index.digest)
        XCTAssertEqual(Array(registry.requests.dropFirst(before)).filter { $0.contains("/manifests/") }, [])

        // A tag never resolved is asked even with --pull=false.
        _ = try makeImage(registry, repository: "base", tag: "2.0")
        _ = try await puller(registry, resolveTags: false).resolveRoot(try ImageReference(parsing: "registry.example.com/base:2.0"))
        XCTAssertEqual(registry.count("HEAD /v2/base/manifests/2.0"), 1, "asked (the root itself is already stored: no GET)")
    }

    func testConcurrentResolvesShareOneDownloadPerBlob() async throws {
        let registry = ScriptedRegistry(bearer: true)
        let image = try makeImage(registry, repository: "base")
        let reference = try ImageReference(parsing: "registry.example.com/base:1.0")
        let puller = puller(registry)
        // Several resolves at once (as a build's bases are resolved).
        let digests = try await withThrowingTaskGroup(of: Digest.self) { group in
            for i in 0..<6 {
                group.addTask {
                    let resolved = try await puller.resolve(reference, platform: Platform(parsing: i % 2 == 0 ? "linux/amd64" : "linux/arm64"))
                    try await puller.fetchBlobs(resolved.layers, from: reference)
                    return resolved.manifestDescriptor.digest
                }
            }
            return try await group.reduce(into: Set<Digest>()) { $0.insert($1) }
        }
        XCTAssertEqual(digests, [image.manifests["amd64"]!.digest, image.manifests["arm64"]!.digest])
        XCTAssertTrue(store.contains(image.layers["amd64"]!.digest) && store.contains(image.layers["arm64"]!.digest))
        XCTAssertEqual(registry.count("GET /v2/base/blobs/\(image.layers["amd64"]!.digest)"), 1, "concurrent fetches of one blob share a download")
    }

    // MARK: pushing what the store lacks

    func testPushStreamsMissingBlobsFromTheSourceAndMountsWithinARegistry() async throws {
        let source = ScriptedRegistry()
        let image = try makeImage(source, repository: "dev/app")
        let sourceRef = try ImageReference(parsing: "source.example.com/dev/app:1.0")
        let pull = puller(source)
        let root = try await pull.resolveRoot(sourceRef)
        let tree = try await pull.fetchManifestTree(root, from: sourceRef)
        XCTAssertEqual(tree.manifests.count, 5, "four manifests and the index")
        XCTAssertEqual(tree.blobs.count, 7)
        XCTAssertTrue(tree.blobs.allSatisfy { !store.contains($0.digest) })

        // The same registry, another repository: every blob is mounted, nothing downloaded.
        var options = PushOptions(retry: .none)
        for blob in tree.blobs { options.blobSources[blob.digest] = [sourceRef] }
        options.blobCache = store
        let sameRegistry = try ImageReference(parsing: "source.example.com/prod/app:1.0")
        let pushed = try await Pusher(store: store, transport: source, credentials: AnonymousCredentials(), options: options).push(root.descriptor, to: [sameRegistry])
        XCTAssertEqual(pushed.first?.digest, image.index.digest)
        XCTAssertEqual(source.count("POST /v2/prod/app/blobs/uploads/"), 7, "mounted")
        XCTAssertEqual(source.requests.filter { $0.hasPrefix("GET") && $0.contains("/blobs/") }, [])

        // Another registry: fetched from the source through the cache, then uploaded unchanged.
        let target = ScriptedRegistry()
        let other = try ImageReference(parsing: "target.example.com/app:1.0")
        let fetched = Locked(0)
        options.onFetch = { event in
            guard case .blobDownloaded = event else { return }
            fetched.withLock { count in count += 1 }
        }
        let result = try await Pusher(store: store, transport: Router(["source.example.com": source, "target.example.com": target]),
                                      credentials: AnonymousCredentials(), options: options).push(root.descriptor, to: [other])
        XCTAssertEqual(result.first?.digest, image.index.digest)
        XCTAssertEqual(fetched.withLock { $0 }, 7)
        for blob in tree.blobs {
            XCTAssertEqual(target.state.withLock { $0.blobs["app@\(blob.digest)"] }, source.state.withLock { $0.blobs["dev/app@\(blob.digest)"] })
        }
        let served = target.state.withLock { $0.manifests["app:1.0"]?.data }
        XCTAssertEqual(served.map { Digest.sha256(of: $0) }, image.index.digest)
    }

    // MARK: immutable tags

    func testImmutableTagAlreadyAtTheDigestIsSuccessOtherwiseAClearError() async throws {
        let registry = ScriptedRegistry()
        let image = try makeImage(registry, repository: "src")
        let sourceRef = try ImageReference(parsing: "registry.example.com/src:1.0")
        let pull = puller(registry)
        let root = try await pull.resolveRoot(sourceRef)
        let tree = try await pull.fetchManifestTree(root, from: sourceRef)
        try await pull.fetchBlobs(tree.blobs, from: sourceRef)
        registry.state.withLock { _ = $0.immutable.insert("release") }
        let target = try ImageReference(parsing: "registry.example.com/release:1.0")
        let pusher = Pusher(store: store, transport: registry, credentials: AnonymousCredentials(), options: PushOptions(retry: .none))
        let first = try await pusher.push(root.descriptor, to: [target])
        XCTAssertEqual(first.first?.alreadyPublished, false)

        // Re-running the release job: the tag is refused but already names this digest.
        let again = try await Pusher(store: store, transport: registry, credentials: AnonymousCredentials(), options: PushOptions(retry: .none)).push(root.descriptor, to: [target])
        XCTAssertEqual(again.first?.alreadyPublished, true)
        XCTAssertEqual(again.first?.digest, image.index.digest)

        // Another image under the same tag: a clear error naming the existing digest.
        let manifest = try await pull.manifest(try XCTUnwrap(image.manifests["amd64"]), from: sourceRef)
        do {
            _ = try await Pusher(store: store, transport: registry, credentials: AnonymousCredentials(), options: PushOptions(retry: .none)).push(manifest.descriptor, to: [target])
            XCTFail("expected an immutable tag error")
        } catch let error as RegistryError {
            XCTAssertEqual(error.description, "tag '1.0' already exists in immutable repository 'registry.example.com/release' at \(image.index.digest); push a new tag")
        }
        XCTAssertTrue(Pusher.isImmutableTagRefusal(.status(registry: "r", operation: "PUT", status: 400, errors: [RegistryErrorDetail(code: "TAG_INVALID")])))
        XCTAssertTrue(Pusher.isImmutableTagRefusal(.status(registry: "r", operation: "PUT", status: 409, errors: [RegistryErrorDetail(code: "DENIED", message: "tag is immutable")])))
        XCTAssertFalse(Pusher.isImmutableTagRefusal(.status(registry: "r", operation: "PUT", status: 400, errors: [RegistryErrorDetail(code: "MANIFEST_INVALID")])))
    }

    // MARK: cache upkeep

    func testPruneRemovesLeastRecentlyUsedFirstAndKeepsFreshIngestFiles() throws {
        var descriptors: [Descriptor] = []
        for i in 0..<4 {
            descriptors.append(try store.put(Data(repeating: UInt8(i), count: 1000), mediaType: "application/octet-stream"))
        }
        // Ages: blob 0 oldest … blob 3 newest; then blob 0 is used again.
        for (i, d) in descriptors.enumerated() {
            var times = [timeval(tv_sec: time(nil) - 1000 + i * 100, tv_usec: 0), timeval(tv_sec: time(nil) - 1000 + i * 100, tv_usec: 0)]
            XCTAssertEqual(utimes(store.blobURL(d.digest).path, &times), 0)
        }
        store.markUsed(descriptors[0].digest)
        let fresh = store.makeIngestURL()
        try Data("partial".utf8).write(to: fresh)
        let stale = store.makeIngestURL()
        try Data("abandoned".utf8).write(to: stale)
        var old = [timeval(tv_sec: time(nil) - 2 * 86400, tv_usec: 0), timeval(tv_sec: time(nil) - 2 * 86400, tv_usec: 0)]
        XCTAssertEqual(utimes(stale.path, &old), 0)

        let result = store.prune(keepBytes: 2000)
        XCTAssertEqual(result.removedBlobs, 2)
        XCTAssertEqual(result.freedBytes, 2000)
        XCTAssertEqual(result.removedIngestFiles, 1)
        XCTAssertEqual(descriptors.map { store.contains($0.digest) }, [true, false, false, true], "LRU: the recently used blob 0 and the newest stay")
        XCTAssertTrue(FileManager.default.fileExists(atPath: fresh.path), "a running writer's ingest file stays")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path))

        XCTAssertEqual(store.prune(keepBytes: 0).removedBlobs, 2)
        XCTAssertEqual(store.storedBlobs(), [])
    }
}
