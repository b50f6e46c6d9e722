import Foundation
import OCI

extension RegistryClient {
    /// Fetches a manifest or index by tag or digest (at most 4 MiB). The bytes are checked
    /// against the digest asked for, and against the registry's `Docker-Content-Digest` when it
    /// sends one; Docker schema 1 and unknown media types are refused.
    public func fetchManifest(_ reference: String, in repository: String) async throws -> FetchedManifest {
        let what = "GET manifest \(repository):\(reference)"
        return try await retry.run(what, onRetry: retryReporter(what)) {
            let url = try await self.url("/v2/\(repository)/manifests/\(reference)")
            let request = HTTPRequest(method: "GET", url: url, headers: ["Accept": Self.manifestMediaTypes.joined(separator: ", ")],
                                      sink: .memory(limit: ResponseSink.manifestLimit))
            let response = try await self.send(request, scopes: [Self.pullScope(repository)], operation: what)
            guard response.status == 200 else { throw self.statusError(what, response) }
            let body = response.body
            let digest = Digest.sha256(of: body)
            if let pinned = try? Digest(parsing: reference), pinned != digest {
                throw RegistryError.digestMismatch(what: "manifest \(self.registry)/\(repository)@\(reference)", expected: pinned, actual: digest.description)
            }
            if let reported = response.headers["Docker-Content-Digest"].flatMap({ try? Digest(parsing: $0) }),
               reported.algorithm == .sha256, reported != digest {
                throw RegistryError.digestMismatch(what: "manifest \(self.registry)/\(repository):\(reference) (Docker-Content-Digest \(reported))",
                                                   expected: reported, actual: digest.description)
            }
            let mediaType = try Self.manifestMediaType(contentType: response.headers["Content-Type"], data: body,
                                                       what: "\(self.registry)/\(repository):\(reference)")
            return FetchedManifest(descriptor: Descriptor(mediaType: mediaType, digest: digest, size: Int64(body.count)), data: body)
        }
    }

    /// The media type of a fetched manifest: the document's own `mediaType`, else a known
    /// `Content-Type`, else what its fields say (`manifests` → index, `config` → manifest).
    static func manifestMediaType(contentType: String?, data: Data, what: String) throws -> String {
        struct Probe: Decodable {
            var schemaVersion: Int?
            var mediaType: String?
            var manifests: [Descriptor]?
            var config: Descriptor?
        }
        let probe: Probe
        do { probe = try JSONDecoder().decode(Probe.self, from: data) } catch {
            throw RegistryError.protocolViolation(registry: what, detail: "the manifest is not valid JSON")
        }
        let header = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if probe.schemaVersion == 1 || header?.hasPrefix("application/vnd.docker.distribution.manifest.v1") == true {
            throw RegistryError.protocolViolation(registry: what, detail: "Docker schema 1 manifests are not supported (re-push the image with a current client)")
        }
        for candidate in [probe.mediaType, header] {
            if let candidate, MediaType.isIndex(candidate) || MediaType.isManifest(candidate) { return candidate }
        }
        if probe.manifests != nil { return MediaType.imageIndex }
        if probe.config != nil { return MediaType.imageManifest }
        throw RegistryError.protocolViolation(registry: what, detail: "media type '\(probe.mediaType ?? header ?? "none")' is neither an image manifest nor an index")
    }
}
