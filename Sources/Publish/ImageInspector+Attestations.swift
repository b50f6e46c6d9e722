import Foundation
import OCI
import Registry

/// One in-toto statement attached to an image, as `inspect --provenance|--sbom` shows it.
public struct AttachedStatement: Sendable {
    /// The platform of the image manifest it is about (nil when the registry did not say).
    public var platform: Platform?
    public var subject: Digest
    public var predicateType: String
    /// `index` (BuildKit's attestation manifest in the image index) or `referrers`.
    public var storage: String
    /// The statement's exact bytes (verified against its digest).
    public var statement: Data
}

extension ImageInspector {
    /// The statements whose predicate type starts with `prefix` (`https://slsa.dev/provenance/`,
    /// `https://spdx.dev/Document`), for every platform: from attestation manifests in the
    /// index and from OCI 1.1 referrers of each image manifest (the referrers API, else the
    /// `sha256-<hex>` tag).
    public func statements(predicateTypePrefix prefix: String) async throws -> [AttachedStatement] {
        var images: [Descriptor] = []
        var attestationManifests: [(manifest: Descriptor, subject: Digest)] = []
        if root.isIndex {
            let index = try CanonicalJSON.decode(Index.self, from: root.data, what: "index \(root.descriptor.digest)")
            for entry in index.manifests {
                if entry.isAttestationManifest, let subject = entry.annotations?[AttestationAnnotation.referenceDigest].flatMap({ try? Digest(parsing: $0) }) {
                    attestationManifests.append((entry, subject))
                } else {
                    images.append(entry)
                }
            }
        } else {
            images.append(root.descriptor)
        }
        var platforms: [Digest: Platform] = [:]
        for image in images { platforms[image.digest] = image.platform }
        var found: [AttachedStatement] = []
        for (manifest, subject) in attestationManifests {
            found += try await read(manifest, subject: subject, platform: platforms[subject], storage: "index", prefix: prefix)
        }
        let client = puller.client(for: reference.registry)
        for image in images {
            let referrers = try await client.referrers(of: image.digest, in: reference.repository, artifactType: MediaType.inToto)
            for referrer in referrers {
                found += try await read(referrer, subject: image.digest, platform: image.platform, storage: "referrers", prefix: prefix)
            }
        }
        return found
    }

    private func read(_ descriptor: Descriptor, subject: Digest, platform: Platform?, storage: String, prefix: String) async throws -> [AttachedStatement] {
        var listed = descriptor
        listed.platform = nil
        let fetched = try await puller.manifest(listed, from: reference)
        let manifest = try CanonicalJSON.decode(Manifest.self, from: fetched.data, what: "attestation manifest \(descriptor.digest)")
        var result: [AttachedStatement] = []
        for layer in manifest.layers where layer.mediaType == MediaType.inToto {
            guard let type = layer.annotations?[AttestationAnnotation.predicateType], type.hasPrefix(prefix) else { continue }
            guard layer.size <= 512 << 20 else {
                throw PublishError.failed("the attestation \(layer.digest) is \(layer.size) bytes; refusing to read more than 512 MiB")
            }
            try await puller.fetchBlob(layer, from: reference)
            let data: Data
            do { data = try puller.store.read(layer.digest) } catch { throw PublishError.failed("\(error)") }
            result.append(AttachedStatement(platform: platform, subject: subject, predicateType: type, storage: storage, statement: data))
        }
        return result
    }
}
