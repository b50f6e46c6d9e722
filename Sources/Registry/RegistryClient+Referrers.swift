import Foundation
import HTTP
import OCI

/// How a referrer ended up findable: through the registry's referrers API, or through the
/// `sha256-<hex>` tag index OCI 1.1 prescribes for registries without it.
public enum ReferrerIndexing: Sendable, Equatable {
    /// The registry answered the manifest PUT with `OCI-Subject`: it indexes referrers itself.
    case referrersAPI
    /// The registry ignored `subject`: the referrer was added to the index tagged `tag`.
    case fallbackTag(String)
}

/// OCI 1.1 referrers (distribution-spec "Listing Referrers"): manifests that carry a
/// `subject` (attestations, signatures, SBOMs) attached to an image without changing it.
/// Registries with the referrers API index them on PUT and list them under
/// `GET /v2/<name>/referrers/<digest>`; for the others a client maintains an image index
/// under the tag `sha256-<hex of the subject>` (the "referrers tag schema"), which is what
/// oras, cosign (OCI 1.1 mode) and notation read there. Both directions live here, so
/// attestations and signatures share them.
extension RegistryClient {
    /// The referrers tag schema: `sha256:abc…` → `sha256-abc…`.
    public static func referrersFallbackTag(for subject: Digest) -> String {
        "\(subject.algorithm.rawValue)-\(subject.hex)"
    }

    /// Pushes a manifest that has a `subject` (by digest; its blobs must be in the
    /// repository already) and makes sure it can be found: when the registry does not answer
    /// with `OCI-Subject`, the fallback tag index is read, the referrer added (once: an entry
    /// with the same digest is not repeated) and written back.
    ///
    /// `descriptor` is the entry to list: media type, digest, size, `artifactType` and the
    /// manifest's annotations, as the referrers API would list it.
    @discardableResult
    public func pushReferrer(_ data: Data, descriptor: Descriptor, subject: Digest, in repository: String) async throws -> ReferrerIndexing {
        guard Digest.sha256(of: data) == descriptor.digest else {
            throw RegistryError.digestMismatch(what: "referrer for \(subject)", expected: descriptor.digest, actual: Digest.sha256(of: data).description)
        }
        let answer = try await putManifestAnswering(data, mediaType: descriptor.mediaType, reference: descriptor.digest.description, in: repository)
        // A registry with the referrers API answers with `OCI-Subject` and keeps the list itself.
        let indexed = answer.headers["OCI-Subject"].map { !$0.isEmpty } ?? false
        if indexed { return .referrersAPI }
        let tag = Self.referrersFallbackTag(for: subject)
        var index = try await fallbackIndex(tag, in: repository) ?? Index(manifests: [])
        if !index.manifests.contains(where: { $0.digest == descriptor.digest }) {
            var entry = descriptor
            entry.platform = nil
            index.manifests.append(entry)
            let bytes = try CanonicalJSON.encode(index)
            try await putManifest(bytes, mediaType: MediaType.imageIndex, reference: tag, in: repository)
        }
        return .fallbackTag(tag)
    }

    /// The referrers of `subject`: from `GET /v2/<name>/referrers/<digest>` when the registry
    /// has that API, else from the fallback tag index (empty when neither exists). Filtered
    /// by `artifactType` here, whether or not the registry applied the filter.
    public func referrers(of subject: Digest, in repository: String, artifactType: String? = nil) async throws -> [Descriptor] {
        let listed: [Descriptor]
        if let fromAPI = try await referrersFromAPI(subject, in: repository) {
            listed = fromAPI
        } else {
            listed = try await fallbackIndex(Self.referrersFallbackTag(for: subject), in: repository)?.manifests ?? []
        }
        guard let artifactType else { return listed }
        return listed.filter { $0.artifactType == artifactType }
    }

    /// nil when the registry has no referrers API (404, or an answer that is not an index).
    private func referrersFromAPI(_ subject: Digest, in repository: String) async throws -> [Descriptor]? {
        let what = "GET referrers of \(subject) in \(repository)"
        return try await retry.run(what, onRetry: retryReporter(what)) {
            let url = try await self.url("/v2/\(repository)/referrers/\(subject)")
            let request = HTTPRequest(method: "GET", url: url, headers: ["Accept": MediaType.imageIndex],
                                      sink: .memory(limit: ResponseSink.manifestLimit))
            let response = try await self.send(request, scopes: [Self.pullScope(repository)], operation: what)
            switch response.status {
            case 200:
                guard let index = try? CanonicalJSON.decode(Index.self, from: response.body, what: what) else { return nil }
                return index.manifests
            case 404, 400, 405, 501:
                return nil
            default:
                throw self.statusError(what, response)
            }
        }
    }

    /// The index under a fallback tag; nil when the tag does not exist.
    private func fallbackIndex(_ tag: String, in repository: String) async throws -> Index? {
        guard try await manifestExists(tag, in: repository, accept: [MediaType.imageIndex]) != nil else { return nil }
        let fetched = try await fetchManifest(tag, in: repository)
        guard MediaType.isIndex(fetched.descriptor.mediaType) else {
            throw RegistryError.protocolViolation(registry: registry, detail: "the referrers tag \(repository):\(tag) is a \(fetched.descriptor.mediaType), not an image index; remove it or push with --attest-mode=index")
        }
        do {
            return try CanonicalJSON.decode(Index.self, from: fetched.data, what: "referrers index \(repository):\(tag)")
        } catch {
            throw RegistryError.protocolViolation(registry: registry, detail: "\(error)")
        }
    }
}
