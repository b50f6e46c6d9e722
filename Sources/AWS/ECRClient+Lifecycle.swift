import Foundation

extension ECRClient {
    /// What GetLifecyclePolicy returns.
    public struct LifecyclePolicyRecord: Sendable, Hashable, Codable {
        public var registryId: String?
        public var repositoryName: String
        public var lifecyclePolicyText: String
        public var lastEvaluatedAt: Double?
    }

    /// PutLifecyclePolicy with the text as given.
    public func putLifecyclePolicy(_ repository: String, text: String, registryID: String? = nil, credentials: AWSCredentials) async throws {
        struct Input: Encodable { var repositoryName: String; var registryId: String?; var lifecyclePolicyText: String }
        struct Output: Decodable {}
        _ = try await rpc.call("PutLifecyclePolicy", Input(repositoryName: repository, registryId: registryID, lifecyclePolicyText: text),
                               as: Output.self, credentials: credentials)
    }

    /// GetLifecyclePolicy; nil when the repository has none (LifecyclePolicyNotFoundException).
    public func getLifecyclePolicy(_ repository: String, registryID: String? = nil, credentials: AWSCredentials) async throws -> LifecyclePolicyRecord? {
        struct Input: Encodable { var repositoryName: String; var registryId: String? }
        do {
            return try await rpc.call("GetLifecyclePolicy", Input(repositoryName: repository, registryId: registryID), as: LifecyclePolicyRecord.self, credentials: credentials)
        } catch let error as AWSError where error.code == "LifecyclePolicyNotFoundException" {
            return nil
        }
    }
}
