import AWS
import Foundation

/// Repository controls of a release job: tag mutability with exclusions, lifecycle policies.
extension ECRTasks {
    /// The ECR client of the configured region and the caller's credentials.
    func session() async throws -> (ECRClient, AWSCredentials) {
        let credentials = try await AWSCredentialChain(environment: environment).credentials()
        return (try ECRClient(environment: environment, region: try environment.region()), credentials)
    }

    /// What an idempotent `put-…` did.
    public struct ChangeOutcome: Sendable, Hashable, Encodable {
        public var repositoryName: String?
        /// False when the setting was already as asked: nothing was sent.
        public var changed: Bool
        public var before: String?
        public var after: String
    }

    /// PutImageTagMutability, only when the repository's mutability or exclusions differ.
    public func putImageTagMutability(_ name: String, settings: ECRRepositorySettings, registryID: String?) async throws -> ChangeOutcome {
        guard let mutability = settings.mutability else { throw PublishError.invalidArgument("give --image-tag-mutability, --mutable-tag or --immutable-tag") }
        let (client, credentials) = try await session()
        guard let repository = try await client.describeRepositories([name], registryID: registryID, credentials: credentials).first else {
            throw PublishError.failed("repository \(name) not found")
        }
        let wanted = settings.mutabilityDescription ?? mutability.rawValue
        if settings.differences(from: repository).isEmpty {
            return ChangeOutcome(repositoryName: name, changed: false, before: repository.mutabilityDescription, after: wanted)
        }
        try await client.putImageTagMutability(name, mutability, exclusions: settings.mutabilityExclusions, registryID: registryID, credentials: credentials)
        return ChangeOutcome(repositoryName: name, changed: true, before: repository.mutabilityDescription, after: wanted)
    }

    /// PutLifecyclePolicy with `text`, only when the repository's policy is not the same
    /// document already (compared as JSON, not as text).
    public func putLifecyclePolicy(_ name: String, text: String, registryID: String?) async throws -> ChangeOutcome {
        let (client, credentials) = try await session()
        let existing = try await client.getLifecyclePolicy(name, registryID: registryID, credentials: credentials)
        if let existing, Self.sameJSON(existing.lifecyclePolicyText, text) {
            return ChangeOutcome(repositoryName: name, changed: false, before: existing.lifecyclePolicyText, after: text)
        }
        try await client.putLifecyclePolicy(name, text: text, registryID: registryID, credentials: credentials)
        return ChangeOutcome(repositoryName: name, changed: true, before: existing?.lifecyclePolicyText, after: text)
    }

    public func getLifecyclePolicy(_ name: String, registryID: String?) async throws -> ECRClient.LifecyclePolicyRecord? {
        let (client, credentials) = try await session()
        return try await client.getLifecyclePolicy(name, registryID: registryID, credentials: credentials)
    }

    /// Whether two JSON texts hold the same document (key order and spacing aside).
    static func sameJSON(_ a: String, _ b: String) -> Bool {
        func canonical(_ text: String) -> Data? {
            guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return nil }
            return try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
        }
        guard let x = canonical(a), let y = canonical(b) else { return a == b }
        return x == y
    }
}
