import Builder
import Foundation
import OCI
import Registry

/// Gives the builder registry images (FROM alpine, COPY --from=IMAGE) through the puller:
/// manifests, configs and layers verified and kept in slipway's cache.
struct RegistryBaseResolver: BaseImageResolver {
    let puller: ImagePuller

    func resolve(_ reference: String, platform: Platform) async throws -> ResolvedBase {
        let parsed = try ImageReference(parsing: reference)
        let image = try await puller.resolve(parsed, platform: platform)
        return ResolvedBase(name: parsed.description, manifestDigest: image.manifestDescriptor.digest,
                            manifest: image.manifest, config: image.config)
    }

    func fetchLayers(_ layers: [Descriptor], of reference: String, into store: ContentStore) async throws {
        try await puller.copyBlobs(layers, from: try ImageReference(parsing: reference), into: store)
    }
}
