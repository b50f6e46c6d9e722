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
        if response.status == 404 && (error.codes.contains(RegistryErrorCode.blobUploadUnknown) || error.codes.contains(RegistryErrorCode.blobUploadInvalid)) || response.status == 416 {
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
}
