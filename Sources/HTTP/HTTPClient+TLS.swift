import CCurl
import Foundation

/// TLS material per host: docker's `certs.d` layout on top of the system (or `SSL_CERT_FILE`)
/// bundle, read once per host and cached.
extension HTTPClient {
    struct TLSSettings {
        /// System (or SSL_CERT_FILE) bundle plus the host's certs.d CAs; nil when the host has none.
        var caBundle: Data?
        var clientCertificate: String?
        var clientKey: String?
    }

    func tlsSettings(for host: String) -> TLSSettings {
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
