import AWS
import ArgumentParser
import Foundation
import HTTP
import OCI
import Registry

/// `slipway copy`: promote an image (or a whole index) between repositories, registries and
/// accounts by digest.
struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy an image or index between repositories and registries, preserving every digest.",
        discussion: """
        Manifests are copied byte for byte, so every digest stays the same. Blobs the target has
        are skipped; blobs in another repository of the same registry are mounted; the rest are
        streamed from the source through the local cache, never recompressed. Prints
        DST@sha256:… for each destination.

        A destination without a tag takes the source's tag; a source named only by digest is
        copied by digest (no tag). SRC may also be an OCI layout: oci:PATH[:TAG].

        Examples:
          slipway copy registry.example.com/dev/app:1.2 registry.example.com/prod/app:1.2
          slipway copy dev.example.com/app@sha256:… prod.example.com/app:1.2 prod.example.com/app:latest
          slipway copy --platform linux/arm64 docker.io/library/alpine:3.20 registry.example.com/alpine:3.20-arm64
        """
    )

    @Argument(help: "The source: a reference (tag or digest), or oci:PATH[:TAG] for an OCI layout.")
    var source: String

    @Argument(help: "One or more destination references.")
    var destinations: [String]

    @Option(help: "Copy only this platform's manifest out of an index, e.g. linux/arm64.")
    var platform: String?

    @Option(help: "Blobs copied at once (default: 4).")
    var jobs: Int = 4

    @Option(help: "Progress output: auto, plain, tty or quiet.")
    var progress: String = "auto"

    @Option(name: .customLong("cache-dir"), help: "The cache directory (default: $XDG_CACHE_HOME/slipway or ~/.cache/slipway).")
    var cacheDir: String?

    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        guard !destinations.isEmpty else { throw ValidationError("name at least one destination reference") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if let platform { _ = try Platform(parsing: platform) }
    }

    func run() async throws {
        let console = Console(mode: progress)
        do {
            let wanted = try platform.map { try Platform(parsing: $0) }
            if source.hasPrefix("oci:") {
                try await copyFromLayout(String(source.dropFirst(4)), wanted: wanted, console: console)
            } else {
                try await copyFromRegistry(wanted: wanted, console: console)
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            console.error("\(error)")
            throw ExitCode.failure
        }
    }

    private func copyFromRegistry(wanted: Platform?, console: Console) async throws {
        let sourceRef: ImageReference
        do { sourceRef = try ImageReference(parsing: source) } catch { throw ValidationError("\(error)") }
        let targets = try destinations.map { try Self.destination($0, source: sourceRef.tag) }
        let fetches = FetchReporter(console: console)
        let transport = registry.transport(console: console)
        let credentials = try ECRPush.credentials(transport: transport, profile: registry.profile, retries: registry.retries)
        let puller = try Pulling.puller(registry: registry, cacheDir: cacheDir, console: console, jobs: jobs,
                                        transport: transport, credentials: credentials)
        var root = try await puller.resolveRoot(sourceRef)
        if let wanted {
            if root.isIndex {
                root = try await puller.platformManifest(root, platform: wanted, from: sourceRef)
            } else {
                _ = try await puller.resolve(sourceRef, platform: wanted)
            }
        }
        console.step("copying \(sourceRef.with(tag: sourceRef.tag, digest: root.descriptor.digest)) (\(root.descriptor.mediaType))")
        let tree = try await puller.fetchManifestTree(root, from: sourceRef)
        var sources: [Digest: [ImageReference]] = [:]
        for blob in tree.blobs { sources[blob.digest] = [sourceRef] }
        var options = try registry.pushOptions(jobs: jobs)
        options.blobSources = sources
        options.blobCache = puller.store
        options.onFetch = { fetches.handle($0) }
        var rootDescriptor = root.descriptor
        rootDescriptor.platform = nil
        try await push(rootDescriptor, store: puller.store, to: targets, options: options, transport: transport, credentials: credentials, console: console)
    }

    private func copyFromLayout(_ path: String, wanted: Platform?, console: Console) async throws {
        let input = try await LayoutInput.open(path)
        defer { input.close() }
        let store = input.store
        var root = input.root
        root.annotations = nil
        if let wanted, MediaType.isIndex(root.mediaType) {
            do {
                let found = try await ImageResolver.platformManifest(try await store.resolveRoot(root.digest), platform: wanted, in: store, root.digest)
                root = found.manifest.descriptor
                root.platform = nil
            } catch ImageSelectionError.platformNotFound(let wanted, let available) {
                throw RegistryError.platformNotFound(reference: source, wanted: wanted, available: available)
            }
        }
        // `oci:PATH:TAG`: destinations without a tag take TAG.
        var layoutTag: String?
        if !FileManager.default.fileExists(atPath: path), !path.contains("@"), let colon = path.lastIndex(of: ":"), !path[colon...].contains("/") {
            layoutTag = String(path[path.index(after: colon)...])
        }
        let targets = try destinations.map { try Self.destination($0, source: layoutTag) }
        let transport = registry.transport(console: console)
        try await push(root, store: store, to: targets, options: try registry.pushOptions(jobs: jobs), transport: transport,
                       credentials: try ECRPush.credentials(transport: transport, profile: registry.profile, retries: registry.retries), console: console)
    }

    /// Creates missing ECR repositories first with `--create-repository`, retries once with a
    /// fresh ECR token after a 401, and explains an ECR `NAME_UNKNOWN` (as `push` does).
    private func push(_ root: Descriptor, store: ContentStore, to targets: [ImageReference], options: PushOptions,
                      transport: HTTPClient, credentials: ECRCredentialProvider, console: Console) async throws {
        if let spec = registry.createRepository {
            try await ECRPush.ensureRepositories(targets, settings: try ECRPush.settings(spec), credentials: credentials, console: console)
        }
        let progress = PushProgress(console: console)
        let started = Date()
        let pushed = try await ECRPush.retryingUnauthorized(targets, credentials: credentials, createRepository: registry.createRepository != nil) {
            let pusher = Pusher(store: store, transport: transport, credentials: credentials, options: options, onEvent: { progress.handle($0) })
            return try await pusher.push(root, to: targets)
        }
        progress.finish(seconds: Date().timeIntervalSince(started))
        for reference in pushed {
            if reference.alreadyPublished {
                console.step("\(reference.reference) already published at \(reference.digest) (immutable tag): nothing to do")
            }
            console.result(reference.description)
        }
    }

    /// A destination reference: as written when it names a tag or digest; otherwise with the
    /// source's tag, or none (copy by digest) when the source had none.
    static func destination(_ text: String, source tag: String?) throws -> ImageReference {
        let parsed: ImageReference
        do { parsed = try ImageReference(parsing: text) } catch { throw ValidationError("\(error)") }
        let lastComponent = text.split(separator: "/").last.map(String.init) ?? text
        if lastComponent.contains(":") || text.contains("@") { return parsed }
        return parsed.with(tag: tag, digest: nil)
    }
}

/// Reports blobs fetched from the source registry (plain progress mode only; the live view
/// shows the uploads).
final class FetchReporter: Sendable {
    let console: Console

    init(console: Console) { self.console = console }

    func handle(_ event: PullEvent) {
        guard console.mode == "plain" else { return }
        switch event {
        case .blobDownloadStarted(let descriptor, let from):
            console.step("\(descriptor.digest.short) downloading \(Console.bytes(descriptor.size)) from \(from)")
        case .blobDownloaded(let descriptor, let from):
            console.step("\(descriptor.digest.short) downloaded from \(from)")
        case .blobCached(let descriptor):
            console.step("\(descriptor.digest.short) found in the cache")
        case .retrying(let operation, let attempt, let delay, let error):
            console.step("retry \(attempt) of \(operation) in \(String(format: "%.1f", delay))s: \(error)")
        case .resolved:
            break
        }
    }
}
