import Foundation

/// A registry's replication configuration (PutReplicationConfiguration / DescribeRegistry).
public struct ECRReplicationConfiguration: Sendable, Hashable, Codable {
    public struct Destination: Sendable, Hashable, Codable {
        public var region: String
        public var registryId: String
        public init(region: String, registryId: String) { self.region = region; self.registryId = registryId }
    }

    public struct Filter: Sendable, Hashable, Codable {
        public var filter: String
        /// PREFIX_MATCH (the only type ECR knows).
        public var filterType: String
        public init(prefix: String) { filter = prefix; filterType = "PREFIX_MATCH" }
    }

    public struct Rule: Sendable, Hashable, Codable {
        public var destinations: [Destination]
        public var repositoryFilters: [Filter]?
        public init(destinations: [Destination], repositoryFilters: [Filter]?) {
            self.destinations = destinations
            self.repositoryFilters = repositoryFilters
        }
    }

    public var rules: [Rule]
    public init(rules: [Rule]) { self.rules = rules }
}

extension ECRClient {
    /// Every repository of the registry (DescribeRepositories without names, all pages).
    public func describeAllRepositories(registryID: String? = nil, credentials: AWSCredentials) async throws -> [ECRRepository] {
        struct Input: Encodable { var registryId: String?; var nextToken: String?; var maxResults: Int }
        struct Output: Decodable { var repositories: [ECRRepository]; var nextToken: String? }
        var input = Input(registryId: registryID, maxResults: 1000)
        var all: [ECRRepository] = []
        for _ in 0..<10_000 {
            let out = try await rpc.call("DescribeRepositories", input, as: Output.self, credentials: credentials)
            all += out.repositories
            guard let next = out.nextToken, !next.isEmpty else { break }
            input.nextToken = next
        }
        return all
    }

    /// The registry's replication configuration (DescribeRegistry).
    public func describeReplication(credentials: AWSCredentials) async throws -> (registryID: String?, configuration: ECRReplicationConfiguration) {
        struct Input: Encodable {}
        struct Output: Decodable { var registryId: String?; var replicationConfiguration: ECRReplicationConfiguration? }
        let out = try await rpc.call("DescribeRegistry", Input(), as: Output.self, credentials: credentials)
        return (out.registryId, out.replicationConfiguration ?? ECRReplicationConfiguration(rules: []))
    }

    public func putReplicationConfiguration(_ configuration: ECRReplicationConfiguration, credentials: AWSCredentials) async throws {
        struct Input: Encodable { var replicationConfiguration: ECRReplicationConfiguration }
        struct Output: Decodable {}
        _ = try await rpc.call("PutReplicationConfiguration", Input(replicationConfiguration: configuration), as: Output.self, credentials: credentials)
    }
}
