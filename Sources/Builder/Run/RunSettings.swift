/// What the command line says about RUN: buildx's `--allow` entitlements and the default
/// `--network`.
public struct RunSettings: Sendable, Equatable {
    /// Granted entitlements (`network.host`, `security.insecure`), as buildx's `--allow`.
    public var allow: Set<String> = []
    /// `--network` for every RUN without its own: `default`, `none` or `host`.
    public var network: String?

    public init(allow: Set<String> = [], network: String? = nil) {
        self.allow = allow
        self.network = network
    }
}
