import AWS
import Foundation

/// Reporting on repositories, and the registry's replication.
extension ECRTasks {
    /// One repository with every control a release engineer checks.
    public struct RepositoryReport: Sendable, Hashable, Encodable {
        public var repositoryName: String
        public var repositoryUri: String?
        public var imageTagMutability: String
        public var imageTagMutabilityExclusionFilters: [String]
        public var scanOnPush: Bool
        /// The registry's scanning type (BASIC/ENHANCED) and the frequency its rules give this
        /// repository (SCAN_ON_PUSH, CONTINUOUS_SCAN; nil: none or unknown).
        public var registryScanType: String?
        public var registryScanFrequency: String?
        public var encryptionType: String
        public var kmsKey: String?
        /// Rules of the lifecycle policy; nil: no policy.
        public var lifecyclePolicyRules: Int?
        public var createdAt: Double?
    }

    /// The named repositories (all when none are named), each with its lifecycle policy's
    /// presence (GetLifecyclePolicy) and the registry's scanning rules for it.
    public func describeRepositories(_ names: [String], registryID: String?) async throws -> [RepositoryReport] {
        let (client, credentials) = try await session()
        let repositories = names.isEmpty
            ? try await client.describeAllRepositories(registryID: registryID, credentials: credentials)
            : try await client.describeRepositories(names, registryID: registryID, credentials: credentials)
        let scanning = try? await client.getRegistryScanningConfiguration(credentials: credentials)
        var reports: [RepositoryReport] = []
        for repository in repositories.sorted(by: { $0.repositoryName < $1.repositoryName }) {
            let policy = try await client.getLifecyclePolicy(repository.repositoryName, registryID: registryID, credentials: credentials)
            let rules = policy.map { record -> Int in
                (try? JSONSerialization.jsonObject(with: Data(record.lifecyclePolicyText.utf8)) as? [String: Any])?["rules"].flatMap { ($0 as? [Any])?.count } ?? 0
            }
            reports.append(RepositoryReport(
                repositoryName: repository.repositoryName, repositoryUri: repository.repositoryUri,
                imageTagMutability: (repository.imageTagMutability ?? "MUTABLE").uppercased(),
                imageTagMutabilityExclusionFilters: (repository.imageTagMutabilityExclusionFilters ?? []).map(\.filter),
                scanOnPush: repository.imageScanningConfiguration?.scanOnPush ?? false,
                registryScanType: scanning?.scanType, registryScanFrequency: scanning?.frequency(for: repository.repositoryName),
                encryptionType: repository.encryptionConfiguration?.encryptionType ?? "AES256", kmsKey: repository.encryptionConfiguration?.kmsKey,
                lifecyclePolicyRules: rules, createdAt: repository.createdAt))
        }
        return reports
    }

    /// Replicates every repository (or those starting with `prefixes`) to each region, in
    /// `account` (default: this registry's). PutReplicationConfiguration replaces the
    /// registry's rules; it is sent only when they differ from the ones asked for.
    public func putReplication(regions: [String], account: String?, prefixes: [String]) async throws
        -> (changed: Bool, before: ECRReplicationConfiguration, after: ECRReplicationConfiguration) {
        guard !regions.isEmpty else { throw PublishError.invalidArgument("give at least one --to-region") }
        if let account, account.count != 12 || !account.allSatisfy(\.isNumber) {
            throw PublishError.invalidArgument("--to-account must be a 12-digit AWS account id, not '\(account)'")
        }
        let (client, credentials) = try await session()
        let (registryID, before) = try await client.describeReplication(credentials: credentials)
        guard let target = account ?? registryID else { throw PublishError.failed("ECR DescribeRegistry did not say which account this registry is") }
        var destinations: [ECRReplicationConfiguration.Destination] = []
        for region in regions where !destinations.contains(where: { $0.region == region }) {
            destinations.append(.init(region: region, registryId: target))
        }
        let after = ECRReplicationConfiguration(rules: [.init(destinations: destinations,
                                                              repositoryFilters: prefixes.isEmpty ? nil : prefixes.map(ECRReplicationConfiguration.Filter.init(prefix:)))])
        func normal(_ c: ECRReplicationConfiguration) -> [[String]] {
            c.rules.map { rule in
                rule.destinations.map { "\($0.region)/\($0.registryId)" }.sorted() + ["|"] + (rule.repositoryFilters ?? []).map(\.filter).sorted()
            }
        }
        if normal(before) == normal(after) { return (false, before, after) }
        try await client.putReplicationConfiguration(after, credentials: credentials)
        return (true, before, after)
    }
}
