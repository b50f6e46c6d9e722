import Foundation
import OCI
import Registry

/// `imagetools create`: one index over images that already are in registries — what a fan-out
/// build merges at the end (each runner pushed its platform by digest). Manifests are listed by
/// their digest, never rewritten, so every platform manifest keeps its digest; only the index is
/// new. No layer is pulled: child manifests already in the target repository vouch for their
/// blobs, blobs in another repository of the target's registry are mounted, and only a source in
/// another registry is streamed through the cache.
public enum ImagetoolsWorkflow {
    public struct Request: Sendable {
        /// `-t`: where the index goes (the first one is the target repository of bare-digest sources).
        public var tags: [String]
        /// References (`REPO:TAG`, `REPO@sha256:…`) or bare digests in the target repository.
        public var sources: [String]
        /// `-f`: files holding a descriptor or an array of descriptors, in the target repository.
        public var descriptorFiles: [String] = []
        /// `--append`: the manifests of what the first tag names now come first.
        public var append = false
        /// `--annotation`: `[index:|manifest-descriptor[os/arch]:]KEY=VALUE`.
        public var annotations: [String] = []
        /// `--dry-run`: build the index and return it without pushing.
        public var dryRun = false
        public var jobs = PushOptions.defaultJobs

        public init(tags: [String], sources: [String]) {
            self.tags = tags
            self.sources = sources
        }
    }

    /// The index made (its descriptor and exact bytes) and, unless a dry run, what was published.
    public struct Outcome: Sendable {
        public var index: Descriptor
        public var data: Data
        public var pushed: [PushedReference]
    }

    public static func create(_ request: Request, registry: RegistrySettings, onEvent: @escaping PublishEventHandler) async throws -> Outcome {
        guard !request.tags.isEmpty else { throw PublishError.invalidArgument("imagetools create needs at least one -t/--tag") }
        let targets = try Publisher.references(request.tags)
        let annotations = try ImagetoolsAnnotations(request.annotations)
        let cacheRun = CacheRun(registry.cache)
        defer { cacheRun.finish(bound: registry.cacheBound, onEvent: onEvent) }
        let session = try RegistrySession(registry)
        let puller = try session.puller(jobs: request.jobs)

        // Descriptor files first, then the sources named on the command line (buildx's order).
        var sources: [ImageReference] = []
        for file in request.descriptorFiles { sources += try descriptorSources(file, in: targets[0]) }
        for text in request.sources { sources.append(try source(text, in: targets[0])) }
        guard !sources.isEmpty || request.append else {
            throw PublishError.invalidArgument("imagetools create needs at least one source image (or --append)")
        }
        if request.append {
            let existing = targets[0]
            do {
                _ = try await puller.resolveRoot(existing)
            } catch let error as RegistryError where error.httpStatus == 404 {
                throw PublishError.invalidArgument("--append: \(existing) does not exist yet; create it without --append")
            }
            sources.insert(existing, at: 0)
        }

        var entries: [Descriptor] = []
        var seen = Set<Digest>()
        var blobSources: [Digest: [ImageReference]] = [:]
        for reference in sources {
            let root = try await puller.resolveRoot(reference)
            let tree = try await puller.fetchManifestTree(root, from: reference)
            for blob in tree.blobs { blobSources[blob.digest, default: []].append(reference) }
            for entry in try await listedManifests(root, from: reference, puller: puller) where seen.insert(entry.digest).inserted {
                entries.append(entry)
            }
        }
        entries = try annotations.apply(to: entries)

        let allDocker = entries.allSatisfy { $0.mediaType == MediaType.dockerManifest }
        if allDocker, annotations.index != nil {
            throw PublishError.invalidArgument("index annotations need an OCI index, and every source is a Docker schema 2 manifest (which a Docker manifest list cannot annotate)")
        }
        var index = Index(manifests: entries, annotations: annotations.index)
        if allDocker { index.mediaType = MediaType.dockerManifestList }
        let data = try CanonicalJSON.encode(index)
        let descriptor = try puller.store.put(data, mediaType: index.mediaType ?? MediaType.imageIndex)
        if request.dryRun { return Outcome(index: descriptor, data: data, pushed: []) }

        var options = registry.pushOptions(jobs: request.jobs)
        options.blobSources = blobSources
        options.blobCache = puller.store
        options.onFetch = { onEvent(.pull($0)) }
        let pushed = try await Publisher(session: session, onEvent: onEvent).publish(descriptor, from: puller.store, to: targets, options: options)
        return Outcome(index: descriptor, data: data, pushed: pushed)
    }

    /// A source as written, or a bare `sha256:…` digest in the target repository (buildx's form).
    static func source(_ text: String, in target: ImageReference) throws -> ImageReference {
        if let digest = try? Digest(parsing: text) { return target.with(tag: nil, digest: digest) }
        do { return try ImageReference(parsing: text) } catch { throw PublishError.invalidArgument("source '\(text)': \(error)") }
    }

    /// `-f FILE`: a descriptor (`{"mediaType", "digest", "size"}`) or an array of them, each an
    /// image in the target repository.
    static func descriptorSources(_ file: String, in target: ImageReference) throws -> [ImageReference] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw PublishError.invalidArgument("cannot read descriptor file '\(file)': \(error.localizedDescription)")
        }
        let descriptors: [Descriptor]
        if let many = try? JSONDecoder().decode([Descriptor].self, from: data) {
            descriptors = many
        } else if let one = try? JSONDecoder().decode(Descriptor.self, from: data) {
            descriptors = [one]
        } else {
            throw PublishError.invalidArgument("'\(file)' holds neither a descriptor nor an array of descriptors ({\"mediaType\", \"digest\", \"size\"})")
        }
        return descriptors.map { target.with(tag: nil, digest: $0.digest) }
    }

    /// The index entries a source contributes: an index's own entries (platforms and
    /// annotations as listed), or one entry for a single manifest, its platform read from its config.
    static func listedManifests(_ root: FetchedManifest, from reference: ImageReference, puller: ImagePuller) async throws -> [Descriptor] {
        if root.isIndex {
            let index = try CanonicalJSON.decode(Index.self, from: root.data, what: "index \(reference)")
            return index.manifests
        }
        let manifest = try CanonicalJSON.decode(Manifest.self, from: root.data, what: "manifest \(reference)")
        var entry = root.descriptor
        entry.annotations = nil
        if let config = try? CanonicalJSON.decode(ImageConfig.self, from: try await puller.smallBlob(manifest.config, from: reference), what: "config of \(reference)") {
            entry.platform = config.platform
        }
        return [entry]
    }
}
