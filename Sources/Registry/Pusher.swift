import Foundation
import HTTP
import OCI

/// Tuning of a push (`--jobs`, `--chunk-size`, `--retries`) and what is known about blobs
/// already in the target registries.
public struct PushOptions: Sendable {
    /// Blob bodies sent at once, each over an HTTP/1.1 connection of its own (as many more
    /// upload sessions may be open, waiting for a turn).
    public var jobs: Int = PushOptions.defaultJobs
    /// 8: over a 50 ms link, 4 streams leave the link idle while each waits two round trips
    /// (POST, then PUT) per blob (12.7 s against 10.0 s for 240 MiB at 400 Mbit/s; bench-push --rtt).
    public static let defaultJobs = 8
    /// Blobs larger than this go up in PATCH chunks of this size (registries such as ECR need
    /// ≥ 5 MiB per chunk but the last); smaller ones in one PUT.
    public var chunkSize: Int64 = 5 << 20
    public var retry = RetryPolicy()
    /// Repositories where a blob is known to exist (e.g. the base image a layer came from): a
    /// push to another repository of the same registry mounts it instead of uploading it, and a
    /// blob the store lacks is downloaded from there (any registry) into `blobCache`, verified,
    /// and uploaded from the cache — never recompressed.
    public var blobSources: [Digest: [ImageReference]] = [:]
    /// Where blobs fetched from `blobSources` are kept (slipway's cache store); nil: the
    /// pushed store itself.
    public var blobCache: ContentStore?
    /// Progress of those fetches.
    public var onFetch: (@Sendable (PullEvent) -> Void)?

    public init(jobs: Int = PushOptions.defaultJobs, chunkSize: Int64 = 5 << 20, retry: RetryPolicy = RetryPolicy(), blobSources: [Digest: [ImageReference]] = [:],
                blobCache: ContentStore? = nil, onFetch: (@Sendable (PullEvent) -> Void)? = nil) {
        self.jobs = jobs
        self.chunkSize = chunkSize
        self.retry = retry
        self.blobSources = blobSources
        self.blobCache = blobCache
        self.onFetch = onFetch
    }
}

/// What happens during a push, for progress display. Delivered from many tasks at once: the
/// handler must be thread-safe and quick.
public enum PushEvent: Sendable {
    /// The blob is already in the repository (a HEAD answered 200); nothing was uploaded.
    case blobSkipped(repository: String, descriptor: Descriptor)
    /// The blob was linked from another repository of the same registry.
    case blobMounted(repository: String, descriptor: Descriptor, from: String)
    case blobUploadStarted(repository: String, descriptor: Descriptor)
    /// Bytes of the blob sent so far (resets to 0 when an upload restarts after a failure).
    case blobProgress(repository: String, descriptor: Descriptor, bytes: Int64)
    case blobUploaded(repository: String, descriptor: Descriptor)
    /// A manifest or index was already present by digest.
    case manifestSkipped(repository: String, descriptor: Descriptor)
    /// A manifest or index was written under `reference` (its digest or a tag).
    case manifestPushed(repository: String, descriptor: Descriptor, reference: String)
    /// A request failed transiently and is retried after `delay` seconds.
    case retrying(operation: String, attempt: Int, delay: TimeInterval, error: String)

    /// `registry/repository` the event concerns (empty for retries).
    public var repository: String {
        switch self {
        case .blobSkipped(let r, _), .blobMounted(let r, _, _), .blobUploadStarted(let r, _), .blobProgress(let r, _, _),
             .blobUploaded(let r, _), .manifestSkipped(let r, _), .manifestPushed(let r, _, _):
            return r
        case .retrying:
            return ""
        }
    }
}

/// One published reference: printed as `REGISTRY/REPO:TAG@sha256:…`, what CI scripts consume.
public struct PushedReference: Sendable, Hashable, CustomStringConvertible {
    /// The reference as requested (normalised), without digest.
    public var reference: ImageReference
    /// The digest of the pushed root (index or manifest).
    public var digest: Digest
    public var mediaType: String
    public var size: Int64
    /// The tag could not be written because the repository's tags are immutable, and it
    /// already pointed at this digest: nothing needed publishing.
    public var alreadyPublished = false

    public var description: String { reference.with(tag: reference.tag, digest: digest).description }
}

/// Pushes an image (a manifest, or an index of manifests) from a content store to one or more
/// references, possibly in several repositories and registries. Order per repository: every
/// blob (in parallel, each HEAD-checked and skipped or mounted when possible), then each child
/// manifest by digest, then the root by digest, then the tags — so no registry ever holds a
/// manifest whose blobs are missing, nor a tag whose manifest is incomplete. A failed push can
/// simply be run again: only what is missing is uploaded.
public final class Pusher: Sendable {
    public let store: ContentStore
    public let transport: any HTTPTransport
    public let credentials: any CredentialProvider
    public let options: PushOptions
    private let onEvent: (@Sendable (PushEvent) -> Void)?
    private let clients: RegistryClients
    private let immutableHits = Locked<Set<String>>([])
    private let fetcher = Locked<ImagePuller?>(nil)

    public init(store: ContentStore, transport: any HTTPTransport = HTTPClient.shared,
                credentials: any CredentialProvider = DockerConfigCredentials(), options: PushOptions = PushOptions(),
                onEvent: (@Sendable (PushEvent) -> Void)? = nil) {
        self.store = store
        self.transport = transport
        self.credentials = credentials
        self.options = options
        self.onEvent = onEvent
        clients = RegistryClients(transport: transport, credentials: credentials, retry: options.retry) { what, attempt, delay, error in
            onEvent?(.retrying(operation: what, attempt: attempt, delay: delay, error: error.description))
        }
    }

    /// The client for a registry, shared by every repository pushed there (one token cache).
    public func client(for registry: String) -> RegistryClient {
        clients.client(for: registry)
    }

    /// Pushes `root` (from the store) to every reference and returns one result per reference,
    /// in the order given. A reference that pins a digest must pin the root's.
    public func push(_ root: Descriptor, to references: [ImageReference]) async throws -> [PushedReference] {
        guard !references.isEmpty else { return [] }
        for reference in references {
            if let pinned = reference.digest, pinned != root.digest {
                throw RegistryError.digestMismatch(what: "push target \(reference)", expected: root.digest, actual: pinned.description)
            }
        }
        let graph = try ImageGraph(root: root, store: store)

        // One pass per repository, in the order first named.
        var repositories: [ImageReference] = []
        for reference in references where !repositories.contains(where: { $0.name == reference.name }) {
            repositories.append(reference)
        }
        var known = options.blobSources
        for destination in repositories {
            do {
                try await push(graph, root: root, to: destination, references: references, known: &known)
            } catch let error as RegistryError {
                throw error.naming(destination.description)
            }
        }
        let published = immutableHits.withLock { $0 }
        return references.map { reference in
            var pushed = PushedReference(reference: reference.with(tag: reference.tag, digest: nil), digest: root.digest, mediaType: root.mediaType, size: root.size)
            pushed.alreadyPublished = published.contains(reference.with(tag: reference.tag, digest: nil).description)
            return pushed
        }
    }

    /// Everything for one repository: blobs, child manifests, the root by digest, the tags.
    /// What the registry already has is learnt in as few round trips as possible: one wave of
    /// manifest HEADs by digest (the root and every child at once); a manifest present there
    /// vouches for its blobs (a registry accepts a manifest only when its blobs exist), so only
    /// the blobs of missing manifests are HEAD-checked, all at once (`existenceChecks` in flight).
    private func push(_ graph: ImageGraph, root: Descriptor, to destination: ImageReference, references: [ImageReference],
                      known: inout [Digest: [ImageReference]]) async throws {
        let client = client(for: destination.registry)
        let repository = destination.repository
        let name = "\(client.registry)/\(repository)"
        // Learn scheme and auth challenge once, before the parallel requests start.
        try await client.ping()
        let present = try await presentManifests([root] + graph.manifests, client: client, repository: repository)
        if present.contains(root.digest) {
            for blob in graph.blobs { onEvent?(.blobSkipped(repository: name, descriptor: blob)) }
            for manifest in graph.manifests + [root] { onEvent?(.manifestSkipped(repository: name, descriptor: manifest)) }
        } else {
            let missing = graph.manifests.filter { !present.contains($0.digest) }
            let needed = graph.blobs(neededBy: MediaType.isIndex(ImageGraph.mediaType(of: root, data: graph.content[root.digest]!)) ? missing : missing + [root])
            for blob in graph.blobs where !needed.contains(blob.digest) { onEvent?(.blobSkipped(repository: name, descriptor: blob)) }
            try await pushBlobs(graph.blobs.filter { needed.contains($0.digest) }, to: repository, client: client, known: known, registry: destination.registry)
            for manifest in graph.manifests where present.contains(manifest.digest) { onEvent?(.manifestSkipped(repository: name, descriptor: manifest)) }
            try await pushManifests(missing, graph: graph, client: client, repository: repository)
            try await pushManifest(root, data: graph.content[root.digest]!, client: client, repository: repository, reference: root.digest.description, skipIfPresent: false, isTag: false)
        }
        for blob in graph.blobs { known[blob.digest, default: []].append(destination) }
        // Tags one after another, in the order given: registries with immutable tags (ECR's
        // exclusions among them) answer each PUT by the state the previous one left.
        for reference in references where reference.name == destination.name {
            if let tag = reference.tag {
                try await pushManifest(root, data: graph.content[root.digest]!, client: client, repository: repository, reference: tag, skipIfPresent: false, isTag: true)
            }
        }
    }

    func pushManifest(_ descriptor: Descriptor, data: Data, client: RegistryClient, repository: String, reference: String, skipIfPresent: Bool, isTag: Bool) async throws {
        let name = "\(client.registry)/\(repository)"
        if skipIfPresent, let existing = try await client.manifestExists(reference, in: repository, forPush: true), existing.digest == descriptor.digest {
            onEvent?(.manifestSkipped(repository: name, descriptor: descriptor))
            return
        }
        do {
            try await client.putManifest(data, mediaType: ImageGraph.mediaType(of: descriptor, data: data), reference: reference, in: repository)
        } catch let error as RegistryError where isTag && Self.isImmutableTagRefusal(error) {
            // Immutable tags (ECR, Harbor, …): a re-run of a release job must succeed when the
            // tag already names this very digest, and say clearly when it names another.
            guard let existing = try await client.manifestExists(reference, in: repository, forPush: true) else { throw error }
            guard existing.digest == descriptor.digest else {
                throw RegistryError.immutableTag(repository: name, tag: reference, existing: existing.digest)
            }
            immutableHits.withLock { _ = $0.insert("\(name):\(reference)") }
            onEvent?(.manifestSkipped(repository: name, descriptor: descriptor))
            return
        }
        onEvent?(.manifestPushed(repository: name, descriptor: descriptor, reference: reference))
    }

    /// Whether a refused tag PUT looks like an immutable-tag refusal: ECR's 400 `TAG_INVALID`,
    /// `MANIFEST_TAG_IMMUTABLE`/`TAG_IMMUTABLE`, or any 4xx whose message says "immutable".
    static func isImmutableTagRefusal(_ error: RegistryError) -> Bool {
        guard case .status(_, _, let status, let errors) = error, [400, 403, 409, 412].contains(status) else { return false }
        return errors.contains { detail in
            [RegistryErrorCode.tagInvalid, RegistryErrorCode.manifestTagImmutable, RegistryErrorCode.tagImmutable, RegistryErrorCode.immutableTag]
                .contains(detail.code.uppercased())
                || (detail.message ?? "").lowercased().contains("immutable")
        }
    }

    /// Checks every blob at once (at most `existenceChecks` HEADs in flight) and mounts or
    /// uploads each missing one as soon as its HEAD answers, not after the last HEAD: the first
    /// bodies leave while later HEADs are still out (a registry that checks a password on every
    /// request answers a wave of HEADs slowly). Up to 2 × `jobs` upload sessions are open at
    /// once and `jobs` of them send bodies (`UploadSlots`), so the POST that opens the next
    /// session is answered while other bodies keep the link busy, rather than idling each
    /// stream for a round trip per blob.
    private func pushBlobs(_ blobs: [Descriptor], to repository: String, client: RegistryClient, known: [Digest: [ImageReference]], registry: String) async throws {
        let name = "\(client.registry)/\(repository)"
        let jobs = max(1, options.jobs)
        let bodies = UploadSlots(jobs)
        let (missing, found) = AsyncStream.makeStream(of: Descriptor.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { found.finish() }
                _ = try await concurrently(blobs, limit: Self.existenceChecks) { blob in
                    if try await client.blobExists(blob.digest, in: repository) != nil {
                        self.onEvent?(.blobSkipped(repository: name, descriptor: blob))
                    } else {
                        found.yield(blob)
                    }
                }
            }
            group.addTask {
                try await withThrowingTaskGroup(of: Void.self) { uploads in
                    var running = 0
                    for await blob in missing {
                        if running >= 2 * jobs { try await uploads.next(); running -= 1 }
                        let sources = (known[blob.digest] ?? []).filter { $0.registry == registry && $0.repository != repository }.map(\.repository)
                        uploads.addTask { try await self.uploadBlob(blob, to: repository, client: client, mountSources: sources, bodies: bodies) }
                        running += 1
                    }
                    try await uploads.waitForAll()
                }
            }
            try await group.waitForAll()
        }
    }

    private func uploadBlob(_ blob: Descriptor, to repository: String, client: RegistryClient, mountSources: [String], bodies: UploadSlots) async throws {
        let name = "\(client.registry)/\(repository)"
        for source in mountSources {
            if (try? await client.mountBlob(blob.digest, into: repository, from: source)) == true {
                onEvent?(.blobMounted(repository: name, descriptor: blob, from: source))
                return
            }
        }
        let source = try await localCopy(of: blob)
        onEvent?(.blobUploadStarted(repository: name, descriptor: blob))
        var progress: (@Sendable (Int64) -> Void)?
        if let report = onEvent {
            progress = { bytes in report(.blobProgress(repository: name, descriptor: blob, bytes: bytes)) }
        }
        try await client.uploadBlob(blob, from: source.blobURL(blob.digest), to: repository, chunkSize: options.chunkSize, bodySlots: bodies, progress: progress)
        onEvent?(.blobUploaded(repository: name, descriptor: blob))
    }
}

extension Pusher {
    /// The store holding a blob to upload: the pushed store, else the blob cache, else the blob
    /// is downloaded from one of its `blobSources` into the cache (verified on the way).
    func localCopy(of blob: Descriptor) async throws -> ContentStore {
        if store.contains(blob.digest) { return store }
        let cache = options.blobCache ?? store
        if cache.contains(blob.digest), (try? cache.verify(blob.digest)) == true { return cache }
        let sources = options.blobSources[blob.digest] ?? []
        guard !sources.isEmpty else { throw RegistryError.io(OCIError.blobMissing(blob.digest).description) }
        let puller = fetcher.withLock { fetcher -> ImagePuller in
            if let existing = fetcher { return existing }
            let made = ImagePuller(store: cache, transport: transport, credentials: credentials,
                                   options: PullOptions(retry: options.retry, jobs: options.jobs), onEvent: options.onFetch)
            fetcher = made
            return made
        }
        var lastError: Error = RegistryError.io(OCIError.blobMissing(blob.digest).description)
        for source in sources {
            do {
                try await puller.fetchBlob(blob, from: source)
                return cache
            } catch let error as RegistryError where error == .cancelled {
                throw error
            } catch {
                lastError = error
            }
        }
        throw lastError
    }
}

/// The content reachable from a root, read from the store once: every blob (configs and
/// layers, deduplicated, in first-seen order) and every manifest below the root in an order
/// where children come before the indexes that list them.
struct ImageGraph {
    var blobs: [Descriptor] = []
    var manifests: [Descriptor] = []
    var content: [Digest: Data] = [:]
    /// The config and layers of each image manifest.
    var blobsOf: [Digest: [Descriptor]] = [:]

    init(root: Descriptor, store: ContentStore) throws {
        var seenBlobs = Set<Digest>()
        try visit(root, store: store, isRoot: true, seenBlobs: &seenBlobs, depth: 0)
    }

    private mutating func visit(_ descriptor: Descriptor, store: ContentStore, isRoot: Bool, seenBlobs: inout Set<Digest>, depth: Int) throws {
        guard depth < 8 else { throw RegistryError.io("image index nesting deeper than 8 levels at \(descriptor.digest)") }
        if content[descriptor.digest] != nil { return }
        let data: Data
        do { data = try store.read(descriptor.digest) } catch let error as OCIError { throw RegistryError.io(error.description) }
        guard Int64(data.count) == descriptor.size else {
            throw RegistryError.io("\(descriptor.digest) in the content store has \(data.count) bytes, its descriptor says \(descriptor.size)")
        }
        content[descriptor.digest] = data
        let mediaType = Self.mediaType(of: descriptor, data: data)
        if MediaType.isIndex(mediaType) {
            let index: Index
            do { index = try CanonicalJSON.decode(Index.self, from: data, what: "index \(descriptor.digest)") } catch let error as OCIError { throw RegistryError.io(error.description) }
            for child in index.manifests {
                try visit(child, store: store, isRoot: false, seenBlobs: &seenBlobs, depth: depth + 1)
            }
        } else if MediaType.isManifest(mediaType) {
            let manifest: Manifest
            do { manifest = try CanonicalJSON.decode(Manifest.self, from: data, what: "manifest \(descriptor.digest)") } catch let error as OCIError { throw RegistryError.io(error.description) }
            blobsOf[descriptor.digest] = [manifest.config] + manifest.layers
            for blob in [manifest.config] + manifest.layers where seenBlobs.insert(blob.digest).inserted {
                blobs.append(blob)
            }
        } else {
            throw RegistryError.io("\(descriptor.digest) has media type '\(mediaType)', which is neither an image manifest nor an index")
        }
        if !isRoot { manifests.append(descriptor) }
    }

    /// The blobs the given manifests reference (indexes reference none directly).
    func blobs(neededBy manifests: [Descriptor]) -> Set<Digest> {
        Set(manifests.flatMap { blobsOf[$0.digest] ?? [] }.map(\.digest))
    }

    /// The descriptor's media type, or the document's own `mediaType` field when the
    /// descriptor lacks one.
    static func mediaType(of descriptor: Descriptor, data: Data) -> String {
        if !descriptor.mediaType.isEmpty { return descriptor.mediaType }
        struct Probe: Decodable { var mediaType: String? }
        return (try? JSONDecoder().decode(Probe.self, from: data))?.mediaType ?? ""
    }
}
