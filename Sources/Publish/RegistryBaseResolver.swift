import Builder
import Foundation
import OCI
import Registry

/// Gives the builder registry images (FROM alpine, COPY --from=IMAGE) through the puller:
/// manifests, configs and layers verified and kept in slipway's cache. Images of a registry
/// with mirrors are looked for at the mirrors first; the base keeps its canonical name (what
/// the annotations record) while its layers come from where it was found.
struct RegistryBaseResolver: BaseImageResolver {
    let puller: ImagePuller
    var mirrors = RegistryMirrors()
    var onWarning: (@Sendable (String) -> Void)?

    func resolve(_ reference: String, platform: Platform) async throws -> ResolvedBase {
        let parsed = try ImageReference(parsing: reference)
        var failures: [String] = []
        for candidate in mirrors.candidates(for: parsed) {
            do {
                let image = try await puller.resolve(candidate, platform: platform)
                return ResolvedBase(name: parsed.description, manifestDigest: image.manifestDescriptor.digest,
                                    manifest: image.manifest, config: image.config, source: candidate.description)
            } catch let error as RegistryError {
                // A missing platform is the image's answer, not the mirror's failure.
                if case .platformNotFound = error { throw error }
                failures.append(Self.failure(error, at: candidate))
            } catch {
                failures.append(Self.failure(error, at: candidate))
            }
        }
        if !failures.isEmpty {
            guard mirrors.fallback else {
                throw PublishError.failed("cannot pull \(parsed) through its mirror (\(failures.joined(separator: "; "))); "
                                          + "slipway does not fall back to \(parsed.registry) unless --mirror-fallback is given")
            }
            onWarning?("mirror failed for \(parsed) (\(failures.joined(separator: "; "))); pulling from \(parsed.registry) (--mirror-fallback)")
        }
        let image = try await puller.resolve(parsed, platform: platform)
        return ResolvedBase(name: parsed.description, manifestDigest: image.manifestDescriptor.digest,
                            manifest: image.manifest, config: image.config)
    }

    /// The error, naming the mirror when it does not already.
    static func failure(_ error: any Error, at mirror: ImageReference) -> String {
        let text = "\(error)"
        return text.contains(mirror.registry) ? text : "\(mirror.registry): \(text)"
    }

    func fetchLayers(_ layers: [Descriptor], of reference: String, into store: ContentStore) async throws {
        try await puller.copyBlobs(layers, from: try ImageReference(parsing: reference), into: store)
    }
}
