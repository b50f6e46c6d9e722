import Foundation

extension HTTPClient {
    /// Settings that shape every request. `fromEnvironment` reads what docker and curl read.
    public struct Configuration: Sendable {
        public var userAgent = "slipway/\(SlipwayVersion.current)"
        /// Hosts (`host` or `host:port`) that may be reached over plain HTTP.
        public var insecureHosts: Set<String> = []
        /// Docker allows plain HTTP to 127.0.0.0/8 and ::1 without configuration; so do we.
        public var allowLoopbackHTTP = true
        public var connectTimeout: TimeInterval = 30
        /// A transfer slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` seconds is aborted
        /// (and then retried by the caller's retry policy) instead of hanging forever.
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
}
