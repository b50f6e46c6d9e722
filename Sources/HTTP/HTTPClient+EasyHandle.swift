import CCurl
import Foundation

/// Setting up one pooled easy handle for a request: transfer options, TLS material, callbacks.
extension HTTPClient {
    func configure(_ h: UnsafeMutableRawPointer, request: HTTPRequest, headers: UnsafeMutablePointer<curl_slist>?,
                   userdata: UnsafeMutableRawPointer, state: TransferState) {
        let c = configuration
        slipway_curl_setopt_ptr(h, CURLOPT_URL, request.url.absoluteString)
        slipway_curl_setopt_ptr(h, CURLOPT_SHARE, share)
        slipway_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        slipway_curl_setopt_ptr(h, CURLOPT_USERAGENT, c.userAgent)
        // Blob uploads go over HTTP/1.1: one connection per parallel upload streams at full speed,
        // where an HTTP/2 stream is held back by flow-control windows (see `HTTPRequest.bulk`;
        // measured in scripts/bench-push --rtt); everything else may use h2,
        // and waits for a connection being set up rather than opening one more (PIPEWAIT), so
        // concurrent HEADs and manifest requests become streams of one connection.
        if request.isBulk {
            slipway_curl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        } else {
            slipway_curl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
            slipway_curl_setopt_long(h, CURLOPT_PIPEWAIT, 1)
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

    func checkoutHandle() -> UnsafeMutableRawPointer {
        if let handle = pool.withLock({ $0.popLast() }) {
            curl_easy_reset(handle)
            return handle
        }
        guard let handle = curl_easy_init() else { preconditionFailure("curl_easy_init failed (out of memory)") }
        return handle
    }

    func checkin(_ handle: UnsafeMutableRawPointer, reusable: Bool) {
        guard reusable else { curl_easy_cleanup(handle); return }
        let kept = pool.withLock { pool -> Bool in
            guard pool.count < 32 else { return false }
            pool.append(handle)
            return true
        }
        if !kept { curl_easy_cleanup(handle) }
    }
}
