import CCurl
import Foundation

/// The one HTTP layer, on libcurl. Connections, DNS answers and TLS sessions live in a curl
/// share handle used by every request, and easy handles are pooled, so a push of many blobs
/// over a few threads reuses a handful of connections (HTTP/2 where the server offers it).
/// TLS is always verified; plain HTTP is only for loopback and hosts named insecure.
/// Each transfer blocks one dispatch thread; `send` exposes it as async.
public final class HTTPClient: HTTPTransport, @unchecked Sendable {
    // @unchecked: the share handle is locked by its own mutexes (shim.h), the handle pool and
    // TLS cache by `Locked`; the slists are written once in init and only read afterwards.

    public let configuration: Configuration
    let share: UnsafeMutableRawPointer
    private let shareLocks: UnsafeMutableRawPointer
    let connectToList: UnsafeMutablePointer<curl_slist>?
    let pool = Locked<[UnsafeMutableRawPointer]>([])
    let tlsCache = Locked<[String: TLSSettings]>([:])
    /// Per host (no port): its addresses when they are all loopback, nil when not.
    let loopbackCache = Locked<[String: [String]?]>([:])

    /// A client configured from the environment, shared by everything in the process so all
    /// requests share one connection cache.
    public static let shared = HTTPClient(configuration: .fromEnvironment())

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    public init(configuration: Configuration) {
        _ = Self.globalInit
        self.configuration = configuration
        var locks: UnsafeMutableRawPointer?
        guard let share = slipway_curl_share_new(&locks), let locks else {
            preconditionFailure("curl_share_init failed (out of memory)")
        }
        self.share = share
        self.shareLocks = locks
        var list: UnsafeMutablePointer<curl_slist>?
        for entry in configuration.connectTo { list = curl_slist_append(list, entry) }
        connectToList = list
    }

    deinit {
        for handle in pool.withLock({ $0 }) { curl_easy_cleanup(handle) }
        slipway_curl_share_free(share, shareLocks)
        curl_slist_free_all(connectToList)
    }

    public func allowsPlainHTTP(host: String) -> Bool {
        plainHTTP(host: host) != nil
    }

    /// Why plain HTTP may go to a host: it was named insecure, or every address it resolves to
    /// is loopback (those addresses, which the request is then pinned to, so the name cannot
    /// resolve elsewhere between the check and the connection).
    enum PlainHTTPAllowance: Equatable { case named, loopback([String]) }

    func plainHTTP(host: String) -> PlainHTTPAllowance? {
        let lower = host.lowercased()
        let bare = Self.stripPort(lower)
        if configuration.insecureHosts.contains(lower) || configuration.insecureHosts.contains(bare) { return .named }
        guard configuration.allowLoopbackHTTP else { return nil }
        if let known = loopbackCache.withLock({ $0[bare] }) { return known.map(PlainHTTPAllowance.loopback) }
        let addresses = Loopback.addresses(of: bare)
        loopbackCache.withLock { $0[bare] = .some(addresses) }
        return addresses.map(PlainHTTPAllowance.loopback)
    }

    static func stripPort(_ host: String) -> String {
        if host.hasPrefix("[") { return String(host.dropFirst().prefix { $0 != "]" }) }
        if host.filter({ $0 == ":" }).count == 1, let colon = host.lastIndex(of: ":") { return String(host[..<colon]) }
        return host
    }

    /// A curl `CURLOPT_RESOLVE` entry pinning a plain-HTTP request to a name to the loopback
    /// addresses it was allowed on; nil for address literals and names not resolved here.
    func pinnedResolution(for request: HTTPRequest) -> String? {
        let host = Self.stripPort(request.url.hostAndPort.lowercased())
        guard !request.permitsPlainHTTP, !host.isEmpty, Loopback.parse(host) == nil, host != "localhost", !host.hasSuffix(".localhost"),
              case .loopback(let addresses)? = plainHTTP(host: request.url.hostAndPort), !addresses.isEmpty else { return nil }
        let port = request.url.port ?? 80
        return "\(host):\(port):" + addresses.map { $0.contains(":") ? "[\($0)]" : $0 }.joined(separator: ",")
    }

    // MARK: sending

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let cancel = CancelFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try self.sendBlocking(request, cancel: cancel) })
                }
            }
        } onCancel: {
            cancel.set()
        }
    }

    /// Sends a request on the calling thread, following redirects by hand so that credentials
    /// never reach a host they were not meant for.
    public func sendBlocking(_ request: HTTPRequest, cancel: CancelFlag = CancelFlag()) throws -> HTTPResponse {
        var current = request
        for _ in 0..<10 {
            let response = try perform(current, cancel: cancel)
            guard current.followRedirects, HTTPResponse.redirectStatuses.contains(response.status), let next = response.location else {
                return response
            }
            if next.origin != current.url.origin { current.headers.remove("Authorization") }
            if response.status == 303 || ((response.status == 301 || response.status == 302) && current.method == "POST") {
                current.method = current.method == "HEAD" ? "HEAD" : "GET"
                current.body = .none
                current.headers.remove("Content-Type")
                current.headers.remove("Content-Length")
            }
            current.url = next
            // Only the URL the caller named may be plain HTTP on its say-so.
            current.permitsPlainHTTP = false
        }
        throw HTTPError.protocolViolation(host: request.url.hostAndPort, detail: "too many redirects from \(request.method) \(request.url.path)")
    }

    private func perform(_ request: HTTPRequest, cancel: CancelFlag) throws -> HTTPResponse {
        let host = request.url.hostAndPort
        switch request.url.scheme?.lowercased() {
        case "https": break
        case "http": guard request.permitsPlainHTTP || allowsPlainHTTP(host: host) else { throw HTTPError.insecureNotAllowed(host: host) }
        default: throw HTTPError.protocolViolation(host: host, detail: "unsupported URL scheme in \(request.url.absoluteString)")
        }
        if cancel.isSet { throw HTTPError.cancelled }

        let handle = checkoutHandle()
        var reusable = true
        defer { checkin(handle, reusable: reusable) }

        let state = try TransferState(request: request, cancel: cancel)
        defer { state.close() }
        let userdata = Unmanaged.passUnretained(state).toOpaque()

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        var resolveList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(resolveList) }
        if request.url.scheme?.lowercased() == "http", let pinned = pinnedResolution(for: request) {
            resolveList = curl_slist_append(nil, pinned)
        }
        for field in request.headers { headerList = curl_slist_append(headerList, "\(field.name): \(field.value)") }
        // No 100-continue round trip: registries answer auth failures before reading bodies anyway,
        // and some proxies mishandle it.
        headerList = curl_slist_append(headerList, "Expect:")

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errbuf in
            slipway_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errbuf.baseAddress)
            configure(handle, request: request, headers: headerList, userdata: userdata, state: state)
            if let resolveList { slipway_curl_setopt_ptr(handle, CURLOPT_RESOLVE, resolveList) }
            debug("→ \(request.method) \(request.url.absoluteString)" + request.headers.map { " \($0.name): \(Redactor.redactHeader(name: $0.name, value: $0.value))" }.joined(separator: ";"))
            let code = curl_easy_perform(handle)
            slipway_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, nil)
            return code
        }
        if code != CURLE_OK {
            reusable = code != CURLE_OUT_OF_MEMORY
            if cancel.isSet { throw HTTPError.cancelled }
            if let failure = state.failure { throw failure }
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            debug("✗ \(request.method) \(request.url.absoluteString): \(message)")
            if Self.isUnreachable(code) { throw HTTPError.unreachable(host: host, message: message) }
            throw HTTPError.transport(host: host, message: message, retryable: Self.isRetryable(code))
        }
        guard state.headersComplete else {
            debug("✗ \(request.method) \(request.url.absoluteString): connection closed inside the response headers")
            throw HTTPError.transport(host: host, message: "connection closed inside the response headers", retryable: true)
        }
        var status = 0
        slipway_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var version = 0
        slipway_curl_getinfo_long(handle, CURLINFO_HTTP_VERSION, &version)
        let response = HTTPResponse(status: status, headers: state.headers, body: state.body, url: request.url,
                                    httpVersion: version == Int(CURL_HTTP_VERSION_2_0) ? "2" : version == Int(CURL_HTTP_VERSION_3) ? "3" : "1.1")
        debug("← \(status) \(request.method) \(request.url.absoluteString) HTTP/\(response.httpVersion)")
        return response
    }

    private func debug(_ line: @autoclosure () -> String) {
        guard let log = configuration.debugLog else { return }
        log(Redactor.redact(line()))
    }

    static func isRetryable(_ code: CURLcode) -> Bool {
        [CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
         CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_SSL_CONNECT_ERROR].contains(code)
    }

    /// No DNS answer for the host (or the proxy), or nothing listening: `HTTPError.unreachable`.
    static func isUnreachable(_ code: CURLcode) -> Bool {
        [CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY].contains(code)
    }
}

/// Set by task cancellation; the transfer notices it in its progress callback.
public final class CancelFlag: Sendable {
    private let flag = Locked(false)
    public init() {}
    public func set() { flag.withLock { $0 = true } }
    public var isSet: Bool { flag.withLock { $0 } }
}
