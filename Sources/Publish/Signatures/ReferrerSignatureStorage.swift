import Foundation
import OCI
import Registry
import Signing

/// cosign's OCI 1.1 signature storage (`--registry-referrers-mode=oci-1-1`), for
/// `--attest-mode=referrers`: each signature image is a referrer of the signed manifest
/// (`CosignSignatureReferrer`), listed by the registry's referrers API or, where the registry
/// has none (Debian's docker-registry 2.8, ECR before it had one), by the `sha256-<hex>`
/// fallback tag index that `RegistryClient.pushReferrer` keeps.
///
/// Adding a signature pushes a new referrer holding the signatures already stored as
/// referrers plus the new one, as cosign accumulates them: cosign's verifier reads only the
/// last listed referrer, so every key's signature stays verifiable by cosign too. Reading
/// takes every signature referrer (deduplicated), so older ones count as well.
final class ReferrerSignatureStorage: SignatureStorage {
    let session: RegistrySession
    let clients: SignatureClients
    /// At most this many signature referrers of one digest are read.
    static let referrerLimit = 100

    init(session: RegistrySession, clients: SignatureClients? = nil) {
        self.session = session
        self.clients = clients ?? SignatureClients(session: session)
    }

    func signatures(of digest: Digest, in repository: ImageReference) async throws -> StoredSignatures {
        let client = clients.client(for: repository.registry)
        var stored = StoredSignatures(location: "signature referrers of \(repository.registry)/\(repository.repository)@\(digest)")
        let listed = try await client.referrers(of: digest, in: repository.repository, artifactType: CosignSignatureReferrer.artifactType)
        guard !listed.isEmpty else { return stored }
        guard listed.count <= Self.referrerLimit else {
            throw PublishError.failed("\(stored.location): \(listed.count) signature referrers, more than the \(Self.referrerLimit) slipway reads")
        }
        var layers: [Descriptor] = []
        var seen: Set<String> = []
        for entry in listed {
            let fetched = try await client.fetchManifest(entry.digest.description, in: repository.repository, size: entry.size)
            guard MediaType.isManifest(fetched.descriptor.mediaType),
                  let manifest = try? CanonicalJSON.decode(Manifest.self, from: fetched.data, what: "signature referrer") else {
                stored.unreadable.append((entry, "referrer \(entry.digest.short) is not an image manifest"))
                continue
            }
            guard manifest.subject?.digest == digest else {
                stored.unreadable.append((entry, "referrer \(entry.digest.short) names subject \(manifest.subject?.digest.description ?? "none"), not this image (\(digest))"))
                continue
            }
            // The layers of all referrers, each signature once (a newer referrer repeats older ones).
            for layer in CosignSignatureImage.signatureLayers(of: manifest)
            where seen.insert(layer.digest.description + " " + (layer.annotations?[CosignSignatureImage.signatureAnnotation] ?? "")).inserted {
                layers.append(layer)
            }
            guard layers.count <= CosignTagStorage.signatureLimit else {
                throw PublishError.failed("\(stored.location) hold more than the \(CosignTagStorage.signatureLimit) signatures slipway reads")
            }
        }
        stored.manifest = Manifest(config: Descriptor(mediaType: CosignSignatureReferrer.artifactType, digest: Digest.sha256(of: Data()), size: 0), layers: layers)
        try await SignaturePayloads.read(layers, from: client, in: repository, into: &stored)
        return stored
    }

    func append(_ signature: CosignSignatureImage.Signature, to existing: StoredSignatures, of digest: Digest,
                in repository: ImageReference) async throws -> String {
        // The subject as the registry serves it: media type and size are part of the referrer.
        let subject = try await clients.client(for: repository.registry).fetchManifest(digest.description, in: repository.repository).descriptor
        // Only signatures whose payload was read are carried over: the new referrer's blobs must all exist.
        let built = try CosignSignatureReferrer.build(layers: existing.signatures.map(\.layer) + [signature.layer], subject: subject)
        let target = repository.with(tag: nil, digest: nil)
        try await clients.pushSignatureImage(built, payloads: existing, adding: signature, to: target)
        let indexing = try await clients.client(for: repository.registry)
            .pushReferrer(built.manifest, descriptor: built.manifestDescriptor, subject: digest, in: repository.repository)
        let how: String
        switch indexing {
        case .referrersAPI: how = "OCI referrer"
        case .fallbackTag(let tag): how = "OCI referrer, listed in :\(tag)"
        }
        return "\(target)@\(built.manifestDescriptor.digest) (\(how))"
    }
}
