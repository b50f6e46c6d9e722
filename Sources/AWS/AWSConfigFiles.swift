import Foundation

/// The shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`, or
/// `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`) merged per profile as the SDKs merge them:
/// a key in the credentials file wins over the same key in the config file.
public struct AWSSharedConfig: Sendable, Hashable {
    public var configFile: String
    public var credentialsFile: String
    /// Profile name → key (lower-cased) → value.
    public var profiles: [String: [String: String]]

    public init(configFile: String, credentialsFile: String, profiles: [String: [String: String]]) {
        self.configFile = configFile
        self.credentialsFile = credentialsFile
        self.profiles = profiles
    }

    /// Reads both files; a missing file is an empty one, an unreadable one an error.
    public static func load(environment env: [String: String]) throws -> AWSSharedConfig {
        let home = env["HOME"] ?? NSHomeDirectory()
        func expand(_ p: String) -> String { p.hasPrefix("~/") ? home + p.dropFirst(1) : p }
        let configFile = expand(env["AWS_CONFIG_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "~/.aws/config")
        let credentialsFile = expand(env["AWS_SHARED_CREDENTIALS_FILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "~/.aws/credentials")
        var profiles: [String: [String: String]] = [:]
        for (name, values) in try parse(file: configFile, isConfig: true) {
            profiles[name, default: [:]].merge(values) { _, new in new }
        }
        for (name, values) in try parse(file: credentialsFile, isConfig: false) {
            profiles[name, default: [:]].merge(values) { _, new in new }
        }
        return AWSSharedConfig(configFile: configFile, credentialsFile: credentialsFile, profiles: profiles)
    }

    static func parse(file: String, isConfig: Bool) throws -> [(String, [String: String])] {
        guard FileManager.default.fileExists(atPath: file) else { return [] }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw AWSError.credentials(source: file, message: "cannot read the file")
        }
        return parse(String(decoding: data, as: UTF8.self), isConfig: isConfig)
    }

    /// The INI dialect of the AWS CLI: `[profile NAME]` (config) or `[NAME]` (credentials),
    /// `key = value`, `#`/`;` comments, indented sub-properties (skipped).
    static func parse(_ text: String, isConfig: Bool) -> [(String, [String: String])] {
        var result: [(String, [String: String])] = []
        var current: String?
        var values: [String: String] = [:]
        func flush() {
            if let current { result.append((current, values)) }
            values = [:]
        }
        for rawLine in text.components(separatedBy: .newlines) {
            if let first = rawLine.first, first == " " || first == "\t" { continue }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                flush()
                guard let close = line.firstIndex(of: "]") else { current = nil; continue }
                var name = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                if isConfig {
                    if name.hasPrefix("profile ") || name.hasPrefix("profile\t") {
                        name = String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces)
                    } else if name != "default" {
                        current = nil  // sso-session, services, … sections
                        continue
                    }
                }
                current = name
                continue
            }
            guard current != nil, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            // Inline comments need whitespace before them (values may hold # or ;).
            for marker in [" #", "\t#", " ;", "\t;"] {
                if let r = value.range(of: marker) { value = value[..<r.lowerBound].trimmingCharacters(in: .whitespaces) }
            }
            values[key] = value
        }
        flush()
        return result
    }
}
