import ArgumentParser
import Builder
import Dockerfile
import Foundation
import HTTP
import Layers
import OCI
import Registry

/// `slipway build`: buildx-compatible flags, a daemonless build.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an image from a Dockerfile for one or more platforms.",
        discussion: """
        RUN is parsed but cannot be executed (there is no container runtime): a build whose
        target needs a stage with RUN fails before any work. Produce such files beforehand
        (e.g. cross-compile) and COPY them.

        Examples:
          slipway build --platform linux/amd64,linux/arm64 --output type=oci,dest=image.tar .
          slipway build -f deploy/Dockerfile --build-arg VERSION=1.2 -t example.com/app:1.2 \\
              --output type=oci,dest=out/layout,tar=false .
          slipway build --output type=docker,dest=app.tar -t app:dev .   # then: docker load -i app.tar
          slipway build --target assets --output type=local,dest=dist .
          slipway build --build-context base=oci-layout://./base-layout:1.0 .
        """
    )

    @Argument(help: "The build context directory.")
    var context: String = "."

    @Option(name: [.short, .customLong("file")], help: "The Dockerfile (default: CONTEXT/Dockerfile; '-' reads standard input).")
    var file: String?

    @Option(name: .customLong("platform"), help: "Target platforms, os/arch[/variant], comma-separated or repeated (default: the host's).")
    var platforms: [String] = []

    @Option(name: .customLong("build-arg"), help: "A build argument KEY=VALUE; KEY alone takes the value from the environment.")
    var buildArgs: [String] = []

    @Option(name: .customLong("label"), help: "Set a label on the image, KEY=VALUE.")
    var labels: [String] = []

    @Option(name: .customLong("annotation"), help: "Add an annotation, [index:|manifest:|manifest[os/arch]:]KEY=VALUE (default: manifest).")
    var annotations: [String] = []

    @Option(help: "The stage to build (default: the last).")
    var target: String?

    @Option(name: [.short, .customLong("tag")], help: "Name and tag the image, e.g. registry.example.com/app:1.0 (repeatable).")
    var tags: [String] = []

    @Option(name: [.short, .customLong("output")], help: "type=oci,dest=PATH[,tar=false] | type=docker,dest=FILE.tar | type=local,dest=DIR")
    var outputs: [String] = []

    @Option(help: "Write the image digest (the index for several platforms) to this file.")
    var iidfile: String?

    @Option(name: .customLong("metadata-file"), help: "Write build results (digests, descriptor, per-platform manifests) as JSON to this file.")
    var metadataFile: String?

    @Option(name: .customLong("build-context"), help: "An extra named context: NAME=DIR or NAME=oci-layout://PATH[:TAG|@sha256:…] (repeatable).")
    var buildContexts: [String] = []

    @Option(name: .customLong("source-date-epoch"), help: "Timestamp (seconds since 1970) for every file and the image's created time (default: $SOURCE_DATE_EPOCH or 0).")
    var sourceDateEpoch: Int64?

    @Option(help: "Layer compression: gzip, zstd or uncompressed.")
    var compression: String = "gzip"

    @Option(name: .customLong("compression-level"), help: "Compression level (gzip 0-9, default 6; zstd 1-19, default 3).")
    var compressionLevel: Int?

    @Option(help: "Parallel jobs (default: the number of cores).")
    var jobs: Int?

    @Option(help: "Progress output: auto, plain, tty or quiet.")
    var progress: String = "auto"

    @Option(name: .customLong("cache-dir"), help: "Where blobs are kept between builds (default: $XDG_CACHE_HOME/slipway or ~/.cache/slipway).")
    var cacheDir: String?

    @Option(help: "Re-resolve base image tags from their registries (default true); --pull=false uses the cached resolution.")
    var pull: Bool = true

    @Flag(help: "Push the image to the registry named by each --tag (same as --output type=registry).")
    var push = false

    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if !["auto", "plain", "tty", "quiet"].contains(progress) {
            throw ValidationError("--progress must be auto, plain, tty or quiet")
        }
    }

    func run() async throws {
        let console = Console(mode: progress)
        do {
            try await build(console: console)
        } catch let error as ValidationError {
            throw error
        } catch let error as BuildError {
            console.error(error.description)
            throw ExitCode.failure
        } catch let error as OCIError {
            console.error(error.description)
            throw ExitCode.failure
        } catch let error as LayerError {
            console.error(error.description)
            throw ExitCode.failure
        } catch let error as RegistryError {
            console.error(error.description)
            throw ExitCode.failure
        }
    }

    private func build(console: Console) async throws {
        let environment = ProcessInfo.processInfo.environment
        let contextPath = URL(fileURLWithPath: context).standardizedFileURL.path
        let (dockerfileText, dockerfileName, ignorePatterns) = try readDockerfile(contextPath: contextPath)
        let platformList = try parsePlatforms()
        let epoch = try sourceDateEpoch ?? environment["SOURCE_DATE_EPOCH"].map { raw -> Int64 in
            guard let value = Int64(raw), value >= 0 else { throw BuildError("SOURCE_DATE_EPOCH='\(raw)' is not a non-negative integer") }
            return value
        } ?? 0
        guard epoch >= 0 else { throw BuildError("--source-date-epoch must not be negative") }
        let parsedOutputs = try outputs.map(OutputSpec.parse)
        let outputList = parsedOutputs.compactMap { $0 }
        let pushing = push || parsedOutputs.contains { $0 == nil }
        if pushing && tags.isEmpty {
            throw ValidationError("--push needs at least one -t/--tag naming where to push, e.g. -t registry.example.com/app:1.0")
        }
        if pushing {
            for tag in tags {
                do { _ = try ImageReference(parsing: tag) } catch { throw ValidationError("-t '\(tag)': \(error)") }
            }
        }
        var named: [String: BuildRequest.NamedContext] = [:]
        for spec in buildContexts {
            let (name, value) = try NamedContextSpec.parse(spec)
            named[name] = value
        }
        let cacheRoot = cacheDir ?? environment["XDG_CACHE_HOME"].map { $0 + "/slipway" }
            ?? (NSHomeDirectory() + "/.cache/slipway")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        var request = BuildRequest(
            contextDirectory: contextPath, dockerfileText: dockerfileText, dockerfileName: dockerfileName,
            ignorePatterns: ignorePatterns, platforms: platformList,
            buildArgs: try keyValues(buildArgs, flag: "--build-arg", environment: environment),
            labels: try keyValues(labels, flag: "--label", environment: nil),
            annotations: try keyValues(annotations, flag: "--annotation", environment: nil),
            target: target, tags: tags, sourceDateEpoch: epoch, compression: try parseCompression(),
            jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount, namedContexts: named,
            storeDirectory: cacheRoot + "/store", scratchDirectory: scratch)
        request.progress = console.buildEvents()
        request.keepFileTrees = outputList.contains { if case .local = $0 { return true } else { return false } }
        // A push alone mounts or streams base layers from their registry; files need them here.
        request.fetchBaseLayers = !outputList.isEmpty
        let pullTransport = registry.transport(console: console)
        // Bases on ECR log in through the AWS credential chain, others through the docker config.
        let puller = try ImagePuller(cacheDirectory: URL(fileURLWithPath: cacheRoot), transport: pullTransport,
                                     credentials: try ECRPush.credentials(transport: pullTransport, profile: registry.profile, retries: registry.retries),
                                     options: PullOptions(retry: RetryPolicy(maxRetries: registry.retries), resolveTags: pull),
                                     onEvent: { event in if let notice = event.retryNotice { console.step(notice) } })
        request.baseResolver = RegistryBaseResolver(puller: puller)
        request.downloadTransport = RetryingTransport(pullTransport, policy: RetryPolicy(maxRetries: registry.retries))
        console.step("building \(platformList.map(\.description).joined(separator: ", ")) from \(dockerfileName)")
        let result = try await Builder.build(request)
        result.warnings.forEach { console.warn($0) }
        for output in outputList {
            try Exporter.export(result, to: output, tags: tags, sourceDateEpoch: epoch)
            console.step("wrote \(describe(output))")
        }
        for image in result.images {
            console.result("\(image.platform) \(image.manifest.digest)")
        }
        console.result(result.images.count > 1 ? "index \(result.root.digest)" : "digest \(result.root.digest)")
        if let iidfile {
            try writeAtomically(iidfile, Data(result.root.digest.description.utf8))
        }
        var pushedNames: [String] = []
        if pushing {
            let pushed = try await PushRunner.push(root: result.root, store: result.store, references: tags, registry: registry,
                                                   jobs: jobs ?? 4, console: console,
                                                   blobSources: result.blobSources, blobCache: result.store)
            pushedNames = pushed.map { $0.reference.description }
        }
        if let metadataFile {
            try writeAtomically(metadataFile, try BuildMetadata.json(result, tags: pushing ? pushedNames : tags))
        }
    }

    private func readDockerfile(contextPath: String) throws -> (String, String, [String]) {
        let path: String
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            path = "-"
        } else {
            path = file ?? contextPath + "/Dockerfile"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw BuildError("cannot read Dockerfile '\(path)': \(FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"); pass one with -f")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        var ignoreText: String?
        if path != "-", let data = FileManager.default.contents(atPath: path + ".dockerignore") {
            ignoreText = String(decoding: data, as: UTF8.self)
        } else if let data = FileManager.default.contents(atPath: contextPath + "/.dockerignore") {
            ignoreText = String(decoding: data, as: UTF8.self)
        }
        let name = file == nil ? "Dockerfile" : path
        return (text, name, ignoreText.map(IgnoreFile.readAll) ?? [])
    }

    private func parsePlatforms() throws -> [Platform] {
        let words = platforms.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        if words.isEmpty { return [Platform.host] }
        return try words.map { word in
            do { return try Platform(parsing: word) } catch { throw BuildError("--platform: \(error)") }
        }
    }

    private func parseCompression() throws -> LayerCompression {
        switch compression {
        case "gzip":
            let level = compressionLevel ?? 6
            guard (0...9).contains(level) else { throw BuildError("--compression-level for gzip must be 0-9") }
            return .gzip(level: level)
        case "zstd":
            let level = compressionLevel ?? 3
            guard (1...19).contains(level) else { throw BuildError("--compression-level for zstd must be 1-19") }
            return .zstd(level: level)
        case "uncompressed":
            return .uncompressed
        default:
            throw BuildError("--compression must be gzip, zstd or uncompressed")
        }
    }

    private func keyValues(_ items: [String], flag: String, environment: [String: String]?) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in items {
            if let eq = item.firstIndex(of: "=") {
                result[String(item[..<eq])] = String(item[item.index(after: eq)...])
            } else if let environment {
                if let value = environment[item] { result[item] = value }
            } else {
                throw BuildError("\(flag) '\(item)': expected KEY=VALUE")
            }
        }
        return result
    }

    private func describe(_ output: BuildOutput) -> String {
        switch output {
        case .oci(let destination, let tar): return "OCI layout \(tar ? "tar " : "")\(destination)"
        case .docker(let destination): return "docker archive \(destination)"
        case .local(let destination): return "files to \(destination)"
        }
    }
}

/// Writes a small result file whole or not at all.
func writeAtomically(_ path: String, _ data: Data) throws {
    do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw BuildError("cannot write \(path): \(error.localizedDescription)")
    }
}
