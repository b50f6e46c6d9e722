import Foundation
import HTTP
import OCI
import Registry

/// A scripted in-memory registry behind the transport seam: manifests by tag and digest, blobs
/// by digest, uploads and tag rules (immutable tags), with hooks to serve tampered content.
public final class ScriptedRegistry: HTTPTransport, @unchecked Sendable {
    public struct State: Sendable {
        public init() {}
        public var manifests: [String: (data: Data, mediaType: String)] = [:]   // "repo@digest" and "repo:tag"
        public var blobs: [String: Data] = [:]                                     // "repo@digest"
        public var immutable: Set<String> = []                                     // repositories
        public var requests: [String] = []
        public var uploads: [String: Data] = [:]
        /// Serve these bytes instead of the real ones (key as in `blobs` or `manifests`).
        public var tampered: [String: Data] = [:]
        /// Send no Docker-Content-Digest or a wrong one for manifests.
        public var wrongDigestHeader = false
    }
    public let state = Locked(State())
    public let bearer: Bool

    /// Answer from a dispatch thread, as the libcurl transport does.
    public let hop: Bool

    public init(bearer: Bool = false, hop: Bool = false) {
        self.bearer = bearer
        self.hop = hop
    }

    public func allowsPlainHTTP(host: String) -> Bool { false }

    public var requests: [String] { state.withLock { $0.requests } }
    public func count(_ prefix: String) -> Int { requests.filter { $0.hasPrefix(prefix) }.count }

    public func addBlob(_ data: Data, repository: String, mediaType: String = MediaType.layerGzip) -> Descriptor {
        let digest = Digest.sha256(of: data)
        state.withLock { $0.blobs["\(repository)@\(digest)"] = data }
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }

    @discardableResult
    public func addManifest<T: Encodable>(_ value: T, mediaType: String, repository: String, tag: String? = nil) throws -> Descriptor {
        let data = try CanonicalJSON.encode(value)
        let digest = Digest.sha256(of: data)
        state.withLock {
            $0.manifests["\(repository)@\(digest)"] = (data, mediaType)
            if let tag { $0.manifests["\(repository):\(tag)"] = (data, mediaType) }
        }
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }

    public func send(_ r: HTTPRequest) async throws -> HTTPResponse {
        guard hop else { return answer(r) }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.answer(r)) }
        }
    }

    private func answer(_ r: HTTPRequest) -> HTTPResponse {
        let path = r.path
        state.withLock { $0.requests.append("\(r.method) \(path)") }
        if path == "/v2/" {
            if bearer && r.headers["Authorization"] == nil {
                return reply(r, 401, ["WWW-Authenticate": #"Bearer realm="https://auth.example.com/token",service="registry.example.com""#])
            }
            return reply(r, 200)
        }
        if r.url.host == "auth.example.com" {
            // Anonymous token: no Authorization header is expected.
            return reply(r, r.headers["Authorization"] == nil ? 200 : 400, body: #"{"token":"anon-token-1","expires_in":300}"#)
        }
        if bearer && r.headers["Authorization"] != "Bearer anon-token-1" {
            return reply(r, 401, ["WWW-Authenticate": #"Bearer realm="https://auth.example.com/token",service="registry.example.com""#])
        }
        let parts = path.dropFirst(4).components(separatedBy: "/")
        guard parts.count >= 3 else { return reply(r, 404) }
        if let kindIndex = parts.lastIndex(where: { $0 == "manifests" || $0 == "blobs" || $0 == "uploads" }) {
            let kind = parts[kindIndex]
            if kind == "uploads" {
                let repository = parts[..<(kindIndex - 1)].joined(separator: "/")
                return upload(r, repository: repository, session: parts.count > kindIndex + 1 ? parts[kindIndex + 1] : "")
            }
            let repository = parts[..<kindIndex].joined(separator: "/")
            let reference = parts[(kindIndex + 1)...].joined(separator: "/")
            return kind == "manifests" ? manifest(r, repository: repository, reference: reference) : blob(r, repository: repository, digest: reference)
        }
        return reply(r, 404)
    }

    private func manifest(_ r: HTTPRequest, repository: String, reference: String) -> HTTPResponse {
        let separator = reference.hasPrefix("sha256:") ? "@" : ":"
        let key = "\(repository)\(separator)\(reference)"
        switch r.method {
        case "GET", "HEAD":
            let (entry, tampered, wrong) = state.withLock { ($0.manifests[key], $0.tampered[key], $0.wrongDigestHeader) }
            guard let entry else { return reply(r, 404, body: #"{"errors":[{"code":"MANIFEST_UNKNOWN"}]}"#) }
            let body = tampered ?? entry.data
            let digest = wrong ? "sha256:" + String(repeating: "1", count: 64) : Digest.sha256(of: entry.data).description
            var response = reply(r, 200, ["Content-Type": entry.mediaType, "Docker-Content-Digest": digest, "Content-Length": "\(body.count)"])
            if r.method == "GET" { response.body = body }
            return response
        case "PUT":
            guard case .data(let data) = r.body else { return reply(r, 400) }
            let digest = Digest.sha256(of: data)
            let refused = state.withLock { s -> Bool in
                if separator == ":", s.immutable.contains(repository), s.manifests[key] != nil { return true }
                s.manifests["\(repository)@\(digest)"] = (data, r.headers["Content-Type"] ?? "")
                if separator == ":" { s.manifests[key] = (data, r.headers["Content-Type"] ?? "") }
                return false
            }
            if refused {
                return reply(r, 400, body: #"{"errors":[{"code":"TAG_INVALID","message":"The image tag '\#(reference)' already exists in the '\#(repository)' repository and cannot be overwritten because the repository is immutable."}]}"#)
            }
            return reply(r, 201, ["Docker-Content-Digest": digest.description])
        default:
            return reply(r, 405)
        }
    }

    private func blob(_ r: HTTPRequest, repository: String, digest: String) -> HTTPResponse {
        let key = "\(repository)@\(digest)"
        let (data, tampered) = state.withLock { ($0.blobs[key], $0.tampered[key]) }
        guard let data else { return reply(r, 404, body: #"{"errors":[{"code":"BLOB_UNKNOWN"}]}"#) }
        let body = tampered ?? data
        if r.method == "HEAD" { return reply(r, 200, ["Content-Length": "\(data.count)"]) }
        if case .file(let url, _) = r.sink {
            try? body.write(to: url)
            return reply(r, 200, ["Content-Length": "\(body.count)"])
        }
        var response = reply(r, 200)
        response.body = body
        return response
    }

    private func upload(_ r: HTTPRequest, repository: String, session: String) -> HTTPResponse {
        switch r.method {
        case "POST":
            if let query = r.url.query, query.contains("mount=") {
                let items = URLComponents(url: r.url, resolvingAgainstBaseURL: true)?.queryItems ?? []
                let digest = items.first { $0.name == "mount" }?.value ?? ""
                let from = items.first { $0.name == "from" }?.value ?? ""
                let mounted = state.withLock { s -> Bool in
                    guard let data = s.blobs["\(from)@\(digest)"] else { return false }
                    s.blobs["\(repository)@\(digest)"] = data
                    return true
                }
                if mounted { return reply(r, 201) }
            }
            return reply(r, 202, ["Location": "/v2/\(repository)/blobs/uploads/s-\(UUID().uuidString)"])
        case "PUT":
            var data = Data()
            switch r.body {
            case .data(let d): data = d
            case .file(let path, let offset, let length):
                guard let handle = FileHandle(forReadingAtPath: path) else { return reply(r, 500) }
                try? handle.seek(toOffset: UInt64(offset))
                data = (try? handle.read(upToCount: Int(length))) ?? Data()
                try? handle.close()
            default: break
            }
            let digest = URLComponents(url: r.url, resolvingAgainstBaseURL: true)?.queryItems?.first { $0.name == "digest" }?.value ?? ""
            guard Digest.sha256(of: data).description == digest else { return reply(r, 400, body: #"{"errors":[{"code":"DIGEST_INVALID"}]}"#) }
            state.withLock { $0.blobs["\(repository)@\(digest)"] = data }
            return reply(r, 201, ["Docker-Content-Digest": digest])
        case "DELETE":
            return reply(r, 204)
        default:
            return reply(r, 405)
        }
    }
}

/// Sends each request to the scripted registry of its host.
public final class Router: HTTPTransport {
    public let routes: [String: any HTTPTransport]
    public init(_ routes: [String: any HTTPTransport]) { self.routes = routes }
    public func allowsPlainHTTP(host: String) -> Bool { false }
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard let host = request.url.host, let route = routes[host] ?? routes.values.first(where: { _ in host == "auth.example.com" }) else {
            return reply(request, 404)
        }
        return try await route.send(request)
    }
}
