import Foundation
import HTTP

/// A registry password from `GetAuthorizationToken`: the Basic login is `AWS:<password>`.
public struct ECRAuthorization: Sendable, Hashable, Codable, CustomStringConvertible {
    public var username: String
    public var password: String
    public var expiresAt: Date
    /// When it was obtained, so callers can renew at half its lifetime.
    public var issuedAt: Date
    /// `https://ACCOUNT.dkr.ecr.REGION.amazonaws.com` (empty for ECR Public).
    public var proxyEndpoint: String

    public init(username: String, password: String, expiresAt: Date, issuedAt: Date, proxyEndpoint: String) {
        self.username = username
        self.password = password
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.proxyEndpoint = proxyEndpoint
        Redactor.register(password)
    }

    /// Whether it should be renewed: past half its lifetime (or already expired).
    public func needsRenewal(now: Date = Date()) -> Bool {
        let lifetime = expiresAt.timeIntervalSince(issuedAt)
        guard lifetime > 0 else { return true }
        return now >= issuedAt.addingTimeInterval(lifetime / 2)
    }

    public var description: String { "ECRAuthorization(\(username), password ***, expires \(AWSDate.iso8601(expiresAt)))" }

    /// Decodes base64 `user:password`.
    static func decode(token: String, expiresAt: Double?, proxyEndpoint: String?, issuedAt: Date, service: String) throws -> ECRAuthorization {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") else {
            throw AWSError.invalidResponse(service: service, operation: "GetAuthorizationToken", detail: "the authorization token is not base64 of user:password")
        }
        let password = String(text[text.index(after: colon)...])
        Redactor.register(password)
        Redactor.register(token)
        return ECRAuthorization(username: String(text[..<colon]), password: password,
                                expiresAt: Date(timeIntervalSince1970: expiresAt ?? issuedAt.addingTimeInterval(12 * 3600).timeIntervalSince1970),
                                issuedAt: issuedAt, proxyEndpoint: proxyEndpoint ?? "")
    }
}

/// An ECR repository as `CreateRepository` / `DescribeRepositories` return it.
public struct ECRRepository: Sendable, Hashable, Codable {
    public var repositoryName: String
    public var repositoryUri: String?
    public var repositoryArn: String?
    public var registryId: String?
    public var imageTagMutability: String?
    /// The tags exempt from `imageTagMutability` (`…_WITH_EXCLUSION`).
    public var imageTagMutabilityExclusionFilters: [ECRTagExclusionFilter]?
    public var imageScanningConfiguration: ScanConfig?
    public var encryptionConfiguration: Encryption?
    public var createdAt: Double?

    public struct ScanConfig: Sendable, Hashable, Codable { public var scanOnPush: Bool? }
    public struct Encryption: Sendable, Hashable, Codable {
        public var encryptionType: String
        public var kmsKey: String?
    }
}

/// What `create-repository` asks for.
public struct ECRRepositorySettings: Sendable, Hashable {
    public enum Mutability: String, Sendable, CaseIterable {
        case mutable = "MUTABLE", immutable = "IMMUTABLE"
        case mutableWithExclusion = "MUTABLE_WITH_EXCLUSION", immutableWithExclusion = "IMMUTABLE_WITH_EXCLUSION"
    }
    public enum Encryption: Sendable, Hashable { case aes256, kms(key: String?) }

    public var mutability: Mutability?
    /// Wildcard tag filters exempt from `mutability` (only with the `…_WITH_EXCLUSION` forms).
    public var mutabilityExclusions: [String] = []
    public var scanOnPush: Bool
    public var encryption: Encryption?
    public var tags: [(key: String, value: String)]

    public init(mutability: Mutability? = nil, scanOnPush: Bool = false, encryption: Encryption? = nil, tags: [(key: String, value: String)] = []) {
        self.mutability = mutability
        self.scanOnPush = scanOnPush
        self.encryption = encryption
        self.tags = tags
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.mutability == b.mutability && a.mutabilityExclusions == b.mutabilityExclusions && a.scanOnPush == b.scanOnPush && a.encryption == b.encryption
            && a.tags.map { [$0.key, $0.value] } == b.tags.map { [$0.key, $0.value] }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(mutability)
        hasher.combine(mutabilityExclusions)
        hasher.combine(scanOnPush)
        hasher.combine(encryption)
        for t in tags { hasher.combine(t.key); hasher.combine(t.value) }
    }

    /// `--create-repository=IMMUTABLE,scan-on-push,kms[:ARN]|aes256` (empty or `default`: ECR's defaults).
    public static func parse(_ text: String) throws -> ECRRepositorySettings {
        var s = ECRRepositorySettings()
        for raw in text.split(separator: ",") {
            let item = raw.trimmingCharacters(in: .whitespaces)
            let lower = item.lowercased()
            switch lower {
            case "", "default", "true": continue
            case "immutable": s.mutability = .immutable
            case "mutable": s.mutability = .mutable
            case "scan-on-push", "scanonpush": s.scanOnPush = true
            case "aes256": s.encryption = .aes256
            case "kms": s.encryption = .kms(key: nil)
            default:
                if lower.hasPrefix("kms:") || lower.hasPrefix("kms=") {
                    s.encryption = .kms(key: String(item.dropFirst(4)))
                } else {
                    throw AWSError.invalidRequest("unknown repository setting '\(item)': use MUTABLE, IMMUTABLE, scan-on-push, AES256, KMS or KMS:KEY-ARN")
                }
            }
        }
        return s
    }
}

/// One image of `DescribeImages`.
public struct ECRImageDetail: Sendable, Hashable, Codable {
    public var registryId: String?
    public var repositoryName: String?
    public var imageDigest: String
    public var imageTags: [String]?
    public var imageSizeInBytes: Int64?
    public var imagePushedAt: Double?
    public var imageManifestMediaType: String?
    public var artifactMediaType: String?
}

/// The ECR control plane: tokens, repositories, images (JSON 1.1, SigV4 service `ecr`).
public struct ECRClient: Sendable {
    public let environment: AWSEnvironment
    public let region: String
    let rpc: JSONRPC

    public init(environment: AWSEnvironment, region: String, fips: Bool? = nil, dualStack: Bool? = nil) throws {
        self.environment = environment
        self.region = region
        rpc = JSONRPC(environment: environment, service: .ecr, targetPrefix: "AmazonEC2ContainerRegistry_V20150921", region: region,
                      endpoint: try environment.endpoint(.ecr, region: region, fips: fips, dualStack: dualStack))
    }

    public var endpoint: URL { rpc.endpoint }

    public func getAuthorizationToken(registryID: String? = nil, credentials: AWSCredentials, now: Date = Date()) async throws -> ECRAuthorization {
        struct Input: Encodable { var registryIds: [String]? }
        struct Output: Decodable {
            struct Entry: Decodable { var authorizationToken: String; var expiresAt: Double?; var proxyEndpoint: String? }
            var authorizationData: [Entry]
        }
        let out = try await rpc.call("GetAuthorizationToken", Input(registryIds: registryID.map { [$0] }), as: Output.self, credentials: credentials)
        guard let entry = out.authorizationData.first else {
            throw AWSError.invalidResponse(service: "ecr", operation: "GetAuthorizationToken", detail: "no authorizationData")
        }
        return try ECRAuthorization.decode(token: entry.authorizationToken, expiresAt: entry.expiresAt, proxyEndpoint: entry.proxyEndpoint, issuedAt: now, service: "ecr")
    }

    public func createRepository(_ name: String, settings: ECRRepositorySettings, registryID: String? = nil, credentials: AWSCredentials) async throws -> ECRRepository {
        struct Tag: Encodable { var Key: String; var Value: String }
        struct Input: Encodable {
            var repositoryName: String
            var registryId: String?
            var imageTagMutability: String?
            var imageTagMutabilityExclusionFilters: [ECRTagExclusionFilter]?
            var imageScanningConfiguration: ECRRepository.ScanConfig?
            var encryptionConfiguration: ECRRepository.Encryption?
            var tags: [Tag]?
        }
        var input = Input(repositoryName: name, registryId: registryID, imageTagMutability: settings.mutability?.rawValue)
        if !settings.mutabilityExclusions.isEmpty { input.imageTagMutabilityExclusionFilters = settings.mutabilityExclusions.map(ECRTagExclusionFilter.init(wildcard:)) }
        if settings.scanOnPush { input.imageScanningConfiguration = .init(scanOnPush: true) }
        switch settings.encryption {
        case .none: break
        case .aes256: input.encryptionConfiguration = .init(encryptionType: "AES256", kmsKey: nil)
        case .kms(let key): input.encryptionConfiguration = .init(encryptionType: "KMS", kmsKey: key)
        }
        if !settings.tags.isEmpty { input.tags = settings.tags.map { Tag(Key: $0.key, Value: $0.value) } }
        struct Output: Decodable { var repository: ECRRepository }
        return try await rpc.call("CreateRepository", input, as: Output.self, credentials: credentials).repository
    }

    /// The repositories of that name; throws `RepositoryNotFoundException` when one is missing.
    public func describeRepositories(_ names: [String], registryID: String? = nil, credentials: AWSCredentials) async throws -> [ECRRepository] {
        struct Input: Encodable { var repositoryNames: [String]; var registryId: String? }
        struct Output: Decodable { var repositories: [ECRRepository] }
        return try await rpc.call("DescribeRepositories", Input(repositoryNames: names, registryId: registryID), as: Output.self, credentials: credentials).repositories
    }

    public enum ImageSelector: Sendable, Hashable { case tag(String), digest(String) }

    /// Images of a repository: the selected one, or all (following `nextToken`).
    public func describeImages(_ repository: String, selecting selector: ImageSelector? = nil, registryID: String? = nil,
                               credentials: AWSCredentials) async throws -> [ECRImageDetail] {
        struct ImageID: Encodable { var imageTag: String?; var imageDigest: String? }
        struct Input: Encodable { var repositoryName: String; var registryId: String?; var imageIds: [ImageID]?; var nextToken: String? }
        struct Output: Decodable { var imageDetails: [ECRImageDetail]; var nextToken: String? }
        var input = Input(repositoryName: repository, registryId: registryID)
        switch selector {
        case .none: break
        case .tag(let t): input.imageIds = [ImageID(imageTag: t)]
        case .digest(let d): input.imageIds = [ImageID(imageDigest: d)]
        }
        var all: [ECRImageDetail] = []
        for _ in 0..<1000 {
            let out = try await rpc.call("DescribeImages", input, as: Output.self, credentials: credentials)
            all += out.imageDetails
            guard let next = out.nextToken, !next.isEmpty, selector == nil else { break }
            input.nextToken = next
        }
        return all
    }
}

/// ECR Public's token (service `ecr-public`, only in us-east-1).
public struct ECRPublicClient: Sendable {
    public let environment: AWSEnvironment
    let rpc: JSONRPC

    public init(environment: AWSEnvironment) throws {
        self.environment = environment
        rpc = JSONRPC(environment: environment, service: .ecrPublic, targetPrefix: "SpencerFrontendService", region: "us-east-1",
                      endpoint: try environment.endpoint(.ecrPublic, region: "us-east-1"))
    }

    public func getAuthorizationToken(credentials: AWSCredentials, now: Date = Date()) async throws -> ECRAuthorization {
        struct Input: Encodable {}
        struct Output: Decodable {
            struct Entry: Decodable { var authorizationToken: String; var expiresAt: Double? }
            var authorizationData: Entry
        }
        let out = try await rpc.call("GetAuthorizationToken", Input(), as: Output.self, credentials: credentials)
        return try ECRAuthorization.decode(token: out.authorizationData.authorizationToken, expiresAt: out.authorizationData.expiresAt,
                                           proxyEndpoint: nil, issuedAt: now, service: "ecr-public")
    }
}
