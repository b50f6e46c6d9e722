import Foundation

/// A secret's bytes, for `RUN --mount=type=secret`: read once when the build starts (as
/// buildx stats its files up front), kept in memory only, and never printed: every
/// description of it is a mask, so no log, error or dump of the settings can show it.
public struct SecretValue: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var description: String { "****" }
    public var debugDescription: String { "****" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// `build --secret` as buildx reads it (`util/buildflags/secrets.go` and BuildKit's
/// secretsprovider): `id=ID[,src=PATH|,env=NAME][,type=file|env]`; without src/env, the
/// environment variable named ID if set, else the file named ID.
public enum RunSecrets {
    /// BuildKit's limit (secretsprovider.MaxSecretSize).
    public static let maxSize = 500 * 1024

    public static func parse(_ specs: [String], environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [String: SecretValue] {
        var secrets: [String: SecretValue] = [:]
        for spec in specs where !spec.isEmpty {
            var fields: [(key: String, value: String)] = []
            for field in try CSVFields.split(spec, what: "secret") {
                let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2 else { throw BuildError("--secret: invalid field '\(field)' must be a key=value pair") }
                fields.append((parts[0], parts[1]))
            }
            let secret = try resolve(fields, environment: environment)
            secrets[secret.id] = secret.value
        }
        return secrets
    }

    /// One secret from its key=value fields, already split (a bake target's `secret` entry
    /// arrives as attributes, not as flag text): read from its file or variable now.
    public static func resolve(_ fields: [(key: String, value: String)],
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (id: String, value: SecretValue) {
        var id = ""
        var file = ""
        var env = ""
        var type = ""
        for (key, value) in fields {
            switch key.lowercased() {
            case "type":
                guard value == "file" || value == "env" else { throw BuildError("--secret: unsupported secret type \"\(value)\"") }
                type = value
            case "id": id = value
            case "source", "src": file = value
            case "env": env = value
            default: throw BuildError("--secret: unexpected key '\(key)' in '\(key)=\(value)'")
            }
        }
        if type == "env" && env.isEmpty { env = file; file = "" }
        guard !id.isEmpty else { throw BuildError("--secret: secret missing ID (write id=NAME,src=FILE or id=NAME,env=VARIABLE)") }
        if env.isEmpty && file.isEmpty {
            if environment[id] != nil { env = id } else { file = id }
        }
        if !env.isEmpty {
            return (id, SecretValue(Array((environment[env] ?? "").utf8)))
        }
        var info = stat()
        guard stat(file, &info) == 0 else {
            throw BuildError("--secret id=\(id): failed to stat \(file): \(String(cString: strerror(errno)))")
        }
        guard info.st_size <= maxSize else { throw BuildError("--secret id=\(id): secret too big. max size 500KB") }
        return (id, SecretValue(try readBounded(file, id: id)))
    }

    /// The file's bytes, up to the limit (what stat said may have grown; /dev/null is fine).
    private static func readBounded(_ file: String, id: String) throws -> [UInt8] {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BuildError("--secret id=\(id): cannot read \(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw BuildError("--secret id=\(id): cannot read \(file): \(String(cString: strerror(errno)))") }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
            guard bytes.count <= maxSize else { throw BuildError("--secret id=\(id): secret too big. max size 500KB") }
        }
    }
}

/// Masks this build's secret values in the RUN output slipway prints (BuildKit prints what
/// the command prints; slipway does not let a secret reach its own output). Each line of a
/// secret of at least 4 bytes is masked, so a multi-line key is masked line by line.
struct SecretMask: Sendable {
    private let needles: [String]

    init(_ secrets: [SecretValue]) {
        var needles = Set<String>()
        for secret in secrets {
            let text = String(decoding: secret.bytes, as: UTF8.self)
            for line in text.split(separator: "\n") {
                let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.utf8.count >= 4 { needles.insert(trimmed) }
            }
        }
        self.needles = needles.sorted { $0.count > $1.count }
    }

    var isEmpty: Bool { needles.isEmpty }

    func apply(_ line: String) -> String {
        guard !needles.isEmpty else { return line }
        var result = line
        for needle in needles where result.contains(needle) {
            result = result.replacingOccurrences(of: needle, with: "****")
        }
        return result
    }
}
