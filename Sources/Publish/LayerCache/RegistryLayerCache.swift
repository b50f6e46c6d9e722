import Builder
import Foundation
import OCI
import Registry

/// `--cache-from type=registry,ref=REF`: a slipway cache artifact, or an image (single or
/// multi-platform) whose layers carry their keys (`--cache-to type=inline`). Its manifest and
/// config are fetched verified; a layer is taken only after its blob is fetched and verified
/// (when the build needs the bytes) or the registry confirms it holds the blob by digest and
/// size (a push alone, which then skips or mounts it).
struct RegistryLayerCacheSource: LayerCacheSource {
    let reference: ImageReference
    let puller: ImagePuller

    var description: String { reference.description }
    var mountSource: String? { reference.with(tag: nil, digest: nil).description }

    func loadEntries() async throws -> [LayerCacheEntry] {
        let root = try await puller.resolveRoot(reference)
        if MediaType.isIndex(root.descriptor.mediaType) {
            let index = try CanonicalJSON.decode(Index.self, from: root.data, what: "index \(reference)")
            var entries: [LayerCacheEntry] = []
            for child in index.manifests where MediaType.isManifest(child.mediaType) {
                entries += try await manifestEntries(try await puller.manifest(child, from: reference))
            }
            return entries
        }
        return try await manifestEntries(root)
    }

    private func manifestEntries(_ fetched: FetchedManifest) async throws -> [LayerCacheEntry] {
        let manifest = try CanonicalJSON.decode(Manifest.self, from: fetched.data, what: "manifest \(reference)")
        let config = try await puller.smallBlob(manifest.config, from: reference)
        if LayerCacheArtifact.isCache(manifest) {
            return try LayerCacheArtifact.entries(of: manifest, config: config, what: reference.description)
        }
        let imageConfig = try CanonicalJSON.decode(ImageConfig.self, from: config, what: "config of \(reference)")
        return LayerCacheArtifact.inlineEntries(of: manifest, config: imageConfig)
    }

    func obtain(_ entry: LayerCacheEntry, into store: ContentStore, needBytes: Bool) async throws -> LayerCacheProvision {
        if store.contains(entry.digest), store.containsVerified(entry.digest) { return .inStore }
        if needBytes {
            try await puller.fetchBlob(entry.descriptor, from: reference)
            if puller.store.root.standardizedFileURL != store.root.standardizedFileURL {
                try store.ingest(copyOf: puller.store.blobURL(entry.digest).path, as: entry.digest, what: "blob of \(reference)")
            }
            return .inStore
        }
        let size = try await puller.client(for: reference.registry).blobExists(entry.digest, in: reference.repository)
        guard let mountSource, size == entry.size else { return .missing }
        return .remote(mountSource)
    }
}

/// `--cache-to type=registry,ref=REF`: the artifact is pushed like an image (blobs first, each
/// HEAD-checked, skipped or mounted from the image just pushed or from the cache it came from,
/// then the manifest under the tag). Push events go to progress only: stdout keeps the image's
/// result lines.
enum RegistryLayerCacheExport {
    static func export(_ entries: [LayerCacheEntry], to reference: ImageReference, store: ContentStore, session: RegistrySession,
                       options: PushOptions, onEvent: @escaping PublishEventHandler) async throws -> Digest {
        let root = try LayerCacheArtifact.store(entries, in: store)
        let pusher = Pusher(store: store, transport: session.transport, credentials: session.credentials, options: options,
                            onEvent: { onEvent(.push($0)) })
        _ = try await pusher.push(root, to: [reference])
        return root.digest
    }
}
