import Foundation
import HTTP
import OCI

/// Blobs: existence checks and verified, streamed downloads.
extension RegistryClient {
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

    /// Downloads a blob into `file`, streaming (never in memory), following redirects to other
    /// hosts (S3, CDNs) without the registry's `Authorization`, and verifying size and digest.
    /// Reading stops at the descriptor's size: a registry streaming more (or without end) fails
    /// the download with at most that many bytes written, never fills the disk.
    public func downloadBlob(_ descriptor: Descriptor, from repository: String, to file: URL) async throws {
        let what = "GET blob \(descriptor.digest.short) from \(repository)"
        guard descriptor.size >= 0 else {
            throw RegistryError.protocolViolation(registry: registry, detail: "blob \(descriptor.digest) of \(repository) has a negative size")
        }
        try await retry.run(what, onRetry: retryReporter(what)) {
            let url = try await self.url("/v2/\(repository)/blobs/\(descriptor.digest)")
            let request = HTTPRequest(method: "GET", url: url, sink: .file(file, limit: descriptor.size))
            do {
                let response = try await self.send(request, scopes: [Self.pullScope(repository)], operation: what)
                guard response.status == 200 else { throw self.statusError(what, response) }
            } catch RegistryError.bodyTooLarge {
                throw self.longerThanDeclared("blob \(descriptor.digest) of \(self.registry)/\(repository)", size: descriptor.size)
            }
        }
        guard let handle = FileHandle(forReadingAtPath: file.path) else { throw RegistryError.io("cannot read \(file.path)") }
        defer { try? handle.close() }
        let hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        let size = hasher.byteCount
        let actual = hasher.finalize()
        guard actual == descriptor.digest, size == descriptor.size else {
            throw RegistryError.digestMismatch(what: "blob downloaded from \(registry)/\(repository) (\(size) bytes)", expected: descriptor.digest, actual: actual.description)
        }
    }

    /// A body longer than its descriptor says: never retried (the registry serves other content).
    func longerThanDeclared(_ what: String, size: Int64) -> RegistryError {
        .protocolViolation(registry: registry, detail: "\(what): the registry sent more than the \(size) bytes its descriptor declares")
    }
}
