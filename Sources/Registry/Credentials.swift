import Foundation
import HTTP

/// What a registry login is made of. `identityToken` is an OAuth2 refresh token (docker config
/// `identitytoken`, or a helper answering with username `<token>`), exchanged for access tokens.
public struct Credential: Sendable, Hashable, CustomStringConvertible {
    public var username: String?
    public var password: String?
    public var identityToken: String?

    public init(username: String? = nil, password: String? = nil, identityToken: String? = nil) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
        [password, identityToken].compactMap { $0 }.forEach(Redactor.register)
    }

    /// The value of a Basic `Authorization` header, when this is a username/password login.
    var basicAuthorization: String? {
        guard let username, let password else { return nil }
        return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    /// Never the secret itself, so a credential can be printed or logged safely.
    public var description: String {
        if identityToken != nil { return "Credential(identity token for \(username ?? "?"))" }
        return "Credential(user: \(username ?? "?"), password: \(password == nil ? "none" : "***"))"
    }
}

/// A source of credentials per registry host (`docker.io`, `host:port`). The docker config is the
/// usual one; the command line plugs in ECR logins (from the AWS target) here.
public protocol CredentialProvider: Sendable {
    /// The credential for `registry`, or nil to go anonymous.
    func credential(for registry: String) async throws -> Credential?
}

/// No credentials anywhere: anonymous pulls, or tests.
public struct AnonymousCredentials: CredentialProvider {
    public init() {}
    public func credential(for registry: String) async throws -> Credential? { nil }
}

/// Fixed credentials for given hosts (from `--creds`, tests), falling back to another provider.
public struct StaticCredentials: CredentialProvider {
    public var credentials: [String: Credential]
    public var fallback: (any CredentialProvider)?

    public init(_ credentials: [String: Credential], fallback: (any CredentialProvider)? = nil) {
        self.credentials = credentials
        self.fallback = fallback
    }

    public func credential(for registry: String) async throws -> Credential? {
        if let c = credentials[registry] { return c }
        return try await fallback?.credential(for: registry)
    }
}

/// Docker's client configuration (`$REGISTRY_AUTH_FILE`, else `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
/// `auths` entries (`auth` = base64 user:password, `identitytoken`), `credHelpers` per host and the
/// default `credsStore`, both run as `docker-credential-NAME get`, exactly as docker does, so
/// whatever `docker login` set up works unchanged.
public struct DockerConfigCredentials: CredentialProvider {
    public let configURL: URL
    /// Where helpers are looked up; defaults to `$PATH`.
    public var searchPath: String?

    public init(configURL: URL = DockerConfigCredentials.defaultConfigURL(), searchPath: String? = nil) {
        self.configURL = configURL
        self.searchPath = searchPath
    }

    /// `$REGISTRY_AUTH_FILE` when set (podman's and skopeo's override: that file alone is read
    /// and written, in the same JSON format), else `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`.
    public static func defaultConfigURL(_ env: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let file = env["REGISTRY_AUTH_FILE"], !file.isEmpty { return URL(fileURLWithPath: file) }
        if let dir = env["DOCKER_CONFIG"], !dir.isEmpty { return URL(fileURLWithPath: dir).appendingPathComponent("config.json") }
        let home = env["HOME"] ?? NSHomeDirectory()
        return URL(fileURLWithPath: home).appendingPathComponent(".docker/config.json")
    }

    public func credential(for registry: String) async throws -> Credential? {
        guard let config = try DockerConfigFile.load(configURL) else { return nil }
        if let helper = config.credHelpers[registry] ?? config.credHelpers[DockerConfigFile.configKey(for: registry)] {
            return try CredentialHelper(name: helper, searchPath: searchPath).get(server: DockerConfigFile.configKey(for: registry))
        }
        if let entry = config.entry(for: registry) {
            var credential = Credential()
            if let auth = entry.auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth, options: .ignoreUnknownCharacters).flatMap({ String(data: $0, encoding: .utf8) }),
                      let colon = decoded.firstIndex(of: ":") else {
                    throw RegistryError.credentials("\(configURL.path): the 'auth' entry for \(registry) is not base64 of user:password")
                }
                credential = Credential(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            } else if let user = entry.username, let password = entry.password {
                credential = Credential(username: user, password: password)
            }
            if let token = entry.identitytoken, !token.isEmpty {
                credential = Credential(username: credential.username, password: nil, identityToken: token)
            }
            if credential.password != nil || credential.identityToken != nil { return credential }
        }
        if let store = config.credsStore, !store.isEmpty {
            return try CredentialHelper(name: store, searchPath: searchPath).get(server: DockerConfigFile.configKey(for: registry))
        }
        return nil
    }

    /// Whether the config has an `auths` entry with credentials, or a `credHelpers` entry, for
    /// exactly this host (not via `credsStore`): an explicit login that beats any other source
    /// of credentials for the host (ECR's, for one).
    public func hasEntry(for registry: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: configURL.path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        let wanted = registry.lowercased()
        func normalize(_ key: String) -> String {
            var k = Substring(key)
            if let r = k.range(of: "://") { k = k[r.upperBound...] }
            if let slash = k.firstIndex(of: "/") { k = k[..<slash] }
            return k.lowercased()
        }
        if let helpers = object["credHelpers"] as? [String: String], helpers.contains(where: { normalize($0.key) == wanted && !$0.value.isEmpty }) {
            return true
        }
        if let auths = object["auths"] as? [String: Any] {
            for (key, value) in auths where normalize(key) == wanted {
                guard let entry = value as? [String: Any] else { continue }
                for field in ["auth", "identitytoken", "password"] {
                    if let v = entry[field] as? String, !v.isEmpty { return true }
                }
            }
        }
        return false
    }
}

/// The parts of docker's config.json we read; writing goes through `CredentialStore`, which keeps
/// every other key as it was.
struct DockerConfigFile: Decodable {
    struct AuthEntry: Decodable {
        var auth: String?
        var username: String?
        var password: String?
        var identitytoken: String?
    }
    var auths: [String: AuthEntry] = [:]
    var credHelpers: [String: String] = [:]
    var credsStore: String?

    enum CodingKeys: String, CodingKey { case auths, credHelpers, credsStore }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        auths = try c.decodeIfPresent([String: AuthEntry].self, forKey: .auths) ?? [:]
        credHelpers = try c.decodeIfPresent([String: String].self, forKey: .credHelpers) ?? [:]
        credsStore = try c.decodeIfPresent(String.self, forKey: .credsStore)
    }

    static func load(_ url: URL) throws -> DockerConfigFile? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        do { return try JSONDecoder().decode(DockerConfigFile.self, from: data) } catch {
            throw RegistryError.credentials("\(url.path) is not a valid docker config: \(error.localizedDescription)")
        }
    }

    /// Docker Hub's credentials live under its legacy index URL; every other registry under its host.
    static func configKey(for registry: String) -> String {
        registry == ImageReference.dockerHub ? "https://index.docker.io/v1/" : registry
    }

    /// Reduces a config key (`https://host/v1/`, `http://host`, `host`) to a host.
    static func normalizeKey(_ key: String) -> String {
        var k = Substring(key)
        if let range = k.range(of: "://") { k = k[range.upperBound...] }
        if let slash = k.firstIndex(of: "/") { k = k[..<slash] }
        let host = String(k).lowercased()
        return ["index.docker.io", "registry-1.docker.io", "docker.io"].contains(host) ? ImageReference.dockerHub : host
    }

    func entry(for registry: String) -> AuthEntry? {
        if let exact = auths[Self.configKey(for: registry)] { return exact }
        let wanted = registry.lowercased()
        return auths.first { Self.normalizeKey($0.key) == wanted }?.value
    }
}

/// Runs `docker-credential-NAME` (`get`/`store`/`erase`) speaking its JSON protocol on stdin/stdout.
public struct CredentialHelper: Sendable {
    public let name: String
    public var searchPath: String?

    public init(name: String, searchPath: String? = nil) {
        self.name = name
        self.searchPath = searchPath
    }

    var executableName: String { "docker-credential-\(name)" }

    /// The credential for `server`, or nil when the helper has none.
    public func get(server: String) throws -> Credential? {
        let (status, out, err) = try run("get", input: Data(server.utf8))
        if status != 0 {
            let message = (String(data: out + err, encoding: .utf8) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if message.localizedCaseInsensitiveContains("credentials not found") { return nil }
            throw RegistryError.credentials("\(executableName) get \(server) failed: \(Redactor.redact(message))")
        }
        struct Answer: Decodable { var Username: String?; var Secret: String? }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: out) else {
            throw RegistryError.credentials("\(executableName) get \(server) printed something that is not credentials JSON")
        }
        guard let secret = answer.Secret, !secret.isEmpty else { return nil }
        if answer.Username == "<token>" { return Credential(identityToken: secret) }
        return Credential(username: answer.Username, password: secret)
    }

    public func store(server: String, username: String, secret: String) throws {
        let payload = try JSONSerialization.data(withJSONObject: ["ServerURL": server, "Username": username, "Secret": secret], options: [.sortedKeys])
        let (status, out, err) = try run("store", input: payload)
        if status != 0 {
            throw RegistryError.credentials("\(executableName) store \(server) failed: \(Redactor.redact(String(decoding: out + err, as: UTF8.self)))")
        }
    }

    public func erase(server: String) throws {
        let (status, out, err) = try run("erase", input: Data(server.utf8))
        if status != 0 {
            let message = String(decoding: out + err, as: UTF8.self)
            if message.localizedCaseInsensitiveContains("not found") { return }
            throw RegistryError.credentials("\(executableName) erase \(server) failed: \(Redactor.redact(message))")
        }
    }

    private func run(_ verb: String, input: Data) throws -> (Int32, Data, Data) {
        guard let executable = Subprocess.find(executableName, in: searchPath) else {
            throw RegistryError.credentials("credential helper \(executableName) is configured in the docker config but not found in PATH")
        }
        do {
            let result = try Subprocess.run(executable, [verb], input: input)
            return (result.status, result.stdout, result.stderr)
        } catch let error as SubprocessError {
            throw RegistryError.io(error.description)
        }
    }
}

/// `login`/`logout`: records credentials the way docker does — in the configured helper when
/// there is one for the host, else base64 in `auths` — rewriting config.json atomically with mode
/// 0600 and keeping every other key (other registries, proxies, plugins) as it was.
public struct CredentialStore: Sendable {
    public let configURL: URL
    public var searchPath: String?

    public init(configURL: URL = DockerConfigCredentials.defaultConfigURL(), searchPath: String? = nil) {
        self.configURL = configURL
        self.searchPath = searchPath
    }

    /// What users type after `login`/`logout` (`docker.io`, `https://index.docker.io/v1/`,
    /// `host:5000`, `https://host:5000/`) reduced to the registry name used everywhere else.
    public static func registryName(_ text: String) -> String {
        DockerConfigFile.normalizeKey(text)
    }

    /// `slipway login`: checks the credentials against the registry (its `/v2/` challenge and,
    /// for token auth, the token service) and only then stores them.
    public func login(registry: String, username: String, password: String, verifyingWith transport: any HTTPTransport) async throws {
        let registry = Self.registryName(registry)
        let credential = Credential(username: username, password: password)
        let client = RegistryClient(registry: registry, transport: transport, credentials: StaticCredentials([registry: credential]))
        try await client.checkLogin()
        try login(registry: registry, username: username, password: password)
    }

    /// Stores `username`/`password` for `registry` (a host as in image references).
    public func login(registry: String, username: String, password: String) throws {
        Redactor.register(password)
        var object = try loadObject()
        let key = DockerConfigFile.configKey(for: registry)
        if let helper = helperName(for: registry, in: object) {
            try CredentialHelper(name: helper, searchPath: searchPath).store(server: key, username: username, secret: password)
            // Docker leaves an empty entry so `docker info` lists the registry; harmless, keep it.
            var auths = object["auths"] as? [String: Any] ?? [:]
            removeEntries(for: registry, from: &auths)
            auths[key] = [String: Any]()
            object["auths"] = auths
        } else {
            var auths = object["auths"] as? [String: Any] ?? [:]
            removeEntries(for: registry, from: &auths)
            auths[key] = ["auth": Data("\(username):\(password)".utf8).base64EncodedString()]
            object["auths"] = auths
        }
        try write(object)
    }

    /// Forgets the credentials for `registry`; returns false when there were none.
    @discardableResult
    public func logout(registry: String) throws -> Bool {
        var object = try loadObject()
        var removed = false
        if let helper = helperName(for: registry, in: object) {
            try CredentialHelper(name: helper, searchPath: searchPath).erase(server: DockerConfigFile.configKey(for: registry))
            removed = true
        }
        var auths = object["auths"] as? [String: Any] ?? [:]
        removed = removeEntries(for: registry, from: &auths) || removed
        object["auths"] = auths
        if removed { try write(object) }
        return removed
    }

    private func helperName(for registry: String, in object: [String: Any]) -> String? {
        let helpers = object["credHelpers"] as? [String: String] ?? [:]
        if let h = helpers[registry] ?? helpers[DockerConfigFile.configKey(for: registry)], !h.isEmpty { return h }
        if let store = object["credsStore"] as? String, !store.isEmpty { return store }
        return nil
    }

    @discardableResult
    private func removeEntries(for registry: String, from auths: inout [String: Any]) -> Bool {
        let keys = auths.keys.filter { DockerConfigFile.normalizeKey($0) == registry.lowercased() }
        keys.forEach { auths.removeValue(forKey: $0) }
        return !keys.isEmpty
    }

    private func loadObject() throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: configURL.path), !data.isEmpty else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw RegistryError.credentials("\(configURL.path) is not a JSON object; refusing to overwrite it")
        }
        return object
    }

    private func write(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        let dir = configURL.deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temp = dir.appendingPathComponent(".config.json.\(UUID().uuidString)")
        // Created 0600 from the start: the secret is never readable by others, not even briefly.
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RegistryError.credentials("cannot write \(temp.path): \(String(cString: strerror(errno)))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: data + Data("\n".utf8))
            try handle.synchronize()
            try handle.close()
        } catch {
            unlink(temp.path)
            throw RegistryError.credentials("cannot write \(temp.path): \(error.localizedDescription)")
        }
        if rename(temp.path, configURL.path) != 0 {
            let message = String(cString: strerror(errno))
            unlink(temp.path)
            throw RegistryError.credentials("cannot replace \(configURL.path): \(message)")
        }
    }
}
