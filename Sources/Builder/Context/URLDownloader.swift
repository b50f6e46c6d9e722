import Foundation
import HTTP
import OCI

/// Fetches an `ADD https://…` source through the build's HTTP transport (the registry client's
/// TLS, CA, proxy and `SLIPWAY_CONNECT_TO` settings and retry policy): streamed to a file,
/// size-bounded, and checked against `--checksum` before it can reach a layer. Redirects are
/// followed here, to HTTPS only (even from a plain-HTTP URL).
enum URLDownloader {
    static let maxRedirects = 10

    /// `transport` nil: the environment's settings (`HTTPClient.shared`) with the default retries.
    static func download(_ url: String, to path: String, maxBytes: Int64, expected: String?, transport: (any HTTPTransport)?) throws {
        let transport = transport ?? RetryingTransport(HTTPClient.shared)
        let expectedDigest = try expected.map(ContentChecksum.init(parsing:))
        guard let source = URL(string: url), let scheme = source.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw BuildError("ADD \(url): download failed: not an http(s) URL")
        }
        var failed = true
        defer { if failed { unlink(path) } }
        let sink = URL(fileURLWithPath: path)
        try Blocking.run { try await fetch(source, named: url, into: sink, maxBytes: maxBytes, transport: transport) }
        if let expectedDigest {
            let actual: ContentChecksum
            do { actual = try ContentChecksum.of(file: path, algorithm: expectedDigest.algorithm) } catch let error as BuildError {
                throw BuildError("ADD \(url): \(error.message)")
            }
            if expectedDigest != actual {
                throw BuildError("ADD \(url): checksum mismatch: expected \(expectedDigest), got \(actual)")
            }
        }
        failed = false
    }

    private static func fetch(_ source: URL, named url: String, into sink: URL, maxBytes: Int64, transport: any HTTPTransport) async throws {
        var request = HTTPRequest(method: "GET", url: source, sink: .file(sink, limit: maxBytes), followRedirects: false)
        // The URL as written may be plain HTTP, as in Docker; where it redirects to may not.
        request.permitsPlainHTTP = true
        for _ in 0...maxRedirects {
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch HTTPError.bodyTooLarge {
                throw BuildError("ADD \(url): the download is larger than \(maxBytes) bytes")
            } catch let error as HTTPError {
                throw BuildError("ADD \(url): download failed: \(reason(error))")
            }
            if HTTPResponse.redirectStatuses.contains(response.status), let next = response.location {
                guard next.scheme?.lowercased() == "https" else {
                    throw BuildError("ADD \(url): download failed: redirect to \(next.scheme ?? "a non-HTTPS") URL refused (HTTPS only)")
                }
                request.url = next
                request.permitsPlainHTTP = false
                continue
            }
            guard (200..<300).contains(response.status) else {
                throw BuildError("ADD \(url): download failed: HTTP \(response.status)")
            }
            return
        }
        throw BuildError("ADD \(url): download failed: more than \(maxRedirects) redirects")
    }

    /// What went wrong, without the host prefix the HTTP error's description carries.
    private static func reason(_ error: HTTPError) -> String {
        if case .transport(_, let message, _) = error { return Redactor.redact(message) }
        return error.description
    }
}
