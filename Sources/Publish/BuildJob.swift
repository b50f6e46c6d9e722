import Builder
import Foundation
import Layers
import OCI

/// A `build` as the user asked for it, values still as typed (buildx's flag syntax); the
/// workflow checks them in the order the build needs them, so the first problem is the one
/// reported.
public struct BuildJob: Sendable {
    public var contextDirectory: String
    /// `-f`: nil for `CONTEXT/Dockerfile`, `-` for standard input.
    public var dockerfile: String?
    /// `--platform` values, each possibly comma-separated; empty: the host's.
    public var platforms: [String]
    public var buildArgs: [String]
    public var labels: [String]
    public var annotations: [String]
    public var target: String?
    public var tags: [String]
    /// `--output` values (buildx syntax); `type=registry` pushes.
    public var outputs: [String]
    public var iidfile: String?
    public var metadataFile: String?
    public var buildContexts: [String]
    /// nil: `SOURCE_DATE_EPOCH` from the environment, else 0.
    public var sourceDateEpoch: Int64?
    public var compression: String
    public var compressionLevel: Int?
    /// nil: one per core.
    public var jobs: Int?
    /// Re-resolve base image tags (false: use the cached resolution).
    public var pull: Bool
    public var push: Bool
    public var environment = ProcessInfo.processInfo.environment

    public init(contextDirectory: String = ".", dockerfile: String? = nil, platforms: [String] = [], buildArgs: [String] = [],
                labels: [String] = [], annotations: [String] = [], target: String? = nil, tags: [String] = [],
                outputs: [String] = [], iidfile: String? = nil, metadataFile: String? = nil, buildContexts: [String] = [],
                sourceDateEpoch: Int64? = nil, compression: String = "gzip", compressionLevel: Int? = nil, jobs: Int? = nil,
                pull: Bool = true, push: Bool = false) {
        self.contextDirectory = contextDirectory
        self.dockerfile = dockerfile
        self.platforms = platforms
        self.buildArgs = buildArgs
        self.labels = labels
        self.annotations = annotations
        self.target = target
        self.tags = tags
        self.outputs = outputs
        self.iidfile = iidfile
        self.metadataFile = metadataFile
        self.buildContexts = buildContexts
        self.sourceDateEpoch = sourceDateEpoch
        self.compression = compression
        self.compressionLevel = compressionLevel
        self.jobs = jobs
        self.pull = pull
        self.push = push
    }

    func parsePlatforms() throws -> [Platform] {
        let words = platforms.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        if words.isEmpty { return [Platform.host] }
        return try words.map { word in
            do { return try Platform(parsing: word) } catch { throw PublishError.failed("--platform: \(error)") }
        }
    }

    func parseSourceDateEpoch() throws -> Int64 {
        let epoch = try sourceDateEpoch ?? environment["SOURCE_DATE_EPOCH"].map { raw -> Int64 in
            guard let value = Int64(raw), value >= 0 else { throw PublishError.failed("SOURCE_DATE_EPOCH='\(raw)' is not a non-negative integer") }
            return value
        } ?? 0
        guard epoch >= 0 else { throw PublishError.failed("--source-date-epoch must not be negative") }
        return epoch
    }

    func parseCompression() throws -> LayerCompression {
        switch compression {
        case "gzip":
            let level = compressionLevel ?? 6
            guard (0...9).contains(level) else { throw PublishError.failed("--compression-level for gzip must be 0-9") }
            return .gzip(level: level)
        case "zstd":
            let level = compressionLevel ?? 3
            guard (1...19).contains(level) else { throw PublishError.failed("--compression-level for zstd must be 1-19") }
            return .zstd(level: level)
        case "uncompressed":
            return .uncompressed
        default:
            throw PublishError.failed("--compression must be gzip, zstd or uncompressed")
        }
    }

    /// `KEY=VALUE` items; with `environment`, a bare `KEY` takes its value from there
    /// (`--build-arg`), else it is an error.
    static func keyValues(_ items: [String], flag: String, environment: [String: String]?) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in items {
            if let eq = item.firstIndex(of: "=") {
                result[String(item[..<eq])] = String(item[item.index(after: eq)...])
            } else if let environment {
                if let value = environment[item] { result[item] = value }
            } else {
                throw PublishError.failed("\(flag) '\(item)': expected KEY=VALUE")
            }
        }
        return result
    }
}
