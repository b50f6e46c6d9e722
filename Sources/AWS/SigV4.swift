import Foundation
import HTTP

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`), header and presigned-query forms, with the
/// non-S3 rules the SDKs use for every JSON and Query API (path URI-encoded once more,
/// `.`/`..` and repeated `/` removed when `normalizePath` is set). Checked against the
/// aws-c-auth conformance suite (`testdata/conformance/sigv4`).
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// SHA-256 of the empty string: the payload hash of a request without a body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// A request as the signer sees it: the path and query exactly as they go on the wire.
    public struct Request: Sendable, Hashable {
        public var method: String
        /// The path as sent (`/`, `/a%20b`); raw spaces or UTF-8 are encoded like the SDKs do.
        public var path: String
        /// The query string without `?` (empty for none).
        public var query: String
        /// Header fields in order; names compared case-insensitively.
        public var headers: [(name: String, value: String)]
        public var body: Data

        public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [], body: Data = Data()) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }

        public static func == (a: Request, b: Request) -> Bool {
            a.method == b.method && a.path == b.path && a.query == b.query && a.body == b.body
                && a.headers.map { [$0.name, $0.value] } == b.headers.map { [$0.name, $0.value] }
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(method)
            hasher.combine(path)
            hasher.combine(query)
            for h in headers { hasher.combine(h.name); hasher.combine(h.value) }
            hasher.combine(body)
        }
    }

    public struct Options: Sendable, Hashable {
        /// Remove `.`/`..` segments and collapse repeated `/` in the canonical URI (every
        /// service but S3).
        public var normalizePath = true
        /// Hash the body (otherwise the empty-body hash is used, for requests signed before
        /// their body is known); the JSON and Query APIs hash it.
        public var signBody = true
        /// Also send and sign `x-amz-content-sha256` (S3 style; off for ECR and STS).
        public var addContentSHA256Header = false
        /// Send the session token but leave it out of the signature (a few services want that).
        public var omitSessionToken = false
        /// Lifetime of a presigned URL.
        public var expiresIn = 3600
        /// Header names (lower-case) never signed: the transport may add or change them.
        public var unsignedHeaders: Set<String> = ["user-agent", "expect", "x-amzn-trace-id", "transfer-encoding", "connection", "authorization"]

        public init(normalizePath: Bool = true, signBody: Bool = true, addContentSHA256Header: Bool = false,
                    omitSessionToken: Bool = false, expiresIn: Int = 3600) {
            self.normalizePath = normalizePath
            self.signBody = signBody
            self.addContentSHA256Header = addContentSHA256Header
            self.omitSessionToken = omitSessionToken
            self.expiresIn = expiresIn
        }
    }

    /// The intermediate values of one signature (tests compare them with the suite).
    public struct Signature: Sendable, Hashable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
        /// The credential scope `DATE/REGION/SERVICE/aws4_request`.
        public var scope: String
    }

    /// Signs with an `Authorization` header: adds `X-Amz-Security-Token` (when there is a
    /// session token), `X-Amz-Date`, optionally `x-amz-content-sha256`, and `Authorization`.
    @discardableResult
    public static func signHeaders(_ request: inout Request, credentials: AWSCredentials, region: String, service: String,
                                   date: Date, options: Options = Options()) -> Signature {
        let (amzDate, day) = timestamps(date)
        request.headers.removeAll { ["authorization", "x-amz-date"].contains($0.name.lowercased()) || ($0.name.lowercased() == "x-amz-security-token" && credentials.sessionToken != nil) }
        if let token = credentials.sessionToken { request.headers.append(("X-Amz-Security-Token", token)) }
        request.headers.append(("X-Amz-Date", amzDate))
        let payloadHash = options.signBody ? Crypto.sha256Hex(request.body) : emptyPayloadHash
        if options.addContentSHA256Header {
            request.headers.removeAll { $0.name.lowercased() == "x-amz-content-sha256" }
            request.headers.append(("x-amz-content-sha256", payloadHash))
        }
        var excluded = options.unsignedHeaders
        if options.omitSessionToken { excluded.insert("x-amz-security-token") }
        let (canonicalHeaders, signedHeaders) = canonicalize(headers: request.headers, excluding: excluded)
        let canonicalRequest = [request.method, canonicalURI(request.path, normalize: options.normalizePath),
                                canonicalQuery(parseQuery(request.query)), canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let result = finish(canonicalRequest: canonicalRequest, amzDate: amzDate, day: day, scope: scope, signedHeaders: signedHeaders,
                            credentials: credentials, region: region, service: service)
        request.headers.append(("Authorization", "\(algorithm) Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(result.signature)"))
        return result
    }

    /// Presigns in the query string (`X-Amz-Algorithm` … `X-Amz-Signature`).
    @discardableResult
    public static func presign(_ request: inout Request, credentials: AWSCredentials, region: String, service: String,
                               date: Date, options: Options = Options()) -> Signature {
        let (amzDate, day) = timestamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let (canonicalHeaders, signedHeaders) = canonicalize(headers: request.headers, excluding: options.unsignedHeaders)
        var added: [(String, String)] = [
            ("X-Amz-Algorithm", algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
            ("X-Amz-Date", amzDate),
            ("X-Amz-SignedHeaders", signedHeaders),
            ("X-Amz-Expires", String(options.expiresIn)),
        ]
        if let token = credentials.sessionToken, !options.omitSessionToken { added.append(("X-Amz-Security-Token", token)) }
        let params = parseQuery(request.query) + added
        let payloadHash = options.signBody ? Crypto.sha256Hex(request.body) : emptyPayloadHash
        let canonicalRequest = [request.method, canonicalURI(request.path, normalize: options.normalizePath),
                                canonicalQuery(params), canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        let result = finish(canonicalRequest: canonicalRequest, amzDate: amzDate, day: day, scope: scope, signedHeaders: signedHeaders,
                            credentials: credentials, region: region, service: service)
        if let token = credentials.sessionToken, options.omitSessionToken { added.append(("X-Amz-Security-Token", token)) }
        added.append(("X-Amz-Signature", result.signature))
        let suffix = added.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        request.query = request.query.isEmpty ? suffix : request.query + "&" + suffix
        return result
    }

    /// Signs a transport request (header form): adds `Host`, `X-Amz-Date`, the session token and
    /// `Authorization`. Bodies must be in memory (`.data`) or absent.
    public static func sign(_ http: HTTPRequest, credentials: AWSCredentials, region: String, service: String,
                            date: Date = Date(), options: Options = Options()) throws -> HTTPRequest {
        guard let components = URLComponents(url: http.url, resolvingAgainstBaseURL: true), let host = components.host else {
            throw AWSError.invalidRequest("cannot sign a request to \(http.url.absoluteString)")
        }
        let body: Data
        switch http.body {
        case .none: body = Data()
        case .data(let d): body = d
        case .file: throw AWSError.invalidRequest("SigV4 signing of file bodies is not supported")
        }
        var hostValue = host.contains(":") ? "[\(host)]" : host
        let scheme = (components.scheme ?? "https").lowercased()
        if let port = components.port, !(scheme == "https" && port == 443) && !(scheme == "http" && port == 80) { hostValue += ":\(port)" }
        var headers = http.headers.fields.filter { $0.name.lowercased() != "host" }.map { (name: $0.name, value: $0.value) }
        headers.insert(("Host", hostValue), at: 0)
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        var request = Request(method: http.method, path: path, query: components.percentEncodedQuery ?? "", headers: headers, body: body)
        signHeaders(&request, credentials: credentials, region: region, service: service, date: date, options: options)
        var signed = http
        var out = HTTPHeaders()
        for h in request.headers { out.add(h.name, h.value) }
        signed.headers = out
        return signed
    }

    // MARK: pieces

    static func timestamps(_ date: Date) -> (amzDate: String, day: String) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let day = String(format: "%04d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday))
        let time = String(format: "%02d%02d%02d", Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return ("\(day)T\(time)Z", day)
    }

    static func finish(canonicalRequest: String, amzDate: String, day: String, scope: String, signedHeaders: String,
                       credentials: AWSCredentials, region: String, service: String) -> Signature {
        let stringToSign = [algorithm, amzDate, scope, Crypto.sha256Hex(Data(canonicalRequest.utf8))].joined(separator: "\n")
        let key = signingKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        let signature = Crypto.hex(Crypto.hmacSHA256(key: key, Array(stringToSign.utf8)))
        return Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, signedHeaders: signedHeaders, scope: scope)
    }

    static func signingKey(secret: String, day: String, region: String, service: String) -> [UInt8] {
        var key = Crypto.hmacSHA256(key: Array("AWS4\(secret)".utf8), Array(day.utf8))
        key = Crypto.hmacSHA256(key: key, Array(region.utf8))
        key = Crypto.hmacSHA256(key: key, Array(service.utf8))
        return Crypto.hmacSHA256(key: key, Array("aws4_request".utf8))
    }

    /// Lower-cased names, values trimmed with inner whitespace runs collapsed, repeated names
    /// joined with `,` in arrival order, sorted by name.
    static func canonicalize(headers: [(name: String, value: String)], excluding: Set<String>) -> (String, String) {
        var order: [String] = []
        var values: [String: [String]] = [:]
        for h in headers {
            let name = h.name.lowercased().trimmingCharacters(in: .whitespaces)
            if excluding.contains(name) { continue }
            if values[name] == nil { order.append(name) }
            values[name, default: []].append(canonicalValue(h.value))
        }
        let names = order.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let canonical = names.map { "\($0):\(values[$0, default: []].joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    static func canonicalValue(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for scalar in value.unicodeScalars {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func canonicalURI(_ path: String, normalize: Bool) -> String {
        var p = path.isEmpty ? "/" : path
        if normalize {
            var segments: [Substring] = []
            for segment in p.split(separator: "/", omittingEmptySubsequences: true) {
                if segment == "." { continue }
                if segment == ".." { if !segments.isEmpty { segments.removeLast() }; continue }
                segments.append(segment)
            }
            let trailing = p.hasSuffix("/") && !segments.isEmpty
            p = "/" + segments.joined(separator: "/") + (trailing ? "/" : "")
        }
        return encode(p, keepSlash: true)
    }

    /// Query parameters (name, value) decoded; an already-encoded name is not encoded twice.
    static func parseQuery(_ query: String) -> [(String, String)] {
        guard !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : ""
            return (name.removingPercentEncoding ?? name, value.removingPercentEncoding ?? value)
        }
    }

    static func canonicalQuery(_ params: [(String, String)]) -> String {
        params.map { (encode($0.0), encode($0.1)) }
            .sorted { a, b in
                a.0 == b.0 ? Array(a.1.utf8).lexicographicallyPrecedes(Array(b.1.utf8)) : Array(a.0.utf8).lexicographicallyPrecedes(Array(b.0.utf8))
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// RFC 3986 encoding of everything but `A-Z a-z 0-9 - _ . ~` (and `/` in paths), upper-case hex.
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: "/") where keepSlash:
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
