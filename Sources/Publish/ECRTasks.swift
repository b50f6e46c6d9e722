import AWS
import Foundation
import HTTP

/// The `aws ecr` steps of a release job, without the AWS CLI: a login password for other
/// tools, the caller's registry host, creating a repository, finding an image's digest.
public struct ECRTasks: Sendable {
    public let environment: AWSEnvironment

    /// `region`/`profile`: nil takes the AWS environment's and config files' choice.
    public init(region: String?, profile: String?, debugLog: (@Sendable (String) -> Void)?) throws {
        var configuration = HTTPClient.Configuration.fromEnvironment()
        if let debugLog { configuration.debugLog = debugLog }
        environment = try AWSEnvironment(profile: profile, region: region, transport: HTTPClient(configuration: configuration))
    }

    /// A registry password for the caller (12 hours); `public`: for public.ecr.aws.
    public func loginPassword(public: Bool) async throws -> String {
        let credentials = try await AWSCredentialChain(environment: environment).credentials()
        if `public` {
            return try await ECRPublicClient(environment: environment).getAuthorizationToken(credentials: credentials).password
        }
        return try await ECRClient(environment: environment, region: try environment.region())
            .getAuthorizationToken(credentials: credentials).password
    }

    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com` (FIPS and dual-stack forms when asked for), the
    /// account from STS GetCallerIdentity.
    public func registryHost() async throws -> String {
        let region = try environment.region()
        let credentials = try await AWSCredentialChain(environment: environment).credentials()
        let identity = try await STSClient(environment: environment, region: region).getCallerIdentity(credentials: credentials)
        return ECRHost(account: identity.account, region: region, fips: environment.useFIPS, dualStack: environment.useDualStack).host
    }

    /// What `create-repository` did.
    public struct RepositoryOutcome: Sendable, Hashable {
        public var uri: String
        /// The repository was there already (`--if-not-exists`).
        public var existed = false
        /// Settings of an existing repository changed to the requested ones (`--update`).
        public var updated: [ECRRepositoryDifference] = []
    }

    /// Creates the repository and returns its URI. With `ifNotExists`, an existing one is
    /// compared with `settings`: a difference fails (a release repository that stays mutable
    /// must not pass for an immutable one) unless `update` applies the requested tag
    /// mutability and scan-on-push; encryption cannot be changed, so a difference there
    /// always fails.
    public func createRepository(_ name: String, settings: ECRRepositorySettings, registryID: String?,
                                 ifNotExists: Bool, update: Bool = false) async throws -> RepositoryOutcome {
        let credentials = try await AWSCredentialChain(environment: environment).credentials()
        let client = try ECRClient(environment: environment, region: try environment.region())
        do {
            let repository = try await client.createRepository(name, settings: settings, registryID: registryID, credentials: credentials)
            return RepositoryOutcome(uri: repository.repositoryUri ?? name)
        } catch let error as AWSError where error.code == "RepositoryAlreadyExistsException" && ifNotExists {
            let existing = try await client.describeRepositories([name], registryID: registryID, credentials: credentials)
            guard let repository = existing.first else { throw error }
            let differences = settings.differences(from: repository)
            var outcome = RepositoryOutcome(uri: repository.repositoryUri ?? name, existed: true)
            if differences.isEmpty { return outcome }
            guard update, differences.allSatisfy(\.isUpdatable) else {
                throw PublishError.failed(Self.differenceMessage(name, differences, update: update))
            }
            for difference in differences {
                switch difference.setting {
                case .mutability:
                    if let mutability = settings.mutability {
                        try await client.putImageTagMutability(name, mutability, exclusions: settings.mutabilityExclusions, registryID: registryID, credentials: credentials)
                    }
                case .scanOnPush:
                    try await client.putImageScanningConfiguration(name, scanOnPush: settings.scanOnPush, registryID: registryID, credentials: credentials)
                case .encryption:
                    break
                }
            }
            outcome.updated = differences
            return outcome
        }
    }

    /// The refusal of `--if-not-exists` on a repository with other settings: each difference,
    /// and the way out where there is one.
    static func differenceMessage(_ name: String, _ differences: [ECRRepositoryDifference], update: Bool) -> String {
        var lines = ["repository \(name) already exists with other settings than requested:"]
        lines += differences.map { "  \($0)" }
        if differences.contains(where: { !$0.isUpdatable }) {
            lines.append("encryption is fixed at creation: use another repository name, or drop --encryption/--kms-key to accept the existing one")
        } else if !update {
            lines.append("run again with --update to apply the requested settings to the existing repository")
        }
        return lines.joined(separator: "\n")
    }

    /// The repository's images, or only the one with `tag` / `digest`.
    public func describeImages(_ name: String, tag: String?, digest: String?, registryID: String?) async throws -> [ECRImageDetail] {
        let credentials = try await AWSCredentialChain(environment: environment).credentials()
        let client = try ECRClient(environment: environment, region: try environment.region())
        let selector: ECRClient.ImageSelector? = tag.map { .tag($0) } ?? digest.map { .digest($0) }
        return try await client.describeImages(name, selecting: selector, registryID: registryID, credentials: credentials)
    }

    /// `create-repository`'s flags as repository settings.
    public static func repositorySettings(mutability: String?, mutableTags: [String] = [], immutableTags: [String] = [],
                                          scanOnPush: Bool, encryption: String?, kmsKey: String?,
                                          tags: [String]) throws -> ECRRepositorySettings {
        var s = ECRRepositorySettings(scanOnPush: scanOnPush)
        do {
            (s.mutability, s.mutabilityExclusions) = try ECRRepositorySettings.tagMutability(mutability, mutableTags: mutableTags, immutableTags: immutableTags)
        } catch let error as AWSError {
            throw PublishError.invalidArgument(error.description)
        }
        switch encryption?.uppercased() {
        case nil, "AES256":
            if kmsKey != nil { throw PublishError.invalidArgument("--kms-key needs --encryption KMS") }
            if encryption != nil { s.encryption = .aes256 }
        case "KMS": s.encryption = .kms(key: kmsKey)
        default: throw PublishError.invalidArgument("--encryption must be AES256 or KMS")
        }
        for tag in tags {
            guard let eq = tag.firstIndex(of: "="), eq != tag.startIndex else { throw PublishError.invalidArgument("--tag '\(tag)': use KEY=VALUE") }
            s.tags.append((String(tag[..<eq]), String(tag[tag.index(after: eq)...])))
        }
        return s
    }
}
