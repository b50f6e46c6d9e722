import Foundation
import Layers
import OCI

/// Where `FROM IMAGE` and `COPY --from=IMAGE` images come from when they are neither a stage
/// nor a named context: a registry, through the command line's puller.
public protocol BaseImageResolver: Sendable {
    /// Resolves a reference for a platform and stores its manifest and config (not its layers).
    func resolve(_ reference: String, platform: Platform) throws -> ResolvedBase
    /// Stores one layer blob of a resolved image (verified against its digest).
    func fetchLayer(_ descriptor: Descriptor, of reference: String) throws
}

/// A resolved base image: what FROM inherits and what its annotations record.
public struct ResolvedBase: Sendable {
    /// The normalised reference (`docker.io/library/alpine:3.20`).
    public var name: String
    public var manifestDigest: Digest
    public var manifest: Manifest
    public var config: ImageConfig

    public init(name: String, manifestDigest: Digest, manifest: Manifest, config: ImageConfig) {
        self.name = name
        self.manifestDigest = manifestDigest
        self.manifest = manifest
        self.config = config
    }
}

/// An image used as a base or `COPY --from` source. Its file tree is built only when
/// something reads it (COPY into the stage, COPY --from it, a local export), so a FROM whose
/// stage only changes the config downloads no layer.
struct BaseImage: Sendable {
    var name: String
    var config: ImageConfig
    var layers: [Descriptor]
    var manifestDigest: Digest
    /// The registry reference the layers can be fetched or mounted from (nil for layouts).
    var source: String?
    let loadTree: @Sendable () throws -> FileTree
}

/// Loads base images from OCI layouts (`--build-context NAME=oci-layout://PATH[:TAG|@DIGEST]`)
/// or registries: picks the manifest for the wanted platform, verifies every blob against its
/// digest, keeps layers unchanged (never recompressed), and reconstructs the file tree with
/// whiteouts applied when it is needed.
final class BaseImages: @unchecked Sendable {
    private let store: ContentStore
    private let scratch: String
    private let resolver: (any BaseImageResolver)?
    private var cache: [String: BaseImage] = [:]
    private var trees: [Digest: FileTree] = [:]
    private let lock = NSLock()

    init(store: ContentStore, scratch: String, resolver: (any BaseImageResolver)?) {
        self.store = store
        self.scratch = scratch
        self.resolver = resolver
    }

    var canResolveRegistryImages: Bool { resolver != nil }

    func load(layout path: String, reference: String?, platform: Platform, name: String) throws -> BaseImage {
        try cached("layout\u{0}\(path)\u{0}\(reference ?? "")\u{0}\(platform)") {
            do {
                return try loadLayout(path, reference: reference, platform: platform, name: name)
            } catch let error as OCIError {
                throw BuildError("image '\(name)' from oci-layout://\(path): \(error)")
            }
        }
    }

    func load(registry reference: String, platform: Platform) throws -> BaseImage {
        guard let resolver else {
            throw BuildError("'\(reference)' is a registry image, and this build has no registry access")
        }
        return try cached("registry\u{0}\(reference)\u{0}\(platform)") {
            let resolved = try resolver.resolve(reference, platform: platform)
            try check(resolved.manifest, resolved.config, digest: resolved.manifestDigest, platform: platform)
            let layers = resolved.manifest.layers
            return BaseImage(name: resolved.name, config: resolved.config, layers: layers, manifestDigest: resolved.manifestDigest,
                             source: resolved.name, loadTree: { [self] in
                                 for layer in layers where !store.contains(layer.digest) {
                                     try resolver.fetchLayer(layer, of: resolved.name)
                                 }
                                 return try tree(of: layers, image: resolved.manifestDigest)
                             })
        }
    }

    /// Makes sure every layer of a registry base is in the store (for exports that contain it).
    func fetchLayers(of image: BaseImage) throws {
        guard let resolver, let source = image.source else { return }
        for layer in image.layers where !store.contains(layer.digest) {
            try resolver.fetchLayer(layer, of: source)
        }
    }

    private func cached(_ key: String, _ make: () throws -> BaseImage) throws -> BaseImage {
        lock.lock()
        if let hit = cache[key] { lock.unlock(); return hit }
        lock.unlock()
        let image = try make()
        lock.lock()
        cache[key] = image
        lock.unlock()
        return image
    }

    private func check(_ manifest: Manifest, _ config: ImageConfig, digest: Digest, platform: Platform) throws {
        guard platform.matches(config.platform) || config.platform.matches(platform) else {
            throw OCIError.invalidLayout("no \(platform) manifest; it has: \(config.platform)")
        }
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw OCIError.invalidLayout("manifest \(digest) has \(manifest.layers.count) layers but its config lists \(config.rootfs.diffIDs.count) diff_ids")
        }
    }

    private func loadLayout(_ path: String, reference: String?, platform: Platform, name: String) throws -> BaseImage {
        let layout = try OCILayoutReader(path: path)
        var descriptor = try layout.select(reference: reference)
        if MediaType.isIndex(descriptor.mediaType) {
            let index = try CanonicalJSON.decode(Index.self, from: try layout.read(descriptor.digest), what: "image index \(descriptor.digest)")
            let candidates = index.manifests.filter { MediaType.isManifest($0.mediaType) }
            guard let match = candidates.first(where: { $0.platform.map { platform.matches($0) } ?? false })
                    ?? (candidates.count == 1 && candidates[0].platform == nil ? candidates[0] : nil) else {
                let available = candidates.compactMap { $0.platform?.description }.joined(separator: ", ")
                throw OCIError.invalidLayout("no \(platform) manifest; it has: \(available.isEmpty ? "none" : available)")
            }
            descriptor = match
        }
        let manifest = try CanonicalJSON.decode(Manifest.self, from: try layout.read(descriptor.digest), what: "manifest \(descriptor.digest)")
        let config = try CanonicalJSON.decode(ImageConfig.self, from: try layout.read(manifest.config.digest),
                                              what: "image config \(manifest.config.digest)")
        try check(manifest, config, digest: descriptor.digest, platform: platform)
        for layer in manifest.layers { try layout.copyBlob(layer.digest, into: store) }
        let layers = manifest.layers
        let digest = descriptor.digest
        return BaseImage(name: name, config: config, layers: layers, manifestDigest: digest, source: nil,
                         loadTree: { [self] in try tree(of: layers, image: digest) })
    }

    /// Applies the layers in order (whiteouts included) into a file tree, once per image.
    private func tree(of layers: [Descriptor], image: Digest) throws -> FileTree {
        lock.lock()
        if let hit = trees[image] { lock.unlock(); return hit }
        lock.unlock()
        var tree = FileTree()
        for layer in layers {
            let directory = scratch + "/base-\(layer.digest.hex)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let entries: [LayerEntry]
            do {
                entries = try ArchiveExtractor.extract(store.blobURL(layer.digest).path, into: directory, maxBytes: Contexts.maxArchiveBytes)
            } catch {
                throw BuildError("cannot read base layer \(layer.digest): \(error)")
            }
            var regular: [LayerEntry] = []
            for entry in entries {
                if ContextPath.basename(entry.path).hasPrefix(".wh.") { tree.whiteout(entry.path) } else { regular.append(entry) }
            }
            tree.apply(regular)
        }
        tree.lineage = "base:\(image)"
        lock.lock()
        trees[image] = tree
        lock.unlock()
        return tree
    }
}
