import Foundation
import HTTP
import Layers
import OCI

/// Base images' file trees, reconstructed from their layers (whiteouts applied) once per
/// image, when planning first reads them. Layers are read from the store, never the network:
/// they were fetched before planning.
final class BaseTrees: Sendable {
    private let store: ContentStore
    private let scratch: String
    private let trees = Locked<[Digest: FileTree]>([:])

    init(store: ContentStore, scratch: String) {
        self.store = store
        self.scratch = scratch
    }

    func tree(of image: BaseImage) throws -> FileTree {
        if let hit = trees.withLock({ $0[image.manifestDigest] }) { return hit }
        if let failure = image.fetchFailure { throw failure }
        var tree = FileTree()
        for layer in image.layers {
            guard store.contains(layer.digest) else {
                throw BuildError("internal error: layer \(layer.digest) of \(image.name) was not fetched before planning")
            }
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
        tree.lineage = "base:\(image.manifestDigest)"
        trees.withLock { $0[image.manifestDigest] = tree }
        return tree
    }
}
