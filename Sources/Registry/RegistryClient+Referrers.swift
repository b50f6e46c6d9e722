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

    /// At most this many pages of `GET /v2/<name>/referrers/<digest>` are followed (each
    /// bounded like a manifest), whatever `Link` headers a registry sends.
    public static let referrersPageLimit = 64

    /// nil when the registry has no referrers API (404, or a first answer that is not an
    /// index). A registry may split the list into pages (distribution-spec: a `Link` header
    /// with `rel="next"`, as for tag lists): each next page is fetched, on the same registry
    /// only (a `Link` elsewhere is refused, so no token is sent to another host), until a
    /// page has no next one; a loop or more than `referrersPageLimit` pages is an error.
    private func referrersFromAPI(_ subject: Digest, in repository: String) async throws -> [Descriptor]? {
        let what = "GET referrers of \(subject) in \(repository)"
        var next: URL? = try await url("/v2/\(repository)/referrers/\(subject)")
        var seen: Set<String> = []
        var listed: [Descriptor] = []
        while let page = next {
            guard seen.insert(page.absoluteString).inserted else {
                throw RegistryError.protocolViolation(registry: registry, detail: "\(what): the referrers pages link back to \(page.path)")
            }
            guard seen.count <= Self.referrersPageLimit else {
                throw RegistryError.protocolViolation(registry: registry, detail: "\(what): more than \(Self.referrersPageLimit) pages of referrers")
            }
            let answer: (manifests: [Descriptor], link: String?)? = try await retry.run(what, onRetry: retryReporter(what)) {
                let request = HTTPRequest(method: "GET", url: page, headers: ["Accept": MediaType.imageIndex],
                                          sink: .memory(limit: ResponseSink.manifestLimit))
                let response = try await self.send(request, scopes: [Self.pullScope(repository)], operation: what)
                switch response.status {
                case 200:
                    guard let index = try? CanonicalJSON.decode(Index.self, from: response.body, what: what) else { return nil }
                    return (index.manifests, response.headers["Link"])
                case 404, 400, 405, 501:
                    return nil
                default:
                    throw self.statusError(what, response)
                }
            }
            guard let answer else {
                // Not an API on the first page; a later page that is not an index is a broken list.
                if listed.isEmpty && seen.count == 1 { return nil }
                throw RegistryError.protocolViolation(registry: registry, detail: "\(what): page \(seen.count) of the referrers list is not an image index")
            }
            listed += answer.manifests
            next = try answer.link.flatMap { try Self.nextPage($0, after: page, registry: registry, what: what) }
        }
        return listed
    }

    /// The `rel="next"` target of a `Link` header (RFC 8288: `<uri>; rel="next"`, several
    /// links separated by commas), resolved against the page it came with; it must stay on
    /// that page's scheme, host and port.
    static func nextPage(_ header: String, after page: URL, registry: String, what: String) throws -> URL? {
        for link in header.split(separator: ",") {
            let parts = link.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = parts.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            let relations = parts.dropFirst().compactMap { parameter -> String? in
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, pair[0].lowercased() == "rel" else { return nil }
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
            }
            guard relations.contains(where: { $0.split(separator: " ").contains("next") }) else { continue }
            let text = String(target.dropFirst().dropLast())
            guard let resolved = URL(string: text, relativeTo: page)?.absoluteURL else {
                throw RegistryError.protocolViolation(registry: registry, detail: "\(what): the next-page link is not a URL")
            }
            guard resolved.scheme == page.scheme, resolved.host == page.host, resolved.port == page.port else {
                throw RegistryError.protocolViolation(registry: registry, detail: "\(what): the next-page link leaves the registry (\(resolved.host ?? "?")); refused")
            }
            return resolved
        }
        return nil
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
