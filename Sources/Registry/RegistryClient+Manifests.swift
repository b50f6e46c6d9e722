import Foundation
import HTTP
import OCI

/// Manifests: existence, fetches verified against the digest asked for, and pushes.
extension RegistryClient {
    /// `HEAD /v2/<repo>/manifests/<reference>`: the descriptor when present.
    /// `forPush` asks with the push scope, so a push needs one token rather than two.
    public func manifestExists(_ reference: String, in repository: String, accept: [String] = RegistryClient.manifestMediaTypes,
                               forPush: Bool = false) async throws -> Descriptor? {
        let what = "HEAD manifest \(reference) in \(repository)"
        return try await retry.run(what, onRetry: retryReporter(what)) {
            let url = try await self.url("/v2/\(repository)/manifests/\(reference)")
            let response = try await self.send(HTTPRequest(method: "HEAD", url: url, headers: ["Accept": accept.joined(separator: ", ")], sink: .discard),
                                               scopes: [forPush ? Self.pushScope(repository) : Self.pullScope(repository)], operation: what)
            switch response.status {
            case 200:
                guard let digestText = response.headers["Docker-Content-Digest"], let digest = try? Digest(parsing: digestText) else {
                    throw RegistryError.protocolViolation(registry: self.registry, detail: "\(what): no Docker-Content-Digest")
                }
                return Descriptor(mediaType: response.headers["Content-Type"] ?? "", digest: digest,
                                  size: response.headers["Content-Length"].flatMap { Int64($0) } ?? 0)
            case 404:
                return nil
            default:
                throw self.statusError(what, response)
            }
        }
    }

    /// Fetches a manifest or index (bounded to 4 MiB), verifying it against a digest reference.
    public func getManifest(_ reference: String, in repository: String, accept: [String] = RegistryClient.manifestMediaTypes) async throws -> (data: Data, descriptor: Descriptor) {
        let what = "GET manifest \(reference) in \(repository)"
        return try await retry.run(what, onRetry: retryReporter(what)) {
            let url = try await self.url("/v2/\(repository)/manifests/\(reference)")
            let response = try await self.send(HTTPRequest(method: "GET", url: url, headers: ["Accept": accept.joined(separator: ", ")]),
                                               scopes: [Self.pullScope(repository)], operation: what)
            guard response.status == 200 else { throw self.statusError(what, response) }
            let digest = Digest.sha256(of: response.body)
            if let pinned = try? Digest(parsing: reference), pinned.algorithm == .sha256, pinned != digest {
                throw RegistryError.digestMismatch(what: "manifest \(repository)@\(reference)", expected: pinned, actual: digest.description)
            }
            return (response.body, Descriptor(mediaType: response.headers["Content-Type"] ?? "", digest: digest, size: Int64(response.body.count)))
        }
    }

    /// `PUT /v2/<repo>/manifests/<reference>` (a tag or the digest). Checks the registry's
    /// `Docker-Content-Digest` against the bytes sent and returns the digest.
    @discardableResult
    public func putManifest(_ data: Data, mediaType: String, reference: String, in repository: String) async throws -> Digest {
        try await putManifestAnswering(data, mediaType: mediaType, reference: reference, in: repository).digest
    }

    /// `putManifest`, also returning the headers of the registry's answer (the referrers push
    /// reads `OCI-Subject` from them).
    func putManifestAnswering(_ data: Data, mediaType: String, reference: String,
                              in repository: String) async throws -> (digest: Digest, headers: HTTPHeaders) {
        let digest = Digest.sha256(of: data)
        let what = "PUT manifest \(repository):\(reference)"
        let headers = try await retry.run(what, onRetry: retryReporter(what)) {
            let url = try await self.url("/v2/\(repository)/manifests/\(reference)")
            let response = try await self.send(HTTPRequest(method: "PUT", url: url, headers: ["Content-Type": mediaType], body: .data(data)),
                                               scopes: [Self.pushScope(repository)], operation: what)
            guard response.status == 201 || response.status == 200 || response.status == 202 else { throw self.statusError(what, response) }
            if let reported = response.headers["Docker-Content-Digest"], !reported.isEmpty, reported != digest.description {
                // Never accepted; sent again and re-checked (see uploadOnce).
                throw RetryableFailure(error: .digestMismatch(what: "manifest pushed to \(self.registry)/\(repository):\(reference)", expected: digest, actual: reported),
                                       retryAfter: nil, forced: true)
            }
            return response.headers
        }
        return (digest, headers)
    }

    public static let manifestMediaTypes = [MediaType.imageIndex, MediaType.imageManifest, MediaType.dockerManifestList, MediaType.dockerManifest]

    /// Fetches a manifest or index by tag or digest (at most 4 MiB, and at most `size` bytes
    /// when a descriptor declares it: reading stops there). The bytes are checked against the
    /// digest asked for, and against the registry's `Docker-Content-Digest` when it sends one;
    /// Docker schema 1 and unknown media types are refused.
    public func fetchManifest(_ reference: String, in repository: String, size: Int64? = nil) async throws -> FetchedManifest {
        let what = "GET manifest \(repository):\(reference)"
        if let size, size > Int64(ResponseSink.manifestLimit) {
            throw RegistryError.protocolViolation(registry: registry, detail: "manifest \(repository)@\(reference) is declared as \(size) bytes, more than the \(ResponseSink.manifestLimit) a registry accepts")
        }
        let limit = size.map { Int(max(0, $0)) } ?? ResponseSink.manifestLimit
        return try await retry.run(what, onRetry: retryReporter(what)) {
            let url = try await self.url("/v2/\(repository)/manifests/\(reference)")
            let request = HTTPRequest(method: "GET", url: url, headers: ["Accept": Self.manifestMediaTypes.joined(separator: ", ")],
                                      sink: .memory(limit: limit))
            let response: HTTPResponse
            do {
                response = try await self.send(request, scopes: [Self.pullScope(repository)], operation: what)
            } catch RegistryError.bodyTooLarge where size != nil {
                throw self.longerThanDeclared("manifest \(self.registry)/\(repository)@\(reference)", size: Int64(limit))
            }
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
