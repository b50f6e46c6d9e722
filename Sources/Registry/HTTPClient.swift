import CCurl
import Foundation
import OCI

/// The one HTTP layer, on libcurl. Connections, DNS answers and TLS sessions live in a curl
/// share handle used by every request, and easy handles are pooled, so a push of many blobs
/// over a few threads reuses a handful of connections (HTTP/2 where the server offers it).
/// TLS is always verified; plain HTTP is only for loopback and hosts named insecure.
/// Each transfer blocks one dispatch thread; `send` exposes it as async.
public final class HTTPClient: HTTPTransport, @unchecked Sendable {
    // @unchecked: the share handle is locked by its own mutexes (shim.h), the handle pool and
    // TLS cache by `Locked`; the slists are written once in init and only read afterwards.

    /// Settings that shape every request. `fromEnvironment` reads what docker and curl read.
    public struct Configuration: Sendable {
        public var userAgent = "slipway/\(SlipwayVersion.current)"
        /// Hosts (`host` or `host:port`) that may be reached over plain HTTP.
        public var insecureHosts: Set<String> = []
        /// Docker allows plain HTTP to 127.0.0.0/8 and ::1 without configuration; so do we.
        public var allowLoopbackHTTP = true
        public var connectTimeout: TimeInterval = 30
        /// A transfer slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` seconds is aborted
        /// (and then retried by the registry layer) instead of hanging forever.
        public var lowSpeedLimit = 1
        public var lowSpeedTime: TimeInterval = 60
        /// A CA bundle replacing the system one (`SSL_CERT_FILE`).
        public var caFile: String?
        /// A hashed CA directory (`SSL_CERT_DIR`).
        public var caDirectory: String?
        /// Roots of per-registry certificate directories (`ROOT/HOST[:PORT]/*.crt` extra CAs,
        /// `*.cert` + `*.key` a client certificate), docker's layout.
        public var certsDirectories: [String] = []
        /// curl `--connect-to` entries (`HOST:PORT:ADDR:PORT`) routing a name to another address.
        public var connectTo: [String] = []
        /// Receives one line per request and response, secrets redacted.
        public var debugLog: (@Sendable (String) -> Void)?

        public init() {}

        /// `SSL_CERT_FILE`, `SSL_CERT_DIR`, `SLIPWAY_CONNECT_TO` (comma-separated),
        /// `SLIPWAY_INSECURE_REGISTRIES` (comma-separated), `SLIPWAY_LOW_SPEED_TIME` (seconds;
        /// the fault tests shorten it so a stalled transfer is abandoned quickly), `/etc/docker/certs.d` and
        /// `$HOME/.config/slipway/certs.d`. Proxies (`https_proxy`, `no_proxy`, …) are read by curl.
        public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Configuration {
            var c = Configuration()
            c.caFile = env["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
            c.caDirectory = env["SSL_CERT_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            c.connectTo = (env["SLIPWAY_CONNECT_TO"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            c.insecureHosts = Set((env["SLIPWAY_INSECURE_REGISTRIES"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            if let seconds = env["SLIPWAY_LOW_SPEED_TIME"].flatMap(TimeInterval.init), seconds >= 1 { c.lowSpeedTime = seconds }
            c.certsDirectories = ["/etc/docker/certs.d"]
            let home = env["HOME"] ?? NSHomeDirectory()
            c.certsDirectories.append("\(home)/.config/slipway/certs.d")
            return c
        }
    }

    public let configuration: Configuration
    private let share: UnsafeMutableRawPointer
    private let shareLocks: UnsafeMutableRawPointer
    private let connectToList: UnsafeMutablePointer<curl_slist>?
    private let pool = Locked<[UnsafeMutableRawPointer]>([])
    private let tlsCache = Locked<[String: TLSSettings]>([:])

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
        let lower = host.lowercased()
        if configuration.insecureHosts.contains(lower) { return true }
        let bare = Self.stripPort(lower)
        if configuration.insecureHosts.contains(bare) { return true }
        return configuration.allowLoopbackHTTP && Self.isLoopback(bare)
    }

    static func stripPort(_ host: String) -> String {
        if host.hasPrefix("[") { return String(host.dropFirst().prefix { $0 != "]" }) }
        if host.filter({ $0 == ":" }).count == 1, let colon = host.lastIndex(of: ":") { return String(host[..<colon]) }
        return host
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
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
            guard current.followRedirects, [301, 302, 303, 307, 308].contains(response.status), let next = response.location else {
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
        }
        throw RegistryError.protocolViolation(registry: request.url.hostAndPort, detail: "too many redirects from \(request.method) \(request.url.path)")
    }

    private func perform(_ request: HTTPRequest, cancel: CancelFlag) throws -> HTTPResponse {
        let host = request.url.hostAndPort
        switch request.url.scheme?.lowercased() {
        case "https": break
        case "http": guard allowsPlainHTTP(host: host) else { throw RegistryError.insecureNotAllowed(host: host) }
        default: throw RegistryError.protocolViolation(registry: host, detail: "unsupported URL scheme in \(request.url.absoluteString)")
        }
        if cancel.isSet { throw RegistryError.cancelled }

        let handle = checkoutHandle()
        var reusable = true
        defer { checkin(handle, reusable: reusable) }

        let state = try TransferState(request: request, cancel: cancel)
        defer { state.close() }
        let userdata = Unmanaged.passUnretained(state).toOpaque()

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for field in request.headers { headerList = curl_slist_append(headerList, "\(field.name): \(field.value)") }
        // No 100-continue round trip: registries answer auth failures before reading bodies anyway,
        // and some proxies mishandle it.
        headerList = curl_slist_append(headerList, "Expect:")

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code: CURLcode = try errorBuffer.withUnsafeMutableBufferPointer { errbuf in
            slipway_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errbuf.baseAddress)
            try configure(handle, request: request, headers: headerList, userdata: userdata, state: state)
            debug("→ \(request.method) \(request.url.absoluteString)" + request.headers.map { " \($0.name): \(Redactor.redactHeader(name: $0.name, value: $0.value))" }.joined(separator: ";"))
            let code = curl_easy_perform(handle)
            slipway_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, nil)
            return code
        }
        if code != CURLE_OK {
            reusable = code != CURLE_OUT_OF_MEMORY
            if cancel.isSet { throw RegistryError.cancelled }
            if let failure = state.failure { throw failure }
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            debug("✗ \(request.method) \(request.url.absoluteString): \(message)")
            throw RegistryError.transport(host: host, message: message, retryable: Self.isRetryable(code))
        }
        guard state.headersComplete else {
            debug("✗ \(request.method) \(request.url.absoluteString): connection closed inside the response headers")
            throw RegistryError.transport(host: host, message: "connection closed inside the response headers", retryable: true)
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

    private func configure(_ h: UnsafeMutableRawPointer, request: HTTPRequest, headers: UnsafeMutablePointer<curl_slist>?,
                           userdata: UnsafeMutableRawPointer, state: TransferState) throws {
        let c = configuration
        slipway_curl_setopt_ptr(h, CURLOPT_URL, request.url.absoluteString)
        slipway_curl_setopt_ptr(h, CURLOPT_SHARE, share)
        slipway_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        slipway_curl_setopt_ptr(h, CURLOPT_USERAGENT, c.userAgent)
        // Blob uploads go over HTTP/1.1: one connection per parallel upload streams at full speed,
        // where an HTTP/2 stream is held back by flow-control windows; everything else may use h2.
        if case .file = request.body {
            slipway_curl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        } else {
            slipway_curl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        }
        slipway_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        slipway_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(c.connectTimeout * 1000))
        slipway_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, c.lowSpeedLimit)
        slipway_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, Int(c.lowSpeedTime.rounded(.up)))
        slipway_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        // Fewer, larger reads and writes for multi-MiB blobs (curl's defaults are 16/64 KiB).
        slipway_curl_setopt_long(h, CURLOPT_UPLOAD_BUFFERSIZE, 1 << 20)
        slipway_curl_setopt_long(h, CURLOPT_BUFFERSIZE, 512 << 10)
        slipway_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
        slipway_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
        if let list = connectToList { slipway_curl_setopt_ptr(h, CURLOPT_CONNECT_TO, list) }
        if request.url.scheme?.lowercased() == "https" {
            let tls = tlsSettings(for: request.url.hostAndPort)
            if let blob = tls.caBundle {
                _ = blob.withUnsafeBytes { slipway_curl_setopt_blob(h, CURLOPT_CAINFO_BLOB, $0.baseAddress, $0.count) }
            } else if let file = c.caFile {
                slipway_curl_setopt_ptr(h, CURLOPT_CAINFO, file)
            }
            if let dir = c.caDirectory { slipway_curl_setopt_ptr(h, CURLOPT_CAPATH, dir) }
            if let cert = tls.clientCertificate, let key = tls.clientKey {
                slipway_curl_setopt_ptr(h, CURLOPT_SSLCERT, cert)
                slipway_curl_setopt_ptr(h, CURLOPT_SSLKEY, key)
            }
        }

        switch request.method {
        case "GET":
            slipway_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
        case "HEAD":
            slipway_curl_setopt_long(h, CURLOPT_NOBODY, 1)
        default:
            // Every body (even an empty one) goes through the read callback with a known
            // length, so it is streamed and sent with Content-Length, never chunked.
            slipway_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
            slipway_curl_setopt_ptr(h, CURLOPT_CUSTOMREQUEST, request.method)
            slipway_curl_setopt_off(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.length))
            slipway_curl_setopt_read(h, transferRead)
            slipway_curl_setopt_ptr(h, CURLOPT_READDATA, userdata)
            slipway_curl_setopt_seek(h, transferSeek)
            slipway_curl_setopt_ptr(h, CURLOPT_SEEKDATA, userdata)
        }
        slipway_curl_setopt_ptr(h, CURLOPT_HTTPHEADER, headers)
        slipway_curl_setopt_write(h, CURLOPT_WRITEFUNCTION, transferWrite)
        slipway_curl_setopt_ptr(h, CURLOPT_WRITEDATA, userdata)
        slipway_curl_setopt_write(h, CURLOPT_HEADERFUNCTION, transferHeader)
        slipway_curl_setopt_ptr(h, CURLOPT_HEADERDATA, userdata)
        slipway_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        slipway_curl_setopt_xferinfo(h, transferProgress)
        slipway_curl_setopt_ptr(h, CURLOPT_XFERINFODATA, userdata)
        state.followingRedirects = request.followRedirects
    }

    private func checkoutHandle() -> UnsafeMutableRawPointer {
        if let handle = pool.withLock({ $0.popLast() }) {
            curl_easy_reset(handle)
            return handle
        }
        guard let handle = curl_easy_init() else { preconditionFailure("curl_easy_init failed (out of memory)") }
        return handle
    }

    private func checkin(_ handle: UnsafeMutableRawPointer, reusable: Bool) {
        guard reusable else { curl_easy_cleanup(handle); return }
        let kept = pool.withLock { pool -> Bool in
            guard pool.count < 32 else { return false }
            pool.append(handle)
            return true
        }
        if !kept { curl_easy_cleanup(handle) }
    }

    private func debug(_ line: @autoclosure () -> String) {
        guard let log = configuration.debugLog else { return }
        log(Redactor.redact(line()))
    }

    static func isRetryable(_ code: CURLcode) -> Bool {
        [CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING,
         CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_SSL_CONNECT_ERROR, CURLE_COULDNT_RESOLVE_HOST].contains(code)
    }

    // MARK: TLS material per host

    struct TLSSettings {
        /// System (or SSL_CERT_FILE) bundle plus the host's certs.d CAs; nil when the host has none.
        var caBundle: Data?
        var clientCertificate: String?
        var clientKey: String?
    }

    private func tlsSettings(for host: String) -> TLSSettings {
        if let cached = tlsCache.withLock({ $0[host] }) { return cached }
        var settings = TLSSettings()
        var extra = Data()
        let fm = FileManager.default
        for root in configuration.certsDirectories {
            let dir = "\(root)/\(host)"
            guard let names = try? fm.contentsOfDirectory(atPath: dir) else { continue }
            for name in names.sorted() {
                let path = "\(dir)/\(name)"
                if name.hasSuffix(".crt"), let pem = fm.contents(atPath: path) {
                    extra.append(pem)
                    extra.append(0x0A)
                } else if name.hasSuffix(".cert") {
                    let key = "\(dir)/\(name.dropLast(5)).key"
                    if fm.fileExists(atPath: key) {
                        settings.clientCertificate = path
                        settings.clientKey = key
                    }
                }
            }
        }
        if !extra.isEmpty {
            var bundle = Data()
            for candidate in [configuration.caFile, Self.defaultCAFile].compactMap({ $0 }) {
                if let base = fm.contents(atPath: candidate) {
                    bundle = base
                    bundle.append(0x0A)
                    break
                }
            }
            bundle.append(extra)
            settings.caBundle = bundle
        }
        tlsCache.withLock { $0[host] = settings }
        return settings
    }

    /// The bundle curl was built to use (Debian: /etc/ssl/certs/ca-certificates.crt).
    private static let defaultCAFile: String? = {
        guard let h = curl_easy_init() else { return nil }
        defer { curl_easy_cleanup(h) }
        var ptr: UnsafeMutablePointer<CChar>?
        if slipway_curl_getinfo_ptr(h, CURLINFO_CAINFO, &ptr) == CURLE_OK, let ptr { return String(cString: ptr) }
        return "/etc/ssl/certs/ca-certificates.crt"
    }()
}

/// Set by task cancellation; the transfer notices it in its progress callback.
public final class CancelFlag: @unchecked Sendable {
    private let flag = Locked(false)
    public init() {}
    public func set() { flag.withLock { $0 = true } }
    public var isSet: Bool { flag.withLock { $0 } }
}

/// The mutable state of one transfer, reached from curl's C callbacks through a raw pointer.
/// Only the transfer's own thread touches it while `curl_easy_perform` runs.
final class TransferState {
    let request: HTTPRequest
    let cancel: CancelFlag
    var headers = HTTPHeaders()
    var body = Data()
    var status = 0
    var followingRedirects = true
    var failure: RegistryError?
    /// Whether the last response's header block ended with its blank line (curl accepts a
    /// connection closed inside the headers as a complete response).
    var headersComplete = false
    private var bodyFD: Int32 = -1
    private var sinkFD: Int32 = -1
    private var readOffset: Int64 = 0
    private var lastProgress: Int64 = -1

    init(request: HTTPRequest, cancel: CancelFlag) throws {
        self.request = request
        self.cancel = cancel
        if case .file(let path, _, _) = request.body {
            bodyFD = open(path, O_RDONLY | O_CLOEXEC)
            if bodyFD < 0 { throw RegistryError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        }
        if case .file(let url) = request.sink {
            sinkFD = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if sinkFD < 0 { throw RegistryError.io("cannot write \(url.path): \(String(cString: strerror(errno)))") }
        }
    }

    func close() {
        if bodyFD >= 0 { Foundation.close(bodyFD); bodyFD = -1 }
        if sinkFD >= 0 { Foundation.close(sinkFD); sinkFD = -1 }
    }

    /// The body of a redirect is not the resource: it is dropped.
    var discardingBody: Bool { followingRedirects && [301, 302, 303, 307, 308].contains(status) }

    func receiveHeader(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            // A new response (after 100 Continue, or the final one): start over.
            headers = HTTPHeaders()
            headersComplete = false
            let parts = trimmed.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            return
        }
        if trimmed.isEmpty { headersComplete = true }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = String(trimmed[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(trimmed[trimmed.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        headers.add(name, value)
    }

    /// Returns false to abort the transfer.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if discardingBody { return true }
        switch request.sink {
        case .discard:
            return true
        case .memory(let limit):
            guard body.count + bytes.count <= limit else {
                failure = .protocolViolation(registry: request.url.hostAndPort,
                                             detail: "response to \(request.method) \(request.url.path) is larger than \(limit) bytes")
                return false
            }
            body.append(bytes.assumingMemoryBound(to: UInt8.self))
            return true
        case .file(let url):
            var done = 0
            while done < bytes.count {
                let n = write(sinkFD, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .io("cannot write \(url.path): \(String(cString: strerror(errno)))")
                    return false
                }
                done += n
            }
            return true
        }
    }

    /// Fills `buffer` with the next body bytes; 0 at the end; nil on a read error.
    func readBody(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        switch request.body {
        case .none:
            return 0
        case .data(let data):
            let start = Int(readOffset)
            let n = min(buffer.count, data.count - start)
            guard n > 0 else { return 0 }
            data.withUnsafeBytes { src in buffer.baseAddress!.copyMemory(from: src.baseAddress! + start, byteCount: n) }
            readOffset += Int64(n)
            return n
        case .file(let path, let offset, let length):
            let remaining = length - readOffset
            guard remaining > 0 else { return 0 }
            while true {
                let n = pread(bodyFD, buffer.baseAddress, min(buffer.count, Int(remaining)), off_t(offset + readOffset))
                if n < 0, errno == EINTR { continue }
                if n < 0 {
                    failure = .io("cannot read \(path): \(String(cString: strerror(errno)))")
                    return nil
                }
                if n == 0 {
                    failure = .io("\(path) is shorter than expected (\(offset + readOffset) of \(offset + length) bytes)")
                    return nil
                }
                readOffset += Int64(n)
                return n
            }
        }
    }

    /// curl rewinds when it must resend the body (a reused connection died before the request went out).
    func seek(to offset: Int64) -> Bool {
        guard offset >= 0, offset <= request.body.length else { return false }
        readOffset = offset
        return true
    }

    func progress(uploaded: Int64) -> Bool {
        if cancel.isSet { return false }
        if uploaded != lastProgress, let report = request.onUploadProgress {
            lastProgress = uploaded
            report(uploaded)
        }
        return true
    }
}

private func state(_ pointer: UnsafeMutableRawPointer?) -> TransferState {
    Unmanaged<TransferState>.fromOpaque(pointer!).takeUnretainedValue()
}

private let transferWrite: curl_write_callback = { data, size, count, userdata in
    let total = size * count
    guard total > 0, let data else { return 0 }
    return state(userdata).receiveBody(UnsafeRawBufferPointer(start: data, count: total)) ? total : 0
}

private let transferHeader: curl_write_callback = { data, size, count, userdata in
    let total = size * count
    guard total > 0, let data else { return total }
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: total), as: UTF8.self)
    state(userdata).receiveHeader(line)
    return total
}

private let transferRead: curl_read_callback = { buffer, size, count, userdata in
    guard let buffer else { return 0 }
    let capacity = size * count
    return state(userdata).readBody(into: UnsafeMutableRawBufferPointer(start: buffer, count: capacity)) ?? Int(CURL_READFUNC_ABORT)
}

private let transferSeek: curl_seek_callback = { userdata, offset, origin in
    guard origin == SEEK_SET else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
    return state(userdata).seek(to: Int64(offset)) ? Int32(CURL_SEEKFUNC_OK) : Int32(CURL_SEEKFUNC_FAIL)
}

private let transferProgress: curl_xferinfo_callback = { userdata, _, _, _, uploaded in
    state(userdata).progress(uploaded: Int64(uploaded)) ? 0 : 1
}
