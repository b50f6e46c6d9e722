import ArgumentParser
import Foundation
import Publish

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
            help: ArgumentHelp("Create missing ECR repositories first; --create-repository[=IMMUTABLE,scan-on-push,KMS[:ARN]|AES256] (an existing one is left as it is, with a warning when its settings differ).", valueName: "settings"))
    var createRepository: String?

    @Option(help: "AWS profile whose credentials log in to ECR registries (default: AWS_PROFILE, then 'default').")
    var profile: String?

    @OptionGroup var identities: RegistryIdentityOptions

    func validate() throws {
        guard retries >= 0 else { throw ValidationError("--retries must not be negative") }
        if let createRepository { _ = try validating { try RegistrySettings.parseRepositorySettings(createRepository) } }
        _ = try validating { try RegistrySettings.parseChunkSize(chunkSize) }
    }

    /// The workflows' view of these flags; `cacheDir` is the command's `--cache-dir`, if it has one.
    func settings(console: Console, cacheDir: String? = nil) throws -> RegistrySettings {
        var settings = RegistrySettings()
        settings.insecureRegistries = insecureRegistries
        settings.chunkSize = try RegistrySettings.parseChunkSize(chunkSize)
        settings.retries = retries
        if debug { settings.debugLog = { line in console.debug(line) } }
        settings.awsProfile = profile
        settings.createRepository = try createRepository.map(RegistrySettings.parseRepositorySettings)
        settings.cache = CacheLocation(cacheDir)
        try identities.apply(to: &settings)
        return settings
    }
}
