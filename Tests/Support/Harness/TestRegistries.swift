import Foundation

/// The registries of `scripts/test-registry`: Debian's docker-registry with TLS, one with
/// htpasswd Basic auth and one with token auth (the token server logs to `tokenLog`).
public struct TestRegistries: Sendable {
    public let basic: String
    public let token: String
    /// The CA that signed both registries' certificates.
    public let ca: String
    /// `certs.d` layout: `<certsDir>/<host:port>/ca.crt`.
    public let certsDir: String
    public let user: String
    public let password: String
    public let tokenLog: String
    public let stateDirectory: String

    static let shared: Result<TestRegistries, TestError> = ScriptedServices.load("test-registry", directory: "SLIPWAY_TEST_REGISTRY_DIR", marker: "SLIPWAY_TEST_BASIC_REGISTRY") { values in
        TestRegistries(
            basic: try setting(values, "SLIPWAY_TEST_BASIC_REGISTRY"), token: try setting(values, "SLIPWAY_TEST_TOKEN_REGISTRY"),
            ca: try setting(values, "SLIPWAY_TEST_CA"), certsDir: try setting(values, "SLIPWAY_TEST_CERTS_DIR"),
            user: try setting(values, "SLIPWAY_TEST_USER"), password: try setting(values, "SLIPWAY_TEST_PASSWORD"),
            tokenLog: try setting(values, "SLIPWAY_TEST_TOKEN_LOG"), stateDirectory: try setting(values, "SLIPWAY_TEST_REGISTRY_DIR"))
    }

    /// The registries, or a skip when they cannot be started (a failure in CI).
    public static func get() throws -> TestRegistries { try ScriptedServices.require(shared, "test registries") }

    /// What an end-to-end test against the registries starts from: a fresh directory (the
    /// caller removes it), the registries, and `slipwayEnvironment(home:)` for that directory.
    public static func workspace() throws -> (work: String, registry: TestRegistries, environment: [String: String]) {
        let registry = try get()
        let work = try Run.temporaryDirectory()
        return (work, registry, registry.slipwayEnvironment(home: work))
    }

    /// skopeo's options for `host`'s CA and the test login (`prefix` "src-"/"dest-" for copy).
    public func skopeoAuth(_ host: String, prefix: String = "") -> [String] {
        ["--\(prefix)cert-dir", "\(certsDir)/\(host)", "--\(prefix)creds", "\(user):\(password)"]
    }

    /// Runs skopeo and returns its stdout bytes; throws with its stderr when it fails.
    public func skopeo(_ arguments: [String]) throws -> Data {
        let output = try Run.command("skopeo", arguments)
        guard output.status == 0 else { throw TestError("skopeo \(arguments.joined(separator: " ")) failed: \(output.stderr)") }
        return Data(output.stdout.utf8)
    }

    /// `sha256:…` of the manifest bytes the registry serves for `reference`, read by skopeo.
    public func servedDigest(_ reference: String, host: String) throws -> String {
        "sha256:" + sha256(try skopeo(["inspect", "--raw"] + skopeoAuth(host) + ["docker://\(reference)"]))
    }

    /// An environment for `slipway` with `home/docker` as its docker config (no login yet),
    /// `home/cache` as its cache and the registries' CA trusted.
    public func slipwayEnvironment(home: String) -> [String: String] {
        ["DOCKER_CONFIG": home + "/docker", "SSL_CERT_FILE": ca, "XDG_CACHE_HOME": home + "/cache"]
    }

    /// `slipway login host` with the test user, the password on stdin.
    public func login(_ host: String, environment: [String: String]) throws -> Run.Output {
        try Run.command(Run.slipway, ["login", host, "-u", user, "--password-stdin"], environment: environment, stdin: Data((password + "\n").utf8))
    }

    /// A docker `config.json` in `directory` with the test login for `host`.
    public func writeDockerConfig(_ directory: String, host: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let auth = Data("\(user):\(password)".utf8).base64EncodedString()
        try Data(#"{"auths":{"\#(host)":{"auth":"\#(auth)"}}}"#.utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
    }
}
