import Foundation
import HTTP
import OCI

/// Tuning of pulls.
public struct PullOptions: Sendable {
    public var retry = RetryPolicy()
    /// Blobs downloaded at once by `fetchBlobs`.
    public var jobs = 4
    /// Ask the registry what a tag points at now (the default). False is `--pull=false`: a tag
    /// resolved before is taken from the resolution cache, and only unknown tags are asked.
    public var resolveTags = true

    public init(retry: RetryPolicy = RetryPolicy(), jobs: Int = 4, resolveTags: Bool = true) {
        self.retry = retry
        self.jobs = jobs
        self.resolveTags = resolveTags
    }
}

/// What a pull does, for progress display. Delivered from many tasks at once.
public enum PullEvent: Sendable {
    /// A tag or digest was resolved to its root (index or manifest); `cached` when the tag
    /// resolution came from the resolution cache (`--pull=false`).
    case resolved(reference: String, root: Descriptor, cached: Bool)
    /// The blob was already in the local cache (verified); nothing was downloaded.
    case blobCached(Descriptor)
    case blobDownloadStarted(Descriptor, from: String)
    case blobDownloaded(Descriptor, from: String)
    case retrying(operation: String, attempt: Int, delay: TimeInterval, error: String)
}

extension PullEvent {
    /// What progress output says for a `.retrying` event (nil for the others): that it waits,
    /// how long, for what, and why — so a slow failure is never silent.
    public var retryNotice: String? {
        guard case .retrying(let operation, let attempt, let delay, let error) = self else { return nil }
        return "waiting \(String(format: "%.1f", delay))s to retry \(operation) (retry \(attempt)): \(error)"
    }
}

/// One platform of a registry image, resolved: manifest and config are in the store.
public struct ResolvedImage: Sendable, Hashable {
    /// The reference as asked for (normalised).
    public var reference: ImageReference
    /// The root the reference named: an index, or the manifest itself.
    public var root: Descriptor
    /// The index digest when the reference named an index (the manifest was picked from it).
    public var indexDigest: Digest?
    /// The platform's manifest (its `platform` filled from the index entry or the config).
    public var manifestDescriptor: Descriptor
    public var manifest: Manifest
    public var configDescriptor: Descriptor
    public var config: ImageConfig

    /// The layers, in order, with their media types and digests as the registry has them.
    public var layers: [Descriptor] { manifest.layers }
    /// The reference pinned to the platform manifest: `registry/repo@sha256:…`.
    public var pinnedReference: ImageReference { reference.with(tag: nil, digest: manifestDescriptor.digest) }
}

/// Pulls images from registries into a content store (the local cache): resolves references
/// to indexes and manifests, picks platforms, and fetches configs and layers — each verified
/// against its digest, written through the store's ingest-and-rename so concurrent processes
/// sharing the cache never see a partial blob. What the store already has is not downloaded
/// again (it is verified once per process instead). It is an `ImageSource`, so platform
/// selection follows `ImageResolver` as it does for layouts.
public final class ImagePuller: Sendable {
    public let store: ContentStore
    public let transport: any HTTPTransport
    public let credentials: any CredentialProvider
    public let options: PullOptions
    public let resolutions: TagResolutionCache?
    private let onEvent: (@Sendable (PullEvent) -> Void)?
    private let clients: RegistryClients
    private let verified = Locked<Set<Digest>>([])
    private let inflight = Locked<[Digest: Task<Void, Error>]>([:])

    public init(store: ContentStore, transport: any HTTPTransport = HTTPClient.shared,
                credentials: any CredentialProvider = DockerConfigCredentials(), options: PullOptions = PullOptions(),
                resolutions: TagResolutionCache? = nil, onEvent: (@Sendable (PullEvent) -> Void)? = nil) {
        self.store = store
        self.transport = transport
        self.credentials = credentials
        self.options = options
        self.resolutions = resolutions
        self.onEvent = onEvent
        clients = RegistryClients(transport: transport, credentials: credentials, retry: options.retry) { what, attempt, delay, error in
            onEvent?(.retrying(operation: what, attempt: attempt, delay: delay, error: error.description))
        }
    }

    /// A puller on slipway's cache directory: blobs in `<cache>/store`, tag resolutions in
    /// `<cache>/resolutions.json`.
    public convenience init(cacheDirectory: URL, transport: any HTTPTransport = HTTPClient.shared,
                            credentials: any CredentialProvider = DockerConfigCredentials(), options: PullOptions = PullOptions(),
                            onEvent: (@Sendable (PullEvent) -> Void)? = nil) throws {
        let store: ContentStore
        do { store = try ContentStore(root: cacheDirectory.appendingPathComponent("store")) } catch let error as OCIError {
            throw RegistryError.io(error.description)
        }
        self.init(store: store, transport: transport, credentials: credentials, options: options,
                  resolutions: TagResolutionCache(file: cacheDirectory.appendingPathComponent("resolutions.json")), onEvent: onEvent)
    }

    /// The client for a registry, shared by every pull from it (one token cache).
    public func client(for registry: String) -> RegistryClient {
        clients.client(for: registry)
    }


    // MARK: resolving

    /// Resolves a reference to its root (index or manifest), stored in the store. A digest
    /// reference is served from the store when present; a tag is asked from the registry (a
    /// HEAD, then a GET only when the root is not in the store) unless `resolveTags` is off and
    /// the resolution cache knows it.
    public func resolveRoot(_ reference: ImageReference) async throws -> FetchedManifest {
        try await naming(reference) { try await self.resolveRootUnnamed(reference) }
    }

    private func resolveRootUnnamed(_ reference: ImageReference) async throws -> FetchedManifest {
        if let digest = reference.digest {
            return try await manifest(Descriptor(mediaType: "", digest: digest, size: -1), from: reference)
        }
        if !options.resolveTags, let cached = resolutions?.lookup(reference) {
            let root = try await manifest(cached, from: reference)
            onEvent?(.resolved(reference: reference.description, root: root.descriptor, cached: true))
            return root
        }
        let client = client(for: reference.registry)
        // HEAD first: when the tag still names a root we have, nothing is downloaded (and
        // registries that meter pulls, like Docker Hub, count GETs, not HEADs).
        if let head = try await headForResolution(client, reference), store.contains(head.digest) {
            let root = try await manifest(Descriptor(mediaType: head.mediaType, digest: head.digest, size: -1), from: reference)
            resolutions?.record(reference, root.descriptor)
            onEvent?(.resolved(reference: reference.description, root: root.descriptor, cached: false))
            return root
        }
        let fetched = try await client.fetchManifest(reference.manifestReference, in: reference.repository)
        try put(fetched)
        resolutions?.record(reference, fetched.descriptor)
        onEvent?(.resolved(reference: reference.description, root: fetched.descriptor, cached: false))
        return fetched
    }

    /// The HEAD that may spare a GET. A registry that does not answer HEADs properly gets the
    /// GET anyway; but when the registry cannot be reached, or failed transiently until the
    /// retries ran out, that is the answer: a GET would only go through every retry again.
    private func headForResolution(_ client: RegistryClient, _ reference: ImageReference) async throws -> Descriptor? {
        do {
            return try await client.manifestExists(reference.manifestReference, in: reference.repository)
        } catch let error as RegistryError {
            switch error {
            case .transport, .unreachable, .insecureNotAllowed, .cancelled: throw error
            default:
                if error.isRetryable { throw error }
                return nil
            }
        }
    }

    /// Runs `body`, naming `reference` in an error that names only a host.
    func naming<T>(_ reference: ImageReference, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RegistryError {
            throw error.naming(reference.description)
        }
    }

    /// Resolves a reference for one platform (`ImageResolver`'s rule): root, the platform's
    /// manifest and its config, all verified and stored. Fails before any layer is fetched
    /// when the image lacks the platform:
    /// `base image X has no linux/arm64 manifest; it has: linux/amd64, linux/s390x`.
    public func resolve(_ reference: ImageReference, platform: Platform) async throws -> ResolvedImage {
        let image = try await registryErrors(reference) {
            try await ImageResolver.resolve(self, reference, platform: platform, name: reference.name)
        }
        return ResolvedImage(reference: reference, root: image.root, indexDigest: image.indexDigest, manifestDescriptor: image.manifestDescriptor,
                             manifest: image.manifest, configDescriptor: image.configDescriptor, config: image.config)
    }

    /// The manifest of one platform below a root (the root itself when it is a manifest); the
    /// error lists what the index has.
    public func platformManifest(_ root: FetchedManifest, platform: Platform, from reference: ImageReference) async throws -> FetchedManifest {
        try await registryErrors(reference) {
            try await ImageResolver.platformManifest(root, platform: platform, in: self, reference, name: reference.name).manifest
        }
    }

    /// Puts `ImageResolver`'s findings in registry terms, naming the reference.
    private func registryErrors<T: Sendable>(_ reference: ImageReference, _ body: () async throws -> T) async throws -> T {
        do {
            return try await naming(reference, body)
        } catch let error as ImageSelectionError {
            if case .platformNotFound(let wanted, let available) = error {
                throw RegistryError.platformNotFound(reference: reference.description, wanted: wanted, available: available)
            }
            throw RegistryError.protocolViolation(registry: reference.registry, detail: error.detail(about: reference.description))
        } catch let error as OCIError {
            throw RegistryError.io(error.description)
        }
    }

    /// Every manifest below (and including) a root, fetched and stored (not the blobs): what
    /// a copy of the whole image needs before its blobs are streamed. Returns the manifests'
    /// descriptors, children first, and every blob (configs and layers) they reference.
    public func fetchManifestTree(_ root: FetchedManifest, from reference: ImageReference) async throws -> (manifests: [Descriptor], blobs: [Descriptor]) {
        var manifests: [Descriptor] = []
        var blobs: [Descriptor] = []
        var seen = Set<Digest>()
        func visit(_ node: FetchedManifest, depth: Int) async throws {
            guard depth < 8 else { throw RegistryError.protocolViolation(registry: reference.registry, detail: "\(reference): index nesting deeper than 8 levels") }
            if node.isIndex {
                let index = try decode(Index.self, node.data, what: "index \(reference.name)@\(node.descriptor.digest)")
                for child in index.manifests where seen.insert(child.digest).inserted {
                    try await visit(try await manifest(child, from: reference), depth: depth + 1)
                }
            } else {
                let manifest = try decode(Manifest.self, node.data, what: "manifest \(reference.name)@\(node.descriptor.digest)")
                for blob in [manifest.config] + manifest.layers where seen.insert(blob.digest).inserted {
                    blobs.append(blob)
                }
            }
            manifests.append(node.descriptor)
        }
        seen.insert(root.descriptor.digest)
        try await visit(root, depth: 0)
        return (manifests, blobs)
    }

    // MARK: content

    /// A manifest by descriptor: from the store when present (verified), else fetched by
    /// digest; its size must match the descriptor's (when the descriptor knows it).
    public func manifest(_ descriptor: Descriptor, from reference: ImageReference) async throws -> FetchedManifest {
        if store.contains(descriptor.digest) {
            if let data = try? store.read(descriptor.digest), descriptor.size < 0 || Int64(data.count) == descriptor.size {
                store.markUsed(descriptor.digest)
                let mediaType = try RegistryClient.manifestMediaType(contentType: descriptor.mediaType.isEmpty ? nil : descriptor.mediaType,
                                                                     data: data, what: "\(reference.name)@\(descriptor.digest)")
                return FetchedManifest(descriptor: Descriptor(mediaType: mediaType, digest: descriptor.digest, size: Int64(data.count)), data: data)
            }
            // Corrupt or truncated in the cache: drop it and fetch it again.
            unlink(store.blobURL(descriptor.digest).path)
        }
        let fetched = try await naming(reference) {
            try await client(for: reference.registry).fetchManifest(descriptor.digest.description, in: reference.repository,
                                                                    size: descriptor.size >= 0 ? descriptor.size : nil)
        }
        if descriptor.size >= 0, fetched.descriptor.size != descriptor.size {
            throw RegistryError.protocolViolation(registry: reference.registry, detail: "manifest \(reference.name)@\(descriptor.digest) has \(fetched.descriptor.size) bytes, its descriptor says \(descriptor.size)")
        }
        try put(fetched)
        return fetched
    }

    /// A config-sized blob (at most 16 MiB), fetched into the store and read back verified.
    public func smallBlob(_ descriptor: Descriptor, from reference: ImageReference) async throws -> Data {
        guard descriptor.size <= 16 << 20 else {
            throw RegistryError.protocolViolation(registry: reference.registry, detail: "\(descriptor.digest) of \(reference) is \(descriptor.size) bytes, too large for a config")
        }
        try await fetchBlob(descriptor, from: reference)
        do { return try store.read(descriptor.digest) } catch let error as OCIError { throw RegistryError.io(error.description) }
    }

    /// Makes sure a blob is in the store: verified once per process when already there, else
    /// downloaded (streamed to an ingest file, verified, renamed into place). Concurrent
    /// requests for the same blob in this process share one download.
    public func fetchBlob(_ descriptor: Descriptor, from reference: ImageReference) async throws {
        if verified.withLock({ $0.contains(descriptor.digest) }), store.contains(descriptor.digest) { return }
        let task = inflight.withLock { inflight -> Task<Void, Error> in
            if let running = inflight[descriptor.digest] { return running }
            let task = Task(executorPreference: Blocking.executor) { try await self.fetchBlobOnce(descriptor, from: reference) }
            inflight[descriptor.digest] = task
            return task
        }
        defer { _ = inflight.withLock { $0.removeValue(forKey: descriptor.digest) } }
        try await naming(reference) { try await task.value }
    }

    private func fetchBlobOnce(_ descriptor: Descriptor, from reference: ImageReference) async throws {
        let digest = descriptor.digest
        if store.contains(digest) {
            let path = store.blobURL(digest).path
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
            if size == descriptor.size, (try? StreamingDigest.file(path)) == digest {
                store.markUsed(digest)
                verified.withLock { _ = $0.insert(digest) }
                onEvent?(.blobCached(descriptor))
                return
            }
            unlink(path)
        }
        guard descriptor.size >= 0 else {
            throw RegistryError.protocolViolation(registry: reference.registry, detail: "blob \(digest) of \(reference) has a negative size")
        }
        let source = reference.name
        onEvent?(.blobDownloadStarted(descriptor, from: source))
        let ingest = store.makeIngestURL()
        defer { unlink(ingest.path) }
        try await client(for: reference.registry).downloadBlob(descriptor, from: reference.repository, to: ingest)
        do { try store.commit(ingest: ingest, as: digest) } catch let error as OCIError { throw RegistryError.io(error.description) }
        verified.withLock { _ = $0.insert(digest) }
        onEvent?(.blobDownloaded(descriptor, from: source))
    }

    /// Fetches several blobs, `options.jobs` at a time.
    public func fetchBlobs(_ descriptors: [Descriptor], from reference: ImageReference) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = descriptors[...]
            func startNext() {
                guard let blob = pending.popFirst() else { return }
                group.addTask { try await self.fetchBlob(blob, from: reference) }
            }
            for _ in 0..<max(1, options.jobs) { startNext() }
            while try await group.next() != nil { startNext() }
        }
    }

    private func put(_ fetched: FetchedManifest) throws {
        do { try store.put(fetched.data, mediaType: fetched.descriptor.mediaType) } catch let error as OCIError {
            throw RegistryError.io(error.description)
        }
        store.markUsed(fetched.descriptor.digest)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws -> T {
        do { return try CanonicalJSON.decode(type, from: data, what: what) } catch let error as OCIError {
            throw RegistryError.io(error.description)
        }
    }
}

/// The puller as an image source: images named by registry reference, blobs fetched into the
/// puller's store (the cache) and linked from there into another store when one is asked for.
extension ImagePuller: ImageSource {
    public func copyBlob(_ descriptor: Descriptor, from reference: ImageReference, into target: ContentStore) async throws {
        try await fetchBlob(descriptor, from: reference)
        try link(descriptor.digest, into: target)
    }

    /// Several blobs into `target`, fetched `options.jobs` at a time.
    public func copyBlobs(_ descriptors: [Descriptor], from reference: ImageReference, into target: ContentStore) async throws {
        try await fetchBlobs(descriptors, from: reference)
        for descriptor in descriptors { try link(descriptor.digest, into: target) }
    }

    private func link(_ digest: Digest, into target: ContentStore) throws {
        guard !target.contains(digest) else { return }
        do { try target.importBlob(digest, from: store.blobURL(digest).path, what: "blob \(digest) in the cache") } catch let error as OCIError {
            throw RegistryError.io(error.description)
        }
    }
}
