import CCurl
import Foundation
import OCI

/// Fetches an `ADD https://…` source with libcurl: streamed to a file, size-bounded,
/// TLS verified, and checked against `--checksum` before it can reach a layer.
enum URLDownloader {
    private final class Sink {
        let file: UnsafeMutablePointer<FILE>
        var hasher = SHA256Hasher()
        var written: Int64 = 0
        let limit: Int64
        var overLimit = false
        init(file: UnsafeMutablePointer<FILE>, limit: Int64) {
            self.file = file
            self.limit = limit
        }
    }

    static func download(_ url: String, to path: String, maxBytes: Int64, expected: String?) throws {
        let expectedDigest = try expected.map { raw -> Digest in
            do { return try Digest(parsing: raw) } catch {
                throw BuildError("ADD --checksum='\(raw)' is not a digest; use sha256:<64 hex>")
            }
        }
        guard let handle = curl_easy_init() else { throw BuildError("ADD \(url): cannot initialise libcurl") }
        defer { curl_easy_cleanup(handle) }
        guard let file = fopen(path, "wb") else { throw BuildError("ADD \(url): cannot write \(path)") }
        let sink = Sink(file: file, limit: maxBytes)
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        var failed = true
        defer {
            fclose(file)
            if failed { unlink(path) }
        }
        let write: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, user in
            guard let data, let user else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
            let length = size * count
            sink.written += Int64(length)
            if sink.written > sink.limit { sink.overLimit = true; return 0 }
            sink.hasher.update(UnsafeRawBufferPointer(start: data, count: length))
            return fwrite(data, 1, length, sink.file)
        }
        _ = url.withCString { slipway_curl_setopt_ptr(handle, CURLOPT_URL, $0) }
        _ = slipway_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
        _ = slipway_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 10)
        _ = slipway_curl_setopt_long(handle, CURLOPT_FAILONERROR, 1)
        _ = slipway_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 30)
        _ = slipway_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = slipway_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, 60)
        _ = "https,http".withCString { slipway_curl_setopt_ptr(handle, CURLOPT_PROTOCOLS_STR, $0) }
        _ = "https".withCString { slipway_curl_setopt_ptr(handle, CURLOPT_REDIR_PROTOCOLS_STR, $0) }
        _ = "slipway/\(SlipwayVersion.current)".withCString { slipway_curl_setopt_ptr(handle, CURLOPT_USERAGENT, $0) }
        _ = slipway_curl_setopt_ptr(handle, CURLOPT_WRITEFUNCTION, unsafeBitCast(write, to: UnsafeRawPointer.self))
        _ = slipway_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, box.toOpaque())
        let code = curl_easy_perform(handle)
        if sink.overLimit { throw BuildError("ADD \(url): the download is larger than \(maxBytes) bytes") }
        guard code == CURLE_OK else {
            var status = 0
            _ = slipway_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            let reason = status >= 400 ? "HTTP \(status)" : String(cString: curl_easy_strerror(code))
            throw BuildError("ADD \(url): download failed: \(reason)")
        }
        let actual = sink.hasher.finalize()
        if let expectedDigest, expectedDigest != actual {
            throw BuildError("ADD \(url): checksum mismatch: expected \(expectedDigest), got \(actual)")
        }
        failed = false
    }
}
