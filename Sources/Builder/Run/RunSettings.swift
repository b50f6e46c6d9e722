/// What the command line says about RUN: buildx's `--allow` entitlements and the default
/// `--network`, the `--secret`s, and where cache mounts persist.
public struct RunSettings: Sendable, Equatable {
    /// Granted entitlements (`network.host`, `security.insecure`), as buildx's `--allow`.
    public var allow: Set<String> = []
    /// `--network` for every RUN without its own: `default`, `none` or `host`.
    public var network: String?
    /// `--secret` values by id, for `RUN --mount=type=secret` (see `RunSecrets.parse`).
    public var secrets: [String: SecretValue] = [:]
    /// Where `RUN --mount=type=cache` directories persist across builds (`run-cache/` in the
    /// slipway cache directory); nil: in the build's scratch space, for this build only.
    public var cacheMountDirectory: String?
    /// BuildKit's `BUILDKIT_CACHE_MOUNT_NS` build arg: a prefix of every cache mount's id.
    var cacheNamespace = ""

    public init(allow: Set<String> = [], network: String? = nil) {
        self.allow = allow
        self.network = network
    }
}
