import AWS
import Foundation

/// slipway's own configuration file, `$XDG_CONFIG_HOME/slipway/config.json` (else
/// `~/.config/slipway/config.json`): which AWS identity logs in to which registry, and which
/// mirrors serve which registry's images. A missing file is an empty configuration; a file
/// that cannot be read, or has a key slipway does not know, is an error naming the file and
/// the key (a mistyped identity rule must not pass silently as "use the default").
///
/// ```json
/// {
///   "registries": {
///     "111122223333": { "profile": "dev" },
///     "444455556666.dkr.ecr.eu-west-1.amazonaws.com": { "roleArn": "arn:aws:iam::444455556666:role/promote" }
///   },
///   "registryMirrors": { "docker.io": ["111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub"] },
///   "mirrorFallback": false
/// }
/// ```
public struct SlipwayConfig: Sendable, Hashable {
    /// The file it was read from (nil: none).
    public var file: String?
    /// Registry host (`HOST[:PORT]`) or 12-digit AWS account id → the identity for it.
    public var registries: [String: AWSIdentity] = [:]
    /// Registry → mirrors (`HOST[/PREFIX]`), tried in order.
    public var registryMirrors: [String: [String]] = [:]
    public var mirrorFallback = false

    public init() {}

    /// `$XDG_CONFIG_HOME/slipway/config.json`, else `$HOME/.config/slipway/config.json`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/slipway/config.json" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.config/slipway/config.json"
    }

    /// Reads the default file; absent is empty.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SlipwayConfig {
        try load(path: defaultPath(environment: environment))
    }

    public static func load(path: String) throws -> SlipwayConfig {
        guard FileManager.default.fileExists(atPath: path) else { return SlipwayConfig() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PublishError.failed("cannot read slipway's config file \(path)")
        }
        return try parse(data, file: path)
    }

    static let topLevelKeys: Set<String> = ["registries", "registryMirrors", "mirrorFallback"]

    public static func parse(_ data: Data, file: String) throws -> SlipwayConfig {
        func fail(_ message: String) -> PublishError { .failed("\(file): \(message)") }
        var config = SlipwayConfig()
        config.file = file
        if data.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) { return config }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw fail("not a JSON object") }
            object = parsed
        } catch let error as PublishError { throw error } catch {
            throw fail("not valid JSON (\(error.localizedDescription))")
        }
        for key in object.keys.sorted() where !topLevelKeys.contains(key) {
            throw fail("unknown key '\(key)' (known: \(topLevelKeys.sorted().joined(separator: ", ")))")
        }
        if let registries = object["registries"] {
            guard let entries = registries as? [String: Any] else { throw fail("'registries' must be an object of registry host or account id → identity") }
            for (key, value) in entries {
                guard let entry = value as? [String: Any] else { throw fail("registries.\(key) must be an object such as {\"profile\": \"dev\"}") }
                do {
                    config.registries[try RegistryIdentities.normalizedKey(key)] = try AWSIdentity(configEntry: entry)
                } catch let error as PublishError {
                    throw fail("registries.\(key): \(error)")
                }
            }
        }
        if let mirrors = object["registryMirrors"] {
            guard let entries = mirrors as? [String: Any] else { throw fail("'registryMirrors' must be an object of registry → [mirror, …]") }
            for (key, value) in entries {
                let list: [String]
                if let one = value as? String { list = [one] } else if let many = value as? [String] { list = many } else {
                    throw fail("registryMirrors.\(key) must be a list of HOST[/PREFIX] strings")
                }
                do {
                    for mirror in list { try config.addMirror(registry: key, mirror: mirror) }
                } catch let error as PublishError {
                    throw fail("registryMirrors.\(key): \(error)")
                }
            }
        }
        if let fallback = object["mirrorFallback"] {
            guard let flag = fallback as? Bool else { throw fail("'mirrorFallback' must be true or false") }
            config.mirrorFallback = flag
        }
        return config
    }

    mutating func addMirror(registry: String, mirror: String) throws {
        let rule = try RegistryMirrors.rule(registry: registry, mirror: mirror)
        registryMirrors[rule.registry, default: []].append(rule.mirror)
    }
}

/// Who logs in to a registry: an AWS profile of `~/.aws/config`, a role assumed with
/// `AssumeRole` (from the profile's credentials, or the default chain's), or both.
public struct AWSIdentity: Sendable, Hashable, CustomStringConvertible {
    public var profile: String?
    public var roleARN: String?
    public var externalID: String?
    public var sessionName: String?

    public init(profile: String? = nil, roleARN: String? = nil, externalID: String? = nil, sessionName: String? = nil) {
        self.profile = profile
        self.roleARN = roleARN
        self.externalID = externalID
        self.sessionName = sessionName
    }

    /// A flag's value: a role ARN (`arn:aws:iam::ACCOUNT:role/NAME`) is assumed from the default
    /// credentials; anything else names a profile.
    public init(flag text: String, name: String) throws {
        let value = text.trimmingCharacters(in: .whitespaces)
        guard !value.isEmpty else { throw PublishError.invalidArgument("\(name): name a profile or a role ARN") }
        if value.hasPrefix("arn:") {
            guard AssumedRoleCredentials.isRoleARN(value) else {
                throw PublishError.invalidArgument("\(name) '\(value)' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
            }
            self.init(roleARN: value)
        } else {
            self.init(profile: value)
        }
    }

    static let keys: Set<String> = ["profile", "roleArn", "externalId", "roleSessionName"]

    init(configEntry entry: [String: Any]) throws {
        for key in entry.keys.sorted() where !Self.keys.contains(key) {
            throw PublishError.failed("unknown key '\(key)' (known: \(Self.keys.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws -> String? {
            guard let value = entry[key] else { return nil }
            guard let text = value as? String, !text.isEmpty else { throw PublishError.failed("'\(key)' must be a non-empty string") }
            return text
        }
        self.init(profile: try string("profile"), roleARN: try string("roleArn"), externalID: try string("externalId"),
                  sessionName: try string("roleSessionName"))
        if profile == nil && roleARN == nil { throw PublishError.failed("name a 'profile', a 'roleArn' or both") }
        if let roleARN, !AssumedRoleCredentials.isRoleARN(roleARN) {
            throw PublishError.failed("'roleArn' '\(roleARN)' is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        }
    }

    public var description: String {
        switch (profile, roleARN) {
        case let (profile?, role?): return "role \(role) (from profile '\(profile)')"
        case let (nil, role?): return "role \(role)"
        case let (profile?, nil): return "profile '\(profile)'"
        case (nil, nil): return "the default AWS credentials"
        }
    }
}
