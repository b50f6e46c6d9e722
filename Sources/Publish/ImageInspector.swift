import Foundation
import OCI
import Registry

/// What `inspect` shows of a reference: the root (index or manifest) and, per manifest, its
/// descriptor, the manifest and the image config when they are readable. Everything read is
/// verified against its digest and kept in the cache.
public struct ImageInspection: Sendable {
    public struct Entry: Sendable {
        /// The index entry naming the manifest (platform, annotations); the root itself for a
        /// single manifest.
        public var listed: Descriptor
        /// The manifest as fetched (its media type, digest and size as served).
        public var descriptor: Descriptor
        public var isIndex: Bool
        /// nil for a nested index or a manifest that does not decode.
        public var manifest: Manifest?
        /// nil unless the config is an image config that decodes.
        public var config: ImageConfig?
    }

    public var reference: ImageReference
    public var root: Descriptor
    public var isIndex: Bool
    public var indexAnnotations: [String: String]?
    public var entries: [Entry]
}

/// Reads a reference from its registry for `inspect`: the root's exact bytes, a platform's
/// manifest or config, or the whole picture.
public struct ImageInspector: Sendable {
    public let reference: ImageReference
    public let root: FetchedManifest
    let puller: ImagePuller
    /// The cache's lease and interruption cleanup while manifests and configs are fetched.
    private let cacheRun: CacheRun

    /// Resolves `text` (a tag or digest reference) to its root.
    /// `onEvent` hears the puller's events (a wait before a retry among them).
    public static func open(_ text: String, registry: RegistrySettings,
                            onEvent: (@Sendable (PullEvent) -> Void)? = nil) async throws -> ImageInspector {
        let reference: ImageReference
        do { reference = try ImageReference(parsing: text) } catch { throw PublishError.invalidArgument("\(error)") }
        let cacheRun = CacheRun(registry.cache)
        let puller = try RegistrySession(registry).puller(onEvent: onEvent)
        return ImageInspector(reference: reference, root: try await puller.resolveRoot(reference), puller: puller, cacheRun: cacheRun)
    }

    /// The exact bytes of the root, or with `platform` of that platform's manifest in an index.
    public func rawManifest(platform: Platform?) async throws -> Data {
        guard let platform, root.isIndex else { return root.data }
        return try await puller.platformManifest(root, platform: platform, from: reference).data
    }

    /// The image config: of `platform`, else of the one image, else of the host's platform.
    public func config(platform: Platform?) async throws -> Data {
        if platform == nil, !root.isIndex {
            // One image: its config, whatever its platform.
            let manifest = try CanonicalJSON.decode(Manifest.self, from: root.data, what: "manifest \(root.descriptor.digest)")
            return try await puller.smallBlob(manifest.config, from: reference)
        }
        let resolved = try await puller.resolve(reference, platform: platform ?? Platform.host)
        return try puller.store.read(resolved.configDescriptor.digest)
    }

    /// Every manifest of the root, with its config.
    public func inspect() async throws -> ImageInspection {
        var inspection = ImageInspection(reference: reference, root: root.descriptor, isIndex: root.isIndex, entries: [])
        var listed: [(Descriptor, FetchedManifest)] = []
        if root.isIndex {
            let index = try CanonicalJSON.decode(Index.self, from: root.data, what: "index \(root.descriptor.digest)")
            inspection.indexAnnotations = index.annotations
            for entry in index.manifests {
                listed.append((entry, try await puller.manifest(entry, from: reference)))
            }
        } else {
            listed.append((root.descriptor, root))
        }
        for (entry, fetched) in listed {
            var item = ImageInspection.Entry(listed: entry, descriptor: fetched.descriptor, isIndex: fetched.isIndex)
            if !fetched.isIndex, let manifest = try? CanonicalJSON.decode(Manifest.self, from: fetched.data, what: "manifest") {
                item.manifest = manifest
                if [MediaType.imageConfig, MediaType.dockerConfig].contains(manifest.config.mediaType),
                   let data = try? await puller.smallBlob(manifest.config, from: reference) {
                    item.config = try? CanonicalJSON.decode(ImageConfig.self, from: data, what: "config")
                }
            }
            inspection.entries.append(item)
        }
        return inspection
    }
}
