import Foundation
import OCI
import Registry

/// `copy`: an image or a whole index from a registry (or an OCI layout, `oci:PATH[:TAG]`) to
/// other references, manifests byte for byte so every digest stays. Blobs the target has are
/// skipped, blobs in another repository of the same registry mounted, the rest streamed from
/// the source through the cache.
public enum CopyWorkflow {
    /// `platform`: copy only that platform's manifest out of an index.
    public static func run(source: String, to destinations: [String], platform: Platform?, jobs: Int,
                           registry: RegistrySettings, onEvent: @escaping PublishEventHandler) async throws {
        if source.hasPrefix("oci:") {
            try await fromLayout(String(source.dropFirst(4)), named: source, to: destinations, platform: platform,
                                 jobs: jobs, registry: registry, onEvent: onEvent)
        } else {
            try await fromRegistry(source, to: destinations, platform: platform, jobs: jobs, registry: registry, onEvent: onEvent)
        }
    }

    private static func fromRegistry(_ source: String, to destinations: [String], platform wanted: Platform?, jobs: Int,
                                     registry: RegistrySettings, onEvent: @escaping PublishEventHandler) async throws {
        let sourceRef: ImageReference
        do { sourceRef = try ImageReference(parsing: source) } catch { throw PublishError.invalidArgument("\(error)") }
        let targets = try destinations.map { try destination($0, sourceTag: sourceRef.tag) }
        let cacheRun = CacheRun(registry.cache)
        let session = try RegistrySession(registry)
        let puller = try session.puller(jobs: jobs)
        var root = try await puller.resolveRoot(sourceRef)
        if let wanted {
            if root.isIndex {
                root = try await puller.platformManifest(root, platform: wanted, from: sourceRef)
            } else {
                _ = try await puller.resolve(sourceRef, platform: wanted)
            }
        }
        onEvent(.copying(source: sourceRef.with(tag: sourceRef.tag, digest: root.descriptor.digest).description,
                         mediaType: root.descriptor.mediaType))
        let tree = try await puller.fetchManifestTree(root, from: sourceRef)
        var options = registry.pushOptions(jobs: jobs)
        for blob in tree.blobs { options.blobSources[blob.digest] = [sourceRef] }
        options.blobCache = puller.store
        options.onFetch = { onEvent(.pull($0)) }
        var rootDescriptor = root.descriptor
        rootDescriptor.platform = nil
        _ = try await Publisher(session: session, onEvent: onEvent).publish(rootDescriptor, from: puller.store, to: targets, options: options)
        cacheRun.finish(bound: registry.cacheBound, onEvent: onEvent)
    }

    private static func fromLayout(_ path: String, named source: String, to destinations: [String], platform wanted: Platform?,
                                   jobs: Int, registry: RegistrySettings, onEvent: @escaping PublishEventHandler) async throws {
        let input = try await LayoutInput.open(path)
        defer { input.close() }
        let store = input.store
        var root = input.root
        root.annotations = nil
        if let wanted, MediaType.isIndex(root.mediaType) {
            do {
                let found = try await ImageResolver.platformManifest(try await store.resolveRoot(root.digest), platform: wanted, in: store, root.digest)
                root = found.manifest.descriptor
                root.platform = nil
            } catch ImageSelectionError.platformNotFound(let wanted, let available) {
                throw RegistryError.platformNotFound(reference: source, wanted: wanted, available: available)
            }
        }
        // `oci:PATH:TAG`: destinations without a tag take TAG.
        let named = FileManager.default.fileExists(atPath: path) ? nil : LayoutPath.split(path).reference
        let layoutTag = named.flatMap { $0.hasPrefix("sha256:") ? nil : $0 }
        let targets = try destinations.map { try destination($0, sourceTag: layoutTag) }
        let session = try RegistrySession(registry)
        _ = try await Publisher(session: session, onEvent: onEvent).publish(root, from: store, to: targets, options: registry.pushOptions(jobs: jobs))
    }

    /// A destination reference: as written when it names a tag or digest; otherwise with the
    /// source's tag, or none (copy by digest) when the source had none.
    static func destination(_ text: String, sourceTag tag: String?) throws -> ImageReference {
        let parsed: ImageReference
        do { parsed = try ImageReference(parsing: text) } catch { throw PublishError.invalidArgument("\(error)") }
        let lastComponent = text.split(separator: "/").last.map(String.init) ?? text
        if lastComponent.contains(":") || text.contains("@") { return parsed }
        return parsed.with(tag: tag, digest: nil)
    }
}
