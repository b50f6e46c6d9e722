import AWS
import Foundation
import HTTP
import Registry
import Signing

/// How a command reaches registries: what `--insecure-registry`, `--chunk-size`, `--retries`,
/// `--debug`, `--profile` and `--create-repository` say, plus the cache the ECR logins and
/// pulled blobs go to. A front end fills it from its flags; the workflows only read it.
public struct RegistrySettings: Sendable {
    /// Hosts (`host[:port]`) that may use plain HTTP besides loopback.
    public var insecureRegistries: [String] = []
    /// Blobs larger than this go up in chunks of this size.
    public var chunkSize: Int64 = 64 << 20
    public var retries = 4
    /// Receives every request and response line, secrets already redacted; nil: no log.
    public var debugLog: (@Sendable (String) -> Void)?
    /// The AWS profile whose credentials log in to ECR hosts (nil: `AWS_PROFILE`, `default`).
    public var awsProfile: String?
    /// Create missing ECR repositories with these settings before pushing; nil: never.
    public var createRepository: ECRRepositorySettings?
    /// `--scan-gate`: ECR scan results that must pass after a push, before it succeeds.
    public var scanGate: ECRScanGatePolicy?
    public var cache = CacheLocation()
    /// How large the cache may grow (`--keep-storage`, `SLIPWAY_CACHE_KEEP_STORAGE`).
    public var cacheBound = CacheSizeBound.automatic
    /// Which AWS identity logs in to which ECR registry (flags and slipway's config file).
    public var identities = RegistryIdentities()
    /// Mirrors for base images (`--registry-mirror`, the config file's `registryMirrors`).
    public var mirrors = RegistryMirrors()
    /// `--sign KEY`: sign what is pushed (cosign signatures); nil: no signing.
    public var signer: (any ImageSigner)?
    /// `--attest-mode`: signatures under cosign's `.sig` tag or as OCI 1.1 referrers.
    public var signatureMode = SignatureMode.tag

    public init() {}

    public var retryPolicy: RetryPolicy { RetryPolicy(maxRetries: retries) }

    /// `--chunk-size`: `64MiB`, `16M`, `5242880`; at least 5 MiB, the smallest part ECR accepts.
    public static func parseChunkSize(_ text: String) throws -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int64)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)]
        var bytes: Int64?
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let value = Int64(trimmed.dropLast(suffix.count)) else { break }
            bytes = value * factor
            break
        }
        guard let size = bytes ?? Int64(trimmed) else {
            throw PublishError.invalidArgument("--chunk-size '\(text)': use a size such as 5MiB or 16M")
        }
        guard size >= 5 << 20 else {
            throw PublishError.invalidArgument("--chunk-size must be at least 5MiB (registries such as ECR reject smaller parts)")
        }
        return size
    }

    /// `--create-repository[=IMMUTABLE,scan-on-push,KMS[:ARN]|AES256]`.
    public static func parseRepositorySettings(_ spec: String) throws -> ECRRepositorySettings {
        do { return try ECRRepositorySettings.parse(spec) } catch {
            throw PublishError.invalidArgument("--create-repository: \(error)")
        }
    }

    /// A transport for registry requests: the environment's settings plus the insecure hosts
    /// and the debug log.
    public func transport() -> HTTPClient {
        var configuration = HTTPClient.Configuration.fromEnvironment()
        configuration.insecureHosts.formUnion(insecureRegistries)
        if let debugLog { configuration.debugLog = debugLog }
        return HTTPClient(configuration: configuration)
    }

    /// Registry credentials: ECR hosts log in through the AWS credential chain (tokens cached
    /// under the cache directory), every other host through the docker config. AWS calls go
    /// over the registry's transport with the registry's retry policy.
    public func credentials(transport: any HTTPTransport) throws -> ECRCredentialProvider {
        let environment = try AWSEnvironment(profile: awsProfile, transport: transport, retry: retryPolicy)
        let login = ECRAuthorizationProvider(environment: environment, cacheDirectory: cache.directory)
        let logins = identities.isEmpty ? nil : ECRLogins(defaultLogin: login, identities: identities, defaultProfile: awsProfile,
                                                           transport: transport, retry: retryPolicy, cacheDirectory: cache.directory)
        return ECRCredentialProvider(authorizations: login, logins: logins)
    }

    public func pushOptions(jobs: Int) -> PushOptions {
        PushOptions(jobs: jobs, chunkSize: chunkSize, retry: retryPolicy)
    }
}

/// One command's connection to registries: a transport and a credential provider shared by
/// every pull and push it makes, so ECR tokens and connections are reused.
public struct RegistrySession: Sendable {
    public let settings: RegistrySettings
    public let transport: HTTPClient
    public let credentials: ECRCredentialProvider

    public init(_ settings: RegistrySettings) throws {
        self.settings = settings
        transport = settings.transport()
        credentials = try settings.credentials(transport: transport)
    }

    /// A puller on the cache directory (verified blobs in `store/`, tag resolutions beside).
    public func puller(jobs: Int = 4, resolveTags: Bool = true, onEvent: (@Sendable (PullEvent) -> Void)? = nil) throws -> ImagePuller {
        try ImagePuller(cacheDirectory: settings.cache.directory, transport: transport, credentials: credentials,
                        options: PullOptions(retry: settings.retryPolicy, jobs: jobs, resolveTags: resolveTags), onEvent: onEvent)
    }
}
