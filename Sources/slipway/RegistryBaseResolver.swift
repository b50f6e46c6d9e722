import Builder
import Foundation
import OCI
import Registry

/// Gives the builder registry images (FROM alpine, COPY --from=IMAGE) through the puller:
/// manifests, configs and layers verified and kept in slipway's cache.
struct RegistryBaseResolver: BaseImageResolver {
    let puller: ImagePuller

    func resolve(_ reference: String, platform: Platform) throws -> ResolvedBase {
        let parsed = try ImageReference(parsing: reference)
        let image = try puller.resolveBlocking(parsed, platform: platform)
        return ResolvedBase(name: parsed.description, manifestDigest: image.manifestDescriptor.digest,
                            manifest: image.manifest, config: image.config)
    }

    func fetchLayer(_ descriptor: Descriptor, of reference: String) throws {
        try puller.fetchBlobBlocking(descriptor, from: try ImageReference(parsing: reference))
    }
}
