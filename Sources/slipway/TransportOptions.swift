import ArgumentParser
import Foundation
import Publish

/// How to reach a registry and how hard to try: the flags of every command that talks to one
/// (`login` included), and nothing about uploads or AWS.
struct TransportOptions: ParsableArguments {
    @Option(name: .customLong("insecure-registry"), help: ArgumentHelp("Allow plain HTTP for this registry (repeatable; loopback always may).", valueName: "host[:port]"))
    var insecureRegistries: [String] = []

    @Option(help: "Retries of a failed request (408, 429, 5xx, resets, timeouts), with exponential backoff.")
    var retries: Int = 4

    @Flag(help: "Log every HTTP request and response (credentials, tokens and signatures are redacted).")
    var debug = false

    func validate() throws {
        guard retries >= 0 else { throw ValidationError("--retries must not be negative") }
    }

    /// The workflows' view of these flags; `cacheDir` is the command's `--cache-dir`, if it has one.
    func settings(console: Console, cacheDir: String? = nil) -> RegistrySettings {
        var settings = RegistrySettings()
        settings.insecureRegistries = insecureRegistries
        settings.retries = retries
        if debug { settings.debugLog = { line in console.debug(line) } }
        settings.cache = CacheLocation(cacheDir)
        return settings
    }
}

/// What a command that reads images needs (`inspect`): the transport, and the AWS profile that
/// logs in to ECR hosts.
struct RegistryReadOptions: ParsableArguments {
    @OptionGroup var transport: TransportOptions

    @Option(help: "AWS profile that logs in to ECR registries (default: AWS_PROFILE, else the 'default' profile).")
    var profile: String?

    @OptionGroup var identities: RegistryIdentityOptions

    func settings(console: Console, cacheDir: String? = nil) throws -> RegistrySettings {
        var settings = transport.settings(console: console, cacheDir: cacheDir)
        settings.awsProfile = profile
        try identities.apply(to: &settings)
        return settings
    }
}

/// What only commands that upload blobs use (`build`, `push`, `copy`).
struct UploadOptions: ParsableArguments {
    @Option(name: .customLong("chunk-size"), help: ArgumentHelp("Upload blobs larger than this in chunks of this size (at least 5MiB): fewer round trips, while a failed chunk costs little to resend.", valueName: "size"))
    var chunkSize: String = "64MiB"

    @Option(name: .customLong("create-repository"),
            help: ArgumentHelp("Create missing ECR repositories first; settings: IMMUTABLE, scan-on-push, KMS[:ARN] or AES256, comma-separated (none: ECR's defaults). An existing repository is left as it is, with a warning when its settings differ.", valueName: "settings"))
    var createRepository: String?

    func validate() throws {
        if let createRepository { _ = try validating { try RegistrySettings.parseRepositorySettings(createRepository) } }
        _ = try validating { try RegistrySettings.parseChunkSize(chunkSize) }
    }

    func apply(to settings: inout RegistrySettings) throws {
        settings.chunkSize = try RegistrySettings.parseChunkSize(chunkSize)
        settings.createRepository = try createRepository.map(RegistrySettings.parseRepositorySettings)
    }
}
