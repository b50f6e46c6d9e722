import Foundation
import Layers
import OCI

/// An image used as a base or `COPY --from` source, with its layers already in our store.
struct BaseImage: Sendable {
    var config: ImageConfig
    var layers: [Descriptor]
    var manifestDigest: Digest
    var tree: FileTree
}

/// Loads images from OCI layouts (`--build-context NAME=oci-layout://PATH[:TAG|@DIGEST]`):
/// picks the manifest for the wanted platform, verifies every blob against its digest,
/// copies blobs into the build's store unchanged (never recompressed), and reconstructs
/// the file tree with whiteouts applied for COPY --from and --chown look-ups.
final class BaseImages: @unchecked Sendable {
    private let store: ContentStore
    private let scratch: String
    private var cache: [String: BaseImage] = [:]
    private let lock = NSLock()

    init(store: ContentStore, scratch: String) {
        self.store = store
        self.scratch = scratch
    }

    func load(layout path: String, reference: String?, platform: Platform, name: String) throws -> BaseImage {
        let key = "\(path)\u{0}\(reference ?? "")\u{0}\(platform)"
        lock.lock()
        if let hit = cache[key] { lock.unlock(); return hit }
        lock.unlock()
        let image: BaseImage
        do {
            image = try loadUncached(layout: path, reference: reference, platform: platform)
        } catch let error as OCIError {
            throw BuildError("image '\(name)' from oci-layout://\(path): \(error)")
        }
        lock.lock()
        cache[key] = image
        lock.unlock()
        return image
    }

    private func loadUncached(layout path: String, reference: String?, platform: Platform) throws -> BaseImage {
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
        let configData = try layout.read(manifest.config.digest)
        let config = try CanonicalJSON.decode(ImageConfig.self, from: configData, what: "image config \(manifest.config.digest)")
        guard platform.matches(config.platform) || config.platform.matches(platform) else {
            throw OCIError.invalidLayout("no \(platform) manifest; it has: \(config.platform)")
        }
        guard config.rootfs.diffIDs.count == manifest.layers.count else {
            throw OCIError.invalidLayout("manifest \(descriptor.digest) has \(manifest.layers.count) layers but its config lists \(config.rootfs.diffIDs.count) diff_ids")
        }
        var tree = FileTree()
        for layer in manifest.layers {
            try layout.copyBlob(layer.digest, into: store)
            let directory = scratch + "/base-\(layer.digest.hex)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let entries = try ArchiveExtractor.extract(store.blobURL(layer.digest).path, into: directory, maxBytes: Contexts.maxArchiveBytes)
            var regular: [LayerEntry] = []
            for entry in entries {
                let name = ContextPath.basename(entry.path)
                if name.hasPrefix(".wh.") { tree.whiteout(entry.path) } else { regular.append(entry) }
            }
            tree.apply(regular)
        }
        return BaseImage(config: config, layers: manifest.layers, manifestDigest: descriptor.digest, tree: tree)
    }
}
