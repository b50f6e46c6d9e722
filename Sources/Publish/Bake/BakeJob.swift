import Bake
import Foundation

/// A `bake` as the user asked for it: the files, targets and overrides as typed, plus the
/// flags that buildx turns into overrides of every target (`--push` is `*.push=true`, …).
public struct BakeJob: Sendable {
    /// `-f`: nil/empty for buildx's default files in the working directory; `-` reads stdin.
    public var files: [String] = []
    public var targets: [String] = []
    /// `--set` values, in order.
    public var overrides: [String] = []
    public var push = false
    public var load = false
    public var noCache: Bool?
    public var pull: Bool?
    public var sbom: String?
    public var provenance: String?
    /// buildx's per-target map of build results.
    public var metadataFile: String?
    /// Targets built at once, and each build's parallel jobs (nil: one per core).
    public var jobs: Int?
    public var compression = "gzip"
    public var compressionLevel: Int?
    public var sourceDateEpoch: Int64?
    public var environment = ProcessInfo.processInfo.environment
    public var workingDirectory = FileManager.default.currentDirectoryPath

    public init() {}

    /// buildx's default files, in the order they are merged.
    public static var defaultFiles: [String] { BakeDefaults.files }

    /// The overrides the flags stand for, after the `--set` ones (buildx's order).
    public var allOverrides: [String] {
        var all = overrides
        if push { all.append("*.push=true") }
        if load { all.append("*.load=true") }
        if let noCache { all.append("*.no-cache=\(noCache)") }
        if let pull { all.append("*.pull=\(pull)") }
        if let sbom { all.append("*.attest=\(Self.canonicalAttest("sbom", sbom))") }
        if let provenance { all.append("*.attest=\(Self.canonicalAttest("provenance", provenance))") }
        return all
    }

    /// buildx's `CanonicalizeAttest`: `--sbom=true` is `type=sbom,disabled=false`, `--provenance=mode=max` is `type=provenance,mode=max`.
    static func canonicalAttest(_ type: String, _ value: String) -> String {
        if let flag = Bool(value.lowercased()) { return "type=\(type),disabled=\(!flag)" }
        return "type=\(type),\(value)"
    }

    /// Reads the files (the defaults that exist when none are given) and resolves the targets.
    public func plan(standardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }) throws -> BakePlan {
        var read: [BakeFile] = []
        if files.isEmpty {
            for name in Self.defaultFiles {
                let path = workingDirectory + "/" + name
                guard FileManager.default.fileExists(atPath: path) else { continue }
                read.append(try Self.readFile(path, name: name))
            }
            guard !read.isEmpty else {
                throw PublishError.invalidArgument("no bake file found: looked for \(Self.defaultFiles.joined(separator: ", ")) in \(workingDirectory); give one with -f")
            }
        } else {
            for name in files {
                if name == "-" {
                    read.append(BakeFile(name: "-", text: String(decoding: standardInput(), as: UTF8.self)))
                } else {
                    let path = name.hasPrefix("/") ? name : workingDirectory + "/" + name
                    read.append(try Self.readFile(path, name: name))
                }
            }
        }
        do {
            let config = try BakeFileReader.read(read, environment: environment, dotEnv: DotEnv.read(directory: workingDirectory))
            return try BakeResolver(config: config, environment: environment).resolve(targets, overrides: allOverrides)
        } catch let error as BakeError {
            throw PublishError.invalidArgument(error.description)
        }
    }

    static func readFile(_ path: String, name: String) throws -> BakeFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PublishError.invalidArgument("cannot read bake file '\(name)': \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw PublishError.invalidArgument("bake file '\(name)' is not UTF-8 text") }
        return BakeFile(name: name, text: text)
    }
}
