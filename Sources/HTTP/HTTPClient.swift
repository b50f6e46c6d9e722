import CCurl
import Foundation

/// The one HTTP layer, on libcurl. Every transfer runs in one multi handle driven by one thread
/// (`TransferLoop`): connections are reused, and concurrent small requests to a host share one
/// HTTP/2 connection as streams where the server offers h2; DNS answers and TLS sessions live
/// in a share handle, and easy handles are pooled. No thread blocks per request, so hundreds
/// can be in flight. TLS is always verified; plain HTTP is only for loopback and hosts named
/// insecure.
public final class HTTPClient: HTTPTransport, @unchecked Sendable {
    // @unchecked: the share handle is locked by its own mutexes (shim.h), the handle pool and
    // TLS cache by `Locked`; the slists are written once in init and only read afterwards;
    // easy handles are used by one thread at a time (configured here, run by the loop).

    public let configuration: Configuration
    let share: UnsafeMutableRawPointer
    private let shareLocks: UnsafeMutableRawPointer
    let connectToList: UnsafeMutablePointer<curl_slist>?
    let pool = Locked<[UnsafeMutableRawPointer]>([])
    let tlsCache = Locked<[String: TLSSettings]>([:])
    /// Per host (no port): its addresses when they are all loopback, nil when not.
    let loopbackCache = Locked<[String: [String]?]>([:])
    /// The multi handle every transfer of this client runs in (connections live there), but
    /// bulk ones.
    let loop = TransferLoop()
    /// Bulk transfers (`HTTPRequest.isBulk`: blob bodies) run in a multi handle of their own, so
    /// its HTTP/1.1 connections are reused only by other bulk transfers. In one connection cache
    /// a small request that may use h2 (a HEAD, a session's POST) takes an idle HTTP/1.1
    /// connection when there is one, and the next blob body opens one more (measured: 17
    /// connections for a 126-blob push at --jobs 8, against 1 + 8 with the two caches).
    /// Started by the first bulk transfer: most clients (AWS, instance metadata, pulls) never
    /// send one and so never run a second thread.
    var bulkLoop: TransferLoop {
        bulkLoopStore.withLock { store in
            if let existing = store { return existing }
            let started = TransferLoop()
            store = started
            return started
        }
    }
    private let bulkLoopStore = Locked<TransferLoop?>(nil)

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
        // Freed on the loop thread once its multi handle is cleaned up: freeing the share while
        // the multi still held connections into it was a double free at exit.
        let owned = OwnedCurlState(handles: pool.withLock { $0 }, share: share, shareLocks: shareLocks, connectTo: connectToList)
        let loop = loop
        if let bulk = bulkLoopStore.withLock({ $0 }) {
            bulk.stop { loop.stop { owned.free() } }
        } else {
            loop.stop { owned.free() }
        }
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
            var current = request
            for _ in 0..<Self.redirectLimit {
                let sent = current
                let response = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                    self.start(sent, cancel: cancel) { continuation.resume(with: $0) }
                }
                guard let next = Self.redirect(from: current, answered: response) else { return response }
                current = next
            }
            throw Self.tooManyRedirects(request)
        } onCancel: {
            cancel.set()
        }
    }

    /// Sends a request and waits on the calling thread (never the transfer loop's), following
    /// redirects by hand so that credentials never reach a host they were not meant for.
    public func sendBlocking(_ request: HTTPRequest, cancel: CancelFlag = CancelFlag()) throws -> HTTPResponse {
        var current = request
        for _ in 0..<Self.redirectLimit {
            let outcome = Locked<Result<HTTPResponse, Error>>(.failure(HTTPError.cancelled))
            let done = DispatchSemaphore(value: 0)
            start(current, cancel: cancel) { result in
                outcome.withLock { $0 = result }
                done.signal()
            }
            done.wait()
            let response = try outcome.withLock { $0 }.get()
            guard let next = Self.redirect(from: current, answered: response) else { return response }
            current = next
        }
        throw Self.tooManyRedirects(request)
    }

    static let redirectLimit = 10

    static func tooManyRedirects(_ request: HTTPRequest) -> HTTPError {
        .protocolViolation(host: request.url.hostAndPort, detail: "too many redirects from \(request.method) \(request.url.path)")
    }

    /// The request a redirect answer leads to, or nil when the response is final.
    static func redirect(from current: HTTPRequest, answered response: HTTPResponse) -> HTTPRequest? {
        guard current.followRedirects, HTTPResponse.redirectStatuses.contains(response.status), let target = response.location else { return nil }
        var next = current
        if target.origin != current.url.origin { next.headers.remove("Authorization") }
        if response.status == 303 || ((response.status == 301 || response.status == 302) && current.method == "POST") {
            next.method = current.method == "HEAD" ? "HEAD" : "GET"
            next.body = .none
            next.headers.remove("Content-Type")
            next.headers.remove("Content-Length")
        }
        next.url = target
        // Only the URL the caller named may be plain HTTP on its say-so.
        next.permitsPlainHTTP = false
        return next
    }

    /// Configures a pooled easy handle for one exchange and hands it to the transfer loop;
    /// `completion` runs on the loop thread (it must be quick) with the response or error.
    private func start(_ request: HTTPRequest, cancel: CancelFlag, completion: @escaping @Sendable (Result<HTTPResponse, Error>) -> Void) {
        let host = request.url.hostAndPort
        switch request.url.scheme?.lowercased() {
        case "https": break
        case "http":
            guard request.permitsPlainHTTP || allowsPlainHTTP(host: host) else { return completion(.failure(HTTPError.insecureNotAllowed(host: host))) }
        default:
            return completion(.failure(HTTPError.protocolViolation(host: host, detail: "unsupported URL scheme in \(request.url.absoluteString)")))
        }
        if cancel.isSet { return completion(.failure(HTTPError.cancelled)) }

        let transfer: Transfer
        do {
            transfer = Transfer(handle: checkoutHandle(), state: try TransferState(request: request, cancel: cancel))
        } catch {
            return completion(.failure(error))
        }
        if request.url.scheme?.lowercased() == "http", let pinned = pinnedResolution(for: request) {
            transfer.resolveList = curl_slist_append(nil, pinned)
        }
        for field in request.headers { transfer.headerList = curl_slist_append(transfer.headerList, "\(field.name): \(field.value)") }
        // No 100-continue round trip: registries answer auth failures before reading bodies anyway,
        // and some proxies mishandle it.
        transfer.headerList = curl_slist_append(transfer.headerList, "Expect:")

        let handle = transfer.handle
        slipway_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer)
        configure(handle, request: request, headers: transfer.headerList, userdata: Unmanaged.passUnretained(transfer.state).toOpaque(), state: transfer.state)
        if let resolveList = transfer.resolveList { slipway_curl_setopt_ptr(handle, CURLOPT_RESOLVE, resolveList) }
        debug("→ \(request.method) \(request.url.absoluteString)" + request.headers.map { " \($0.name): \(Redactor.redactHeader(name: $0.name, value: $0.value))" }.joined(separator: ";"))
        (request.isBulk ? bulkLoop : loop).submit(TransferLoop.Job(handle: handle) { code in
            completion(Result { try self.finish(transfer, code: code) })
        })
    }

    /// Reads the outcome of a finished transfer and returns its handle to the pool.
    private func finish(_ transfer: Transfer, code: CURLcode) throws -> HTTPResponse {
        let request = transfer.state.request
        let state = transfer.state
        let handle = transfer.handle
        let host = request.url.hostAndPort
        var reusable = true
        defer {
            slipway_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, nil)
            transfer.release()
            checkin(handle, reusable: reusable)
        }
        if code != CURLE_OK {
            reusable = code != CURLE_OUT_OF_MEMORY && code != CURLE_FAILED_INIT
            if state.cancel.isSet { throw HTTPError.cancelled }
            if let failure = state.failure { throw failure }
            let detail = transfer.errorMessage
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

/// The libcurl state an `HTTPClient` leaves for its loop thread to free, in a safe order.
private struct OwnedCurlState: @unchecked Sendable {
    // @unchecked: handed from the client's deinit to the loop thread once, used there only.
    let handles: [UnsafeMutableRawPointer]
    let share: UnsafeMutableRawPointer
    let shareLocks: UnsafeMutableRawPointer
    let connectTo: UnsafeMutablePointer<curl_slist>?

    func free() {
        for handle in handles { curl_easy_cleanup(handle) }
        slipway_curl_share_free(share, shareLocks)
        curl_slist_free_all(connectTo)
    }
}
