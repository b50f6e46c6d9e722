import Foundation
import OCI

/// An image used as a base or `COPY --from` source. Its file tree is built only when
/// something reads it (COPY into the stage, COPY --from it, a local export), from layers
/// fetched before planning for exactly those images (`StageGraph.imagesReadAsFiles`), so a
/// FROM whose stage only changes the config downloads no layer.
struct BaseImage: Sendable {
    var name: String
    var config: ImageConfig
    var layers: [Descriptor]
    var manifestDigest: Digest
    /// The registry reference the layers can be fetched or mounted from (nil for layouts).
    var source: String?
    /// Why the layers could not be fetched before planning; reported when the tree is read.
    var fetchFailure: (any Error)?
    let trees: BaseTrees

    func loadTree() throws -> FileTree {
        try trees.tree(of: self)
    }
}

/// The images a build uses, resolved before planning (`BaseImages.prepare`).
final class BaseImages: Sendable {
    private let store: ContentStore
    private let resolver: (any BaseImageResolver)?
    /// Each image's resolution, failures included: planning reports a failure where it uses
    /// the image, as it did when it resolved images itself.
    private let images: [ImageRequest: Result<BaseImage, any Error>]

    init(store: ContentStore, resolver: (any BaseImageResolver)?, images: [ImageRequest: Result<BaseImage, any Error>]) {
        self.store = store
        self.resolver = resolver
        self.images = images
    }

    /// A resolved image (or the error its resolution ended with).
    func image(_ request: ImageRequest) throws -> BaseImage {
        guard let result = images[request] else {
            throw BuildError("internal error: image \(request.location) was not resolved before planning")
        }
        return try result.get()
    }

    /// Makes sure every layer of a registry base is in the store (for exports that contain it).
    func fetchLayers(of image: BaseImage) async throws {
        guard let resolver, let source = image.source else { return }
        let missing = image.layers.filter { !store.contains($0.digest) }
        if !missing.isEmpty { try await resolver.fetchLayers(missing, of: source, into: store) }
    }
}
