import AWS
import ArgumentParser
import Foundation
import HTTP
import OCI
import Registry

/// Flags shared by every command that talks to a registry.
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("insecure-registry"), help: "Allow plain HTTP for this registry host[:port] (repeatable; loopback is always allowed).")
    var insecureRegistries: [String] = []

    @Option(name: .customLong("chunk-size"), help: "Upload blobs larger than this in chunks of this size (at least 5MiB; default 64MiB: fewer round trips, while a failed chunk costs little to resend).")
    var chunkSize: String = "64MiB"

    @Option(help: "Retries of a failed request (408, 429, 5xx, resets, timeouts), with exponential backoff.")
    var retries: Int = 4

    @Flag(help: "Log every HTTP request and response (credentials, tokens and signatures are redacted).")
    var debug = false

    @Option(name: .customLong("create-repository"),
            help: ArgumentHelp("Create missing ECR repositories first; --create-repository[=IMMUTABLE,scan-on-push,KMS[:ARN]|AES256].", valueName: "settings"))
    var createRepository: String?

    @Option(help: "AWS profile whose credentials log in to ECR registries (default: AWS_PROFILE, then 'default').")
    var profile: String?

    func validate() throws {
        guard retries >= 0 else { throw ValidationError("--retries must not be negative") }
        if let createRepository { _ = try ECRPush.settings(createRepository) }
        let size = try parsedChunkSize()
        guard size >= 5 << 20 else { throw ValidationError("--chunk-size must be at least 5MiB (registries such as ECR reject smaller parts)") }
    }

    func parsedChunkSize() throws -> Int64 {
        let text = chunkSize.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int64)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let value = Int64(text.dropLast(suffix.count)) else { break }
            return value * factor
        }
        guard let bytes = Int64(text) else { throw ValidationError("--chunk-size '\(chunkSize)': use a size such as 5MiB or 16M") }
        return bytes
    }

    func transport(console: Console) -> HTTPClient {
        var configuration = HTTPClient.Configuration.fromEnvironment()
        configuration.insecureHosts.formUnion(insecureRegistries)
        if debug { configuration.debugLog = { line in console.debug(line) } }
        return HTTPClient(configuration: configuration)
    }

    func pushOptions(jobs: Int) throws -> PushOptions {
        PushOptions(jobs: jobs, chunkSize: try parsedChunkSize(), retry: RetryPolicy(maxRetries: retries))
    }
}

/// Pushes a stored image to references, rendering progress, printing each pushed reference
/// (`REGISTRY/REPO:TAG@sha256:…`) on stdout.
enum PushRunner {
    /// `blobSources`: base layers the store may lack, with the image each came from; the
    /// pusher mounts them within a registry or streams them through `blobCache`.
    static func push(root: Descriptor, store: ContentStore, references: [String], registry: RegistryOptions,
                     jobs: Int, console: Console, blobSources: [Digest: String] = [:],
                     blobCache: ContentStore? = nil) async throws -> [PushedReference] {
        let refs = try references.map { text -> ImageReference in
            do { return try ImageReference(parsing: text) } catch { throw ValidationError("\(error)") }
        }
        let progress = PushProgress(console: console)
        let transport = registry.transport(console: console)
        // ECR hosts get their login from the AWS credential chain; every other host from the docker config.
        let credentials = try ECRPush.credentials(transport: transport, profile: registry.profile, retries: registry.retries)
        if let spec = registry.createRepository {
            try await ECRPush.ensureRepositories(refs, settings: try ECRPush.settings(spec), credentials: credentials, console: console)
        }
        let started = Date()
        let pushed = try await ECRPush.retryingUnauthorized(refs, credentials: credentials, createRepository: registry.createRepository != nil) {
            var options = try registry.pushOptions(jobs: jobs)
            for (digest, source) in blobSources {
                if let reference = try? ImageReference(parsing: source) { options.blobSources[digest] = [reference] }
            }
            options.blobCache = blobCache
            let pusher = Pusher(store: store, transport: transport, credentials: credentials,
                                options: options, onEvent: { progress.handle($0) })
            return try await pusher.push(root, to: refs)
        }
        progress.finish(seconds: Date().timeIntervalSince(started))
        for reference in pushed {
            if reference.alreadyPublished {
                console.step("\(reference.reference) already published at \(reference.digest) (immutable tag): nothing to do")
            }
            console.result(reference.description)
        }
        return pushed
    }
}
