import ArgumentParser
import Foundation
import HTTP
import OCI
import Registry

/// `slipway inspect`: what a reference points at, like `docker buildx imagetools inspect`.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an image's digest, media type and platforms as a registry serves them.",
        discussion: """
        Prints the reference's digest, media type and size, then per manifest its digest, media
        type, platform, size, layer count and a summary of its config. Every manifest and config
        read is verified against its digest (and kept in the cache).

        Examples:
          slipway inspect alpine:3.20
          slipway inspect --raw registry.example.com/app:1.0 | sha256sum
          slipway inspect --config --platform linux/arm64 registry.example.com/app:1.0
          slipway inspect --format json registry.example.com/app@sha256:…
        """
    )

    @Argument(help: "The image reference, e.g. registry.example.com/team/app:1.0 or …@sha256:….")
    var reference: String

    @Flag(help: "Print the exact bytes of the manifest or index (with --platform, of that platform's manifest).")
    var raw = false

    @Flag(help: "Print the image config JSON (of --platform, or the host's platform for an index).")
    var config = false

    @Option(help: "The platform for --raw and --config, e.g. linux/arm64.")
    var platform: String?

    @Option(help: "Output format: text or json.")
    var format: String = "text"

    @Option(name: .customLong("cache-dir"), help: "The cache directory (default: $XDG_CACHE_HOME/slipway or ~/.cache/slipway).")
    var cacheDir: String?

    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
        if raw && config { throw ValidationError("--raw and --config exclude each other") }
        if let platform { _ = try Platform(parsing: platform) }
    }

    func run() async throws {
        let console = Console(mode: "quiet")
        do {
            let ref: ImageReference
            do { ref = try ImageReference(parsing: reference) } catch { throw ValidationError("\(error)") }
            let puller = try Pulling.puller(registry: registry, cacheDir: cacheDir, console: console,
                                            onEvent: { event in if let notice = event.retryNotice { console.warn(notice) } })
            let root = try await puller.resolveRoot(ref)
            let wanted = try platform.map { try Platform(parsing: $0) }
            if raw {
                var bytes = root.data
                if let wanted, root.isIndex {
                    bytes = try await puller.platformManifest(root, platform: wanted, from: ref).data
                }
                FileHandle.standardOutput.write(bytes)
                return
            }
            if config {
                let configData: Data
                if wanted == nil, !root.isIndex {
                    // One image: its config, whatever its platform.
                    let manifest = try CanonicalJSON.decode(Manifest.self, from: root.data, what: "manifest \(root.descriptor.digest)")
                    configData = try await puller.smallBlob(manifest.config, from: ref)
                } else {
                    let resolved = try await puller.resolve(ref, platform: wanted ?? Platform.host)
                    configData = try puller.store.read(resolved.configDescriptor.digest)
                }
                FileHandle.standardOutput.write(configData)
                FileHandle.standardOutput.write(Data("\n".utf8))
                return
            }
            let report = try await Self.report(root, reference: ref, puller: puller)
            if format == "json" {
                let data = try JSONSerialization.data(withJSONObject: report.json, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            } else {
                FileHandle.standardOutput.write(Data(report.text.utf8))
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            console.error("\(error)")
            throw ExitCode.failure
        }
    }

    struct Report {
        var text: String
        var json: [String: Any]
    }

    /// Reads every manifest of the root (and each image config) and renders them.
    static func report(_ root: FetchedManifest, reference: ImageReference, puller: ImagePuller) async throws -> Report {
        var text = field("Name", reference.description) + field("MediaType", root.descriptor.mediaType)
            + field("Digest", root.descriptor.digest.description) + field("Size", "\(root.descriptor.size)")
        var json: [String: Any] = ["name": reference.description, "mediaType": root.descriptor.mediaType,
                                   "digest": root.descriptor.digest.description, "size": root.descriptor.size]
        var entries: [(Descriptor, FetchedManifest)] = []
        if root.isIndex {
            let index = try CanonicalJSON.decode(Index.self, from: root.data, what: "index \(root.descriptor.digest)")
            if let annotations = index.annotations, !annotations.isEmpty { json["annotations"] = annotations }
            for entry in index.manifests {
                entries.append((entry, try await puller.manifest(entry, from: reference)))
            }
        } else {
            entries.append((root.descriptor, root))
        }
        var manifestsJSON: [[String: Any]] = []
        var blocks: [String] = []
        for (entry, fetched) in entries {
            var item: [String: Any] = ["digest": fetched.descriptor.digest.description, "mediaType": fetched.descriptor.mediaType,
                                       "size": fetched.descriptor.size]
            var block = ""
            if root.isIndex { block += field("Name", reference.with(tag: nil, digest: fetched.descriptor.digest).description, indent: "  ") }
            block += field("MediaType", fetched.descriptor.mediaType, indent: "  ")
            if root.isIndex { block += field("Digest", fetched.descriptor.digest.description, indent: "  ") }
            var platformText = entry.platform?.description
            if let annotations = entry.annotations, let kind = annotations["vnd.docker.reference.type"] {
                item["annotations"] = annotations
                platformText = (platformText.map { $0 + " " } ?? "") + "(\(kind))"
            }
            if !fetched.isIndex, let manifest = try? CanonicalJSON.decode(Manifest.self, from: fetched.data, what: "manifest") {
                let layerBytes = manifest.layers.reduce(Int64(0)) { $0 + $1.size }
                item["layers"] = manifest.layers.count
                item["layersSize"] = layerBytes
                item["configDigest"] = manifest.config.digest.description
                if [MediaType.imageConfig, MediaType.dockerConfig].contains(manifest.config.mediaType),
                   let data = try? await puller.smallBlob(manifest.config, from: reference),
                   let config = try? CanonicalJSON.decode(ImageConfig.self, from: data, what: "config") {
                    platformText = platformText ?? config.platform.description
                    let summary = configSummary(config)
                    item["config"] = summary.json
                    item["platform"] = config.platform.description
                    block += field("Platform", platformText ?? "", indent: "  ")
                    block += field("Size", "\(fetched.descriptor.size)", indent: "  ")
                    block += field("Layers", "\(manifest.layers.count) (\(Console.bytes(layerBytes)))", indent: "  ")
                    block += summary.text
                } else {
                    block += field("Platform", platformText ?? "none", indent: "  ")
                    block += field("Size", "\(fetched.descriptor.size)", indent: "  ")
                    block += field("Layers", "\(manifest.layers.count) (\(Console.bytes(layerBytes)))", indent: "  ")
                    block += field("Config", "\(manifest.config.mediaType)", indent: "  ")
                }
            } else {
                block += field("Platform", platformText ?? "none", indent: "  ")
                block += field("Size", "\(fetched.descriptor.size)", indent: "  ")
            }
            if let platform = entry.platform { item["platform"] = platform.description }
            manifestsJSON.append(item)
            blocks.append(block)
        }
        if root.isIndex {
            json["manifests"] = manifestsJSON
            text += "\nManifests:\n" + blocks.joined(separator: "\n")
        } else {
            json.merge(manifestsJSON.first ?? [:]) { current, _ in current }
            text += blocks.first.map { "\n" + $0 } ?? ""
        }
        return Report(text: text, json: json)
    }

    static func configSummary(_ config: ImageConfig) -> (text: String, json: [String: Any]) {
        var json: [String: Any] = ["architecture": config.architecture, "os": config.os]
        var text = ""
        if let variant = config.variant { json["variant"] = variant }
        if let created = config.created { json["created"] = created; text += field("Created", created, indent: "  ") }
        let c = config.config
        if let user = c?.user, !user.isEmpty { json["user"] = user; text += field("User", user, indent: "  ") }
        if let dir = c?.workingDir, !dir.isEmpty { json["workingDir"] = dir; text += field("WorkingDir", dir, indent: "  ") }
        if let entrypoint = c?.entrypoint { json["entrypoint"] = entrypoint; text += field("Entrypoint", jsonArray(entrypoint), indent: "  ") }
        if let cmd = c?.cmd { json["cmd"] = cmd; text += field("Cmd", jsonArray(cmd), indent: "  ") }
        if let env = c?.env, !env.isEmpty { json["env"] = env; text += field("Env", env.joined(separator: ", "), indent: "  ") }
        if let ports = c?.exposedPorts, !ports.isEmpty { json["exposedPorts"] = ports.keys.sorted(); text += field("Ports", ports.keys.sorted().joined(separator: ", "), indent: "  ") }
        if let labels = c?.labels, !labels.isEmpty {
            json["labels"] = labels
            text += field("Labels", labels.keys.sorted().map { "\($0)=\(labels[$0] ?? "")" }.joined(separator: ", "), indent: "  ")
        }
        return (text, json)
    }

    static func field(_ name: String, _ value: String, indent: String = "") -> String {
        let label = name + ":"
        return indent + label + String(repeating: " ", count: max(1, 12 - label.count)) + value + "\n"
    }

    static func jsonArray(_ items: [String]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: items, options: [.withoutEscapingSlashes]) else { return items.joined(separator: " ") }
        return String(decoding: data, as: UTF8.self)
    }
}

/// How commands that read from registries set up a puller on the shared cache.
enum Pulling {
    /// ECR hosts log in through the AWS credential chain, every other host through the docker
    /// config (as `push` does).
    static func puller(registry: RegistryOptions, cacheDir: String?, console: Console, jobs: Int = 4,
                       transport: HTTPClient? = nil, credentials: (any CredentialProvider)? = nil,
                       onEvent: (@Sendable (PullEvent) -> Void)? = nil) throws -> ImagePuller {
        let transport = transport ?? registry.transport(console: console)
        let credentials = try credentials ?? ECRPush.credentials(transport: transport, profile: registry.profile, retries: registry.retries)
        return try ImagePuller(cacheDirectory: CacheLocation.directory(cacheDir), transport: transport, credentials: credentials,
                               options: PullOptions(retry: RetryPolicy(maxRetries: registry.retries), jobs: jobs), onEvent: onEvent)
    }

}
