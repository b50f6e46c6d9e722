import Foundation
import HTTP
import OCI

/// Uploads: cross-repository mounts, monolithic and chunked uploads with resumable chunks.
extension RegistryClient {
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

    func startUpload(repository: String, mount: (Digest, String)?, operation: String) async throws -> UploadStart {
        var path = "/v2/\(repository)/blobs/uploads/"
        var scopes = [Self.pushScope(repository)]
        if let (digest, source) = mount {
            path += "?mount=\(digest)&from=\(source)"
            scopes.append(Self.pullScope(source))
        }
        let url = try await self.url(path)
        var start = HTTPRequest(method: "POST", url: url, body: .data(Data()))
        // No body: a stream of the shared HTTP/2 connection, so sessions are opened while the
        // HTTP/1.1 connections carry other blobs' bodies (their PATCHes and PUT are bulk).
        start.bulk = false
        let response = try await send(start, scopes: scopes, operation: operation)
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
    /// are accepted for a PATCH (ECR answers 201). Failures resume where the registry stands
    /// when it can say, else start a new session; all under one retry budget (`BlobUpload`).
    /// `progress` receives bytes sent so far (it may go back to 0 when the upload restarts).
    /// With `bodySlots`, the session is opened first and a slot is held from the first body on.
    public func uploadBlob(_ descriptor: Descriptor, from file: URL, to repository: String, chunkSize: Int64 = 5 << 20,
                           bodySlots: UploadSlots? = nil, progress: (@Sendable (Int64) -> Void)? = nil) async throws {
        try await BlobUpload(client: self, descriptor: descriptor, file: file, repository: repository, chunkSize: chunkSize,
                             what: "upload \(descriptor.digest.short) to \(repository)", progress: progress, bodySlots: bodySlots).run()
    }

    /// An upload session the registry no longer knows (404 BLOB_UPLOAD_UNKNOWN or _INVALID, 416) is
    /// retryable: the retry starts a new session.
    func uploadError(_ operation: String, _ response: HTTPResponse) -> Error {
        let error = statusError(operation, response)
        // (distribution answers 404 BLOB_UPLOAD_INVALID when a PATCH took effect but its answer
        // was lost, so the session's state token is stale.)
        if response.status == 404 && (error.codes.contains(RegistryErrorCode.blobUploadUnknown) || error.codes.contains(RegistryErrorCode.blobUploadInvalid)) || response.status == 416 {
            return RetryableFailure(error: .transport(host: registry, message: "\(operation): upload session lost (HTTP \(response.status))", retryable: true),
                                    retryAfter: nil, restart: true)
        }
        return error
    }

    static func appendingQuery(_ url: URL, _ item: String) -> URL {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: true)!
        let existing = components.percentEncodedQuery.map { $0.isEmpty ? "" : $0 + "&" } ?? ""
        components.percentEncodedQuery = existing + item
        return components.url!
    }
}
