import Foundation
import OCI

/// The distribution-spec API of one registry (all its repositories): blob existence, mounts,
/// uploads, manifests. It owns the registry's auth state (one token per scope set, shared by
/// all parallel requests) and retries transient failures itself, so callers see one call per
/// protocol step. Stateless otherwise; safe to use from many tasks at once.
public final class RegistryClient: Sendable {
    /// The registry as in image references (`docker.io`, `localhost:5000`).
    public let registry: String
    public let transport: any HTTPTransport
    public let retry: RetryPolicy
    /// Called before each retry, for progress output.
    public let onRetry: (@Sendable (_ what: String, _ attempt: Int, _ delay: TimeInterval, _ error: RegistryError) -> Void)?
    let auth: Authenticator
    private let base = Locked<URL?>(nil)

    public init(registry: String, transport: any HTTPTransport = HTTPClient.shared,
                credentials: any CredentialProvider = DockerConfigCredentials(), retry: RetryPolicy = RetryPolicy(),
                onRetry: (@Sendable (_ what: String, _ attempt: Int, _ delay: TimeInterval, _ error: RegistryError) -> Void)? = nil) {
        self.registry = registry
        self.transport = transport
        self.retry = retry
        self.onRetry = onRetry
        auth = Authenticator(registry: registry, transport: transport, credentials: credentials)
    }

    /// The API host: Docker Hub's differs from its name.
    var apiHost: String { registry == ImageReference.dockerHub ? "registry-1.docker.io" : registry }

    // MARK: ping and auth

    /// `GET /v2/`: finds the scheme (HTTPS, or plain HTTP for an allowed host that does not
    /// speak TLS) and the auth challenge. Called lazily before the first request.
    public func ping() async throws {
        _ = try await baseURL()
    }

    /// Checks that the credentials are accepted (what `login` verifies before saving them).
    public func checkLogin() async throws {
        let url = try await baseURL().appendingPathComponent("v2/")
        try await retry.run("login \(registry)", onRetry: retryReporter("login")) {
            let response = try await self.send(HTTPRequest(method: "GET", url: url), scopes: [], operation: "login")
            guard response.status == 200 else { throw self.statusError("login", response) }
        }
    }

    func baseURL() async throws -> URL {
        if let url = base.withLock({ $0 }) { return url }
        let https = URL(string: "https://\(apiHost)/")!
        let http = URL(string: "http://\(apiHost)/")!
        func ping(_ base: URL, retrying: Bool) async throws -> HTTPResponse {
            let request = HTTPRequest(method: "GET", url: base.appendingPathComponent("v2/"), sink: .memory(limit: 1 << 20))
            guard retrying else { return try await transport.send(request) }
            return try await retry.run("ping \(registry)", onRetry: retryReporter("ping \(registry)")) {
                let response = try await self.transport.send(request)
                // A 408/429/5xx answer to the ping is as transient as on any other request.
                if response.status == 408 || response.status == 429 || (500...599).contains(response.status) {
                    throw RetryableFailure(error: self.statusError("ping /v2/", response),
                                           retryAfter: RetryableFailure.parseRetryAfter(response.headers["Retry-After"]))
                }
                return response
            }
        }
        var response: HTTPResponse
        var chosen = https
        if transport.allowsPlainHTTP(host: apiHost) {
            // Plain HTTP is allowed here: try TLS once, and fall back only when TLS itself failed
            // (a certificate verification failure stays an error: the server does speak TLS).
            do {
                response = try await ping(https, retrying: false)
            } catch RegistryError.transport(_, let message, _) where !message.localizedCaseInsensitiveContains("certificate") {
                response = try await ping(http, retrying: true)
                chosen = http
            }
        } else {
            response = try await ping(https, retrying: true)
        }
        switch response.status {
        case 200:
            auth.setChallenge(nil)
        case 401:
            let challenges = response.headers.values("WWW-Authenticate").flatMap(AuthChallenge.parse)
            guard let challenge = challenges.first(where: { $0.scheme == "bearer" }) ?? challenges.first else {
                throw RegistryError.protocolViolation(registry: registry, detail: "401 from /v2/ without a WWW-Authenticate challenge")
            }
            auth.setChallenge(challenge)
        default:
            throw statusError("ping /v2/", response)
        }
        base.withLock { $0 = chosen }
        return chosen
    }

    /// Sends a request to this registry with authorization for `scopes`; on a 401 it refreshes
    /// the token (or adopts the new challenge) and tries once more.
    func send(_ request: HTTPRequest, scopes: [String], operation: String) async throws -> HTTPResponse {
        let base = try await baseURL()
        var authorized = request
        for attempt in 0..<2 {
            authorized.headers.remove("Authorization")
            if authorized.url.origin == base.origin, let header = try await auth.authorization(scopes: scopes) {
                authorized.headers.set("Authorization", header)
            }
            let response = try await transport.send(authorized)
            if response.status == 401 {
                if attempt == 0 {
                    auth.invalidate(scopes: scopes, response: response)
                    continue
                }
                let codes = RegistryErrorDetail.decode(response.body) ?? []
                let credential = try? await auth.credential()
                let who = credential?.username.map { "user '\($0)'" } ?? (credential == nil ? "no credentials" : "the configured credentials")
                throw RegistryError.unauthorized(registry: registry, detail: "\(operation) was refused with \(who)" + (codes.isEmpty ? "" : " (" + codes.map(\.description).joined(separator: "; ") + ")"))
            }
            if response.status == 408 || response.status == 429 || (500...599).contains(response.status) {
                throw RetryableFailure(error: statusError(operation, response), retryAfter: RetryableFailure.parseRetryAfter(response.headers["Retry-After"]))
            }
            return response
        }
        preconditionFailure("unreachable")
    }

    func statusError(_ operation: String, _ response: HTTPResponse) -> RegistryError {
        .status(registry: registry, operation: operation, status: response.status, errors: RegistryErrorDetail.decode(response.body) ?? [])
    }

    func retryReporter(_ what: String) -> (@Sendable (Int, TimeInterval, RegistryError) -> Void)? {
        guard let onRetry else { return nil }
        return { attempt, delay, error in onRetry(what, attempt, delay, error) }
    }

    func url(_ path: String) async throws -> URL {
        let base = try await baseURL()
        return URL(string: path, relativeTo: base)!.absoluteURL
    }

    static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }
    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }

    // MARK: blobs

    /// `HEAD /v2/<repo>/blobs/<digest>`: the blob's size when the repository has it, else nil.
    public func blobExists(_ digest: Digest, in repository: String) async throws -> Int64? {
        let what = "HEAD blob \(digest.short) in \(repository)"
        return try await retry.run(what, onRetry: retryReporter(what)) {
            let url = try await self.url("/v2/\(repository)/blobs/\(digest)")
            let response = try await self.send(HTTPRequest(method: "HEAD", url: url, sink: .discard), scopes: [Self.pushScope(repository)], operation: what)
            switch response.status {
            case 200:
                return response.headers["Content-Length"].flatMap { Int64($0) } ?? 0
            case 404:
                return nil
            default:
                throw self.statusError(what, response)
            }
        }
    }

    /// Tries a cross-repository mount (`POST …/uploads/?mount=&from=`): true when the registry
    /// linked the blob; false when it declined (it then answers 202, and the caller uploads).
    public func mountBlob(_ digest: Digest, into repository: String, from source: String) async throws -> Bool {
        let what = "mount \(digest.short) from \(source) into \(repository)"
        return try await retry.run(what, onRetry: retryReporter(what)) {
            let mount = try await self.startUpload(repository: repository, mount: (digest, source), operation: what)
            if case .mounted = mount { return true }
            if case .session(let location, _) = mount {
                // Release the session the registry opened; it would expire on its own anyway.
                _ = try? await self.send(HTTPRequest(method: "DELETE", url: location, sink: .discard), scopes: [Self.pushScope(repository)], operation: "cancel upload")
            }
            return false
        }
    }

    enum UploadStart { case mounted, session(URL, minimumChunk: Int64) }

    private func startUpload(repository: String, mount: (Digest, String)?, operation: String) async throws -> UploadStart {
        var path = "/v2/\(repository)/blobs/uploads/"
        var scopes = [Self.pushScope(repository)]
        if let (digest, source) = mount {
            path += "?mount=\(digest)&from=\(source)"
            scopes.append(Self.pullScope(source))
        }
        let url = try await self.url(path)
        let response = try await send(HTTPRequest(method: "POST", url: url, body: .data(Data())), scopes: scopes, operation: operation)
        switch response.status {
        case 201 where mount != nil:
            return .mounted
        case 202:
            guard let location = response.location else {
                throw RegistryError.protocolViolation(registry: registry, detail: "\(operation): 202 without a Location header")
            }
            let minimum = response.headers["OCI-Chunk-Min-Length"].flatMap { Int64($0) } ?? 0
            return .session(location, minimumChunk: minimum)
        default:
            throw statusError(operation, response)
        }
    }

    /// Uploads a blob from a file, streaming it: one PUT when it fits in `chunkSize`, else PATCH
    /// chunks of `chunkSize` (raised to the registry's `OCI-Chunk-Min-Length`) then a closing PUT.
    /// The offset is tracked here, not read back from `Range` (ECR's lags), and both 201 and 202
    /// are accepted for a PATCH (ECR answers 201). A transient failure of a PATCH resumes the
    /// session when a status `GET` confirms the registry holds exactly the bytes before the chunk
    /// or through it; any other failure restarts the upload with a new session.
    /// `progress` receives bytes sent so far (it may go back to 0 when the upload restarts).
    public func uploadBlob(_ descriptor: Descriptor, from file: URL, to repository: String, chunkSize: Int64 = 5 << 20,
                           progress: (@Sendable (Int64) -> Void)? = nil) async throws {
        let what = "upload \(descriptor.digest.short) to \(repository)"
        try await retry.run(what, onRetry: retryReporter(what)) {
            try await self.uploadOnce(descriptor, from: file, to: repository, chunkSize: chunkSize, what: what, progress: progress)
        }
    }

    private func uploadOnce(_ descriptor: Descriptor, from file: URL, to repository: String, chunkSize: Int64, what: String,
                            progress: (@Sendable (Int64) -> Void)?) async throws {
        let size = descriptor.size
        progress?(0)
        guard case .session(var location, let minimum) = try await startUpload(repository: repository, mount: nil, operation: what) else {
            throw RegistryError.protocolViolation(registry: registry, detail: "\(what): upload session expected")
        }
        let scopes = [Self.pushScope(repository)]
        let chunk = max(chunkSize, minimum, 1)
        var closing = HTTPRequest(method: "PUT", url: location, headers: ["Content-Type": "application/octet-stream"], body: .data(Data()))
        if size > chunk {
            var offset: Int64 = 0
            while offset < size {
                let length = min(chunk, size - offset)
                let start = offset
                var attempt = 0
                chunkLoop: while true {
                    var request = HTTPRequest(method: "PATCH", url: location,
                                              headers: ["Content-Type": "application/octet-stream", "Content-Range": "\(start)-\(start + length - 1)"],
                                              body: .file(path: file.path, offset: start, length: length))
                    if let progress { request.onUploadProgress = { progress(start + $0) } }
                    var sessionLost = false
                    do {
                        let response = try await send(request, scopes: scopes, operation: "\(what) (PATCH \(start)-\(start + length - 1))")
                        guard response.status == 202 || response.status == 201 || response.status == 204 else {
                            sessionLost = response.status == 404 || response.status == 416
                            throw uploadError("\(what) (PATCH at offset \(start))", response)
                        }
                        if let next = response.location { location = next }
                        offset += length
                        break chunkLoop
                    } catch {
                        // A transient failure of one chunk resumes the session when the registry
                        // confirms where it stands (nothing of the chunk, or all of it); anything
                        // else restarts the whole upload (the caller's retry).
                        if sessionLost { throw error }
                        let failure: (RegistryError, TimeInterval?)
                        switch error {
                        case let f as RetryableFailure where f.error.isRetryable: failure = (f.error, f.retryAfter)
                        case let e as RegistryError where e.isRetryable: failure = (e, nil)
                        default: throw error
                        }
                        attempt += 1
                        guard attempt <= retry.maxRetries else { throw error }
                        let pause = retry.delay(attempt: attempt, retryAfter: failure.1)
                        try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
                        // Resume wherever the registry stands within this chunk: none of it,
                        // part of it (a connection cut mid-body), or all of it (a lost reply).
                        // The status request can fail transiently too: ask a few times.
                        var status: (Int64, URL)?
                        for _ in 0..<3 where status == nil {
                            status = try? await uploadStatus(location, scopes: scopes, what: what)
                            if status == nil { try await Task.sleep(nanoseconds: UInt64(retry.delay(attempt: 1, retryAfter: nil) * 1e9)) }
                        }
                        guard let (reached, next) = status, reached >= start, reached <= start + length else { throw error }
                        // Reported only once resuming is certain (a restart is the caller's retry).
                        retryReporter("\(what) (chunk at \(start))")?(attempt, pause, failure.0)
                        location = next
                        if reached > start {
                            offset = reached
                            break chunkLoop
                        }
                    }
                }
            }
            closing.url = location
        } else {
            closing.body = .file(path: file.path, offset: 0, length: size)
            closing.onUploadProgress = progress
        }
        closing.url = Self.appendingQuery(closing.url, "digest=\(descriptor.digest)")
        let response = try await send(closing, scopes: scopes, operation: "\(what) (PUT)")
        guard response.status == 201 || response.status == 204 else { throw uploadError("\(what) (PUT)", response) }
        if let reported = response.headers["Docker-Content-Digest"], !reported.isEmpty, reported != descriptor.digest.description {
            // Never accepted; but the registry verified the bytes against `?digest=` itself, so a
            // wrong header is more likely damage on the way back: upload again and re-check.
            throw RetryableFailure(error: .digestMismatch(what: "blob uploaded to \(registry)/\(repository)", expected: descriptor.digest, actual: reported),
                                   retryAfter: nil, forced: true)
        }
        progress?(size)
    }

    /// `GET` on an upload session: the bytes the registry holds (from `Range: 0-N`; `0-0` is
    /// read as nothing yet) and the session's next location.
    private func uploadStatus(_ location: URL, scopes: [String], what: String) async throws -> (Int64, URL) {
        let response = try await send(HTTPRequest(method: "GET", url: location, sink: .discard), scopes: scopes, operation: "\(what) (status)")
        guard response.status == 204, let range = response.headers["Range"],
              let end = range.split(separator: "-").last.flatMap({ Int64($0) }) else {
            throw uploadError("\(what) (status)", response)
        }
        return (end == 0 ? 0 : end + 1, response.location ?? location)
    }

    /// An upload session the registry no longer knows (404 BLOB_UPLOAD_UNKNOWN or _INVALID, 416) is
    /// retryable: the retry starts a new session.
    private func uploadError(_ operation: String, _ response: HTTPResponse) -> Error {
        let error = statusError(operation, response)
        // (distribution answers 404 BLOB_UPLOAD_INVALID when a PATCH took effect but its answer
        // was lost, so the session's state token is stale.)
        if response.status == 404 && (error.codes.contains("BLOB_UPLOAD_UNKNOWN") || error.codes.contains("BLOB_UPLOAD_INVALID")) || response.status == 416 {
            return RetryableFailure(error: .transport(host: registry, message: "\(operation): upload session lost (HTTP \(response.status))", retryable: true), retryAfter: nil)
        }
        return error
    }

    static func appendingQuery(_ url: URL, _ item: String) -> URL {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: true)!
        let existing = components.percentEncodedQuery.map { $0.isEmpty ? "" : $0 + "&" } ?? ""
        components.percentEncodedQuery = existing + item
        return components.url!
    }

    /// Downloads a blob into `file`, streaming (never in memory), following redirects to other
    /// hosts (S3, CDNs) without the registry's `Authorization`, and verifying size and digest.
    public func downloadBlob(_ descriptor: Descriptor, from repository: String, to file: URL) async throws {
        let what = "GET blob \(descriptor.digest.short) from \(repository)"
        try await retry.run(what, onRetry: retryReporter(what)) {
            let url = try await self.url("/v2/\(repository)/blobs/\(descriptor.digest)")
            let response = try await self.send(HTTPRequest(method: "GET", url: url, sink: .file(file)), scopes: [Self.pullScope(repository)], operation: what)
            guard response.status == 200 else { throw self.statusError(what, response) }
        }
        guard let handle = FileHandle(forReadingAtPath: file.path) else { throw RegistryError.io("cannot read \(file.path)") }
        defer { try? handle.close() }
        var hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            feed(&hasher, chunk)
        }
        let size = hasher.byteCount
        let actual = hasher.finalize()
        guard actual == descriptor.digest, size == descriptor.size else {
            throw RegistryError.digestMismatch(what: "blob downloaded from \(registry)/\(repository) (\(size) bytes)", expected: descriptor.digest, actual: actual.description)
        }
    }

    // MARK: manifests

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
        let digest = Digest.sha256(of: data)
        let what = "PUT manifest \(repository):\(reference)"
        try await retry.run(what, onRetry: retryReporter(what)) {
            let url = try await self.url("/v2/\(repository)/manifests/\(reference)")
            let response = try await self.send(HTTPRequest(method: "PUT", url: url, headers: ["Content-Type": mediaType], body: .data(data)),
                                               scopes: [Self.pushScope(repository)], operation: what)
            guard response.status == 201 || response.status == 200 || response.status == 202 else { throw self.statusError(what, response) }
            if let reported = response.headers["Docker-Content-Digest"], !reported.isEmpty, reported != digest.description {
                // Never accepted; sent again and re-checked (see uploadOnce).
                throw RetryableFailure(error: .digestMismatch(what: "manifest pushed to \(self.registry)/\(repository):\(reference)", expected: digest, actual: reported),
                                       retryAfter: nil, forced: true)
            }
        }
        return digest
    }

    public static let manifestMediaTypes = [MediaType.imageIndex, MediaType.imageManifest, MediaType.dockerManifestList, MediaType.dockerManifest]
}

/// Hashes `data` (a helper rather than a closure at the call site: the compiler misreads a
/// noncopyable `var` mutated only inside a closure as never mutated).
func feed(_ hasher: inout SHA256Hasher, _ data: Data) {
    data.withUnsafeBytes { hasher.update($0) }
}
