import Foundation

/// Header fields in arrival order, looked up case-insensitively (HTTP/2 lower-cases them all).
public struct HTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [Field]

    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    public init() { fields = [] }
    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { Field(name: $0.0, value: $0.1) }
    }

    public mutating func add(_ name: String, _ value: String) { fields.append(Field(name: name, value: value)) }

    /// Replaces every field of that name with one field.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// The first value of a field, if present.
    public subscript(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Every value of a field (e.g. several `WWW-Authenticate` challenges).
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
}

/// What a request sends. Files are streamed from a byte range (a read callback), never loaded,
/// so a multi-GiB layer costs a fixed buffer; `data` is for manifests and small JSON.
public enum HTTPBody: Sendable {
    case none
    case data(Data)
    case file(path: String, offset: Int64, length: Int64)

    /// Bytes the body sends (the Content-Length).
    public var length: Int64 {
        switch self {
        case .none: return 0
        case .data(let d): return Int64(d.count)
        case .file(_, _, let length): return length
        }
    }
}

/// Where a response body goes: bounded memory (manifests, JSON, errors), nowhere, or a file
/// (blobs, ADD downloads), so no caller can accidentally buffer a layer.
public enum ResponseSink: Sendable {
    /// Keep at most `limit` bytes; a longer body fails the request.
    case memory(limit: Int)
    /// Drop the body; one longer than `discardLimit` fails the request (so do redirect bodies).
    case discard
    /// Write the body (of the final, non-redirect response) to this file, truncating it; a
    /// body longer than `limit` bytes fails the request (a download cannot fill the disk).
    case file(URL, limit: Int64? = nil)

    /// Large enough for any manifest or index a registry accepts (distribution caps them at 4 MiB).
    public static let manifestLimit = 4 << 20
    /// The most of a dropped body read: error pages and redirect bodies are small.
    public static let discardLimit = 1 << 20
}

/// One HTTP exchange as its caller (registry, AWS, ADD) describes it; the transport fills in
/// the rest (User-Agent, TLS, proxies, timeouts).
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: HTTPHeaders
    public var body: HTTPBody
    public var sink: ResponseSink
    /// Follow 3xx answers ourselves; `Authorization` is dropped when the origin changes.
    public var followRedirects: Bool
    /// Bytes of the body sent so far, called from the transfer thread (cheap closures only).
    public var onUploadProgress: (@Sendable (Int64) -> Void)?
    /// The caller named this `http://` URL itself (an `ADD` source, as Docker allows): it may
    /// go over plain HTTP even to a host not named insecure. Never carried across redirects.
    public var permitsPlainHTTP = false
    /// Part of a bulk transfer (a blob upload session: its POST, PATCHes and PUT), which goes
    /// over HTTP/1.1 connections of its own rather than as a stream of the shared HTTP/2 one:
    /// an h2 stream is held to the server's flow-control window per round trip (1 MiB for
    /// distribution's Go server, ≤ 20 MB/s at 50 ms RTT). Requests with a file body always are.
    public var bulk = false

    public init(method: String, url: URL, headers: HTTPHeaders = HTTPHeaders(), body: HTTPBody = .none,
                sink: ResponseSink = .memory(limit: ResponseSink.manifestLimit), followRedirects: Bool = true,
                onUploadProgress: (@Sendable (Int64) -> Void)? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.sink = sink
        self.followRedirects = followRedirects
        self.onUploadProgress = onUploadProgress
    }
}

extension HTTPRequest {
    /// Whether the request goes over an HTTP/1.1 connection of its own (`bulk`, or a file body).
    var isBulk: Bool {
        if bulk { return true }
        if case .file = body { return true }
        return false
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// The body when the sink was `.memory`; empty otherwise.
    public var body: Data
    /// The URL that produced this response (after redirects): relative `Location`s resolve
    /// against it.
    public var url: URL
    /// "1.1", "2", …
    public var httpVersion: String

    public init(status: Int, headers: HTTPHeaders, body: Data, url: URL, httpVersion: String = "1.1") {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.httpVersion = httpVersion
    }

    /// The statuses whose `Location` is followed (with `followRedirects`).
    public static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    /// A `Location` header resolved against the request URL (registries may send relative ones).
    public var location: URL? {
        guard let value = headers["Location"], !value.isEmpty else { return nil }
        return URL(string: value, relativeTo: url)?.absoluteURL
    }
}

/// The transport seam: `HTTPClient` (libcurl) in production; tests may substitute a fake.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
    /// Whether plain `http://` may be used for this host (`host` or `host:port`).
    func allowsPlainHTTP(host: String) -> Bool
}

extension URL {
    /// `host[:port]` as registries and certs.d directories name it (`[::1]:5000` for IPv6).
    public var hostAndPort: String {
        guard let components = URLComponents(url: self, resolvingAgainstBaseURL: true), let host = components.host else { return "" }
        let h = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = components.port { return "\(h):\(port)" }
        return h
    }

    /// scheme + host + port: redirects that change it must not carry credentials.
    public var origin: String {
        let scheme = (self.scheme ?? "").lowercased()
        let components = URLComponents(url: self, resolvingAgainstBaseURL: true)
        let port = components?.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\((components?.host ?? "").lowercased()):\(port)"
    }
}
