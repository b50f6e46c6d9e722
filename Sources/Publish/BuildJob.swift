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
    /// How messages name a Dockerfile given as text rather than as a file of the user's (bake's
    /// `dockerfile-inline`, kept in a scratch file): nil names it by its path.
    public var dockerfileLabel: String?
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
    /// nil: `SOURCE_DATE_EPOCH` from the environment, else the build's (build arg or Dockerfile ARG), else 0.
    public var sourceDateEpoch: Int64?
    public var compression: String
    public var compressionLevel: Int?
    /// nil: one per core.
    public var jobs: Int?
    /// Re-resolve base image tags (false: `--pull=false`/`--no-pull`, use the cached resolution).
    public var pull: Bool
    public var push: Bool
    /// `--push-by-digest`: push untagged, by digest only, to each tag's repository.
    public var pushByDigest = false
    /// `--cache-from` / `--cache-to` (buildx syntax) and `--no-cache` (reuse no layer).
    public var cacheFrom: [String] = []
    public var cacheTo: [String] = []
    public var noCache = false
    /// `--provenance`, `--sbom`, `--attest`, `--attest-mode` as typed.
    public var attestations = AttestationFlags()
    public var environment = ProcessInfo.processInfo.environment
    /// buildx's `--allow` and `--network`, for RUN.
    public var runSettings = RunSettings()

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
            // buildx's name for the machine it runs on.
            if word == "local" { return Platform.host }
            do { return try Platform(parsing: word) } catch { throw PublishError.failed("--platform: \(error)") }
        }
    }

    /// nil when neither the flag nor the environment gives one: the build then takes a
    /// `SOURCE_DATE_EPOCH` build arg or the Dockerfile's `ARG SOURCE_DATE_EPOCH=`, else 0.
    func parseSourceDateEpoch() throws -> Int64? {
        guard let epoch = try sourceDateEpoch ?? environment["SOURCE_DATE_EPOCH"].map({ raw -> Int64 in
            guard let value = Int64(raw), value >= 0 else { throw PublishError.failed("SOURCE_DATE_EPOCH='\(raw)' is not a non-negative integer") }
            return value
        }) else { return nil }
        guard epoch >= 0 else { throw PublishError.failed("--source-date-epoch must not be negative") }
        return epoch
    }

    func parseCompression() throws -> LayerCompression {
        try Self.compression(compression, level: compressionLevel)
    }

    static func compression(_ compression: String, level compressionLevel: Int?) throws -> LayerCompression {
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

/// buildx's `--output` keys and the rules BuildKit applies across a build's outputs.
extension BuildJob {
    /// Whether an output is `-`: then standard output carries only that tar, and the lines
    /// scripts read (digests, pushed names) go to standard error.
    public var writesToStandardOutput: Bool {
        let specs = (try? outputs.map(OutputSpec.parse)) ?? []
        return specs.contains { spec in
            switch spec.output {
            case .oci(let destination, _)?, .docker(let destination)?, .tar(let destination)?: return destination == "-"
            default: return false
            }
        }
    }

    /// The layer compression: `compression=` on the outputs (which must agree, as layers are
    /// written once per build) wins over `--compression`.
    func parseCompression(outputs specs: [OutputSpec]) throws -> LayerCompression {
        let named = Set(specs.compactMap(\.compression))
        let levels = Set(specs.compactMap(\.compressionLevel))
        guard named.count <= 1, levels.count <= 1 else {
            throw PublishError.invalidArgument("--output: the outputs ask for different compression (\(named.sorted().joined(separator: ", "))\(levels.isEmpty ? "" : " levels " + levels.sorted().map(String.init).joined(separator: ", "))); slipway writes each layer once per build, so give them the same")
        }
        return try Self.compression(named.first ?? compression, level: levels.first ?? compressionLevel)
    }

    /// Standard output takes one tar, and never a terminal (as buildx refuses too).
    static func checkStandardOutput(_ specs: [OutputSpec]) throws {
        let toStdout = specs.filter { spec in
            if case .oci("-", _)? = spec.output { return true }
            if case .docker("-")? = spec.output { return true }
            if case .tar("-")? = spec.output { return true }
            return false
        }
        if toStdout.count > 1 { throw PublishError.invalidArgument("--output: only one output can write to standard output ('-')") }
        if !toStdout.isEmpty && isatty(1) == 1 {
            throw PublishError.invalidArgument("--output '-' writes a tar to standard output, which is a terminal; redirect it (> image.tar) or use dest=FILE")
        }
    }

    /// BuildKit refuses index annotations when there is no index (one platform).
    static func checkIndexAnnotations(_ annotations: [String], platforms: [Platform]) throws {
        var distinct: [Platform] = []
        for platform in platforms where !distinct.contains(platform) { distinct.append(platform) }
        guard distinct.count == 1, let index = annotations.first(where: { $0.hasPrefix("index:") || $0.hasPrefix("index-descriptor:") }) else { return }
        throw PublishError.invalidArgument("--annotation '\(index)': a single-platform build has no image index to annotate (BuildKit refuses this too); use manifest: or build several --platform values")
    }

    /// `oci-mediatypes=`: OCI unless the outputs say false; they must agree, as the image is
    /// assembled once per build.
    static func mediaTypes(outputs specs: [OutputSpec]) throws -> MediaTypeFamily {
        let asked = Set(specs.compactMap(\.ociMediaTypes))
        guard asked.count <= 1 else {
            throw PublishError.invalidArgument("--output: the outputs ask for different media types (oci-mediatypes=true and false); slipway assembles the image once per build, so give them the same")
        }
        return asked.first == false ? .docker : .oci
    }
}
