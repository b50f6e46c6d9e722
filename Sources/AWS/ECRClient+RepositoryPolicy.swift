import Foundation

extension ECRClient {
    /// The repository's policy text, or nil when it has none (`RepositoryPolicyNotFoundException`).
    public func getRepositoryPolicy(_ repository: String, registryID: String? = nil, credentials: AWSCredentials) async throws -> String? {
        struct Input: Encodable { var repositoryName: String; var registryId: String? }
        struct Output: Decodable { var policyText: String? }
        do {
            return try await rpc.call("GetRepositoryPolicy", Input(repositoryName: repository, registryId: registryID),
                                      as: Output.self, credentials: credentials).policyText
        } catch let error as AWSError where error.code == "RepositoryPolicyNotFoundException" {
            return nil
        }
    }

    /// Replaces the repository's policy (SetRepositoryPolicy); returns the text ECR stored.
    @discardableResult
    public func setRepositoryPolicy(_ repository: String, policyText: String, registryID: String? = nil,
                                    credentials: AWSCredentials) async throws -> String? {
        struct Input: Encodable { var repositoryName: String; var registryId: String?; var policyText: String }
        struct Output: Decodable { var policyText: String? }
        return try await rpc.call("SetRepositoryPolicy", Input(repositoryName: repository, registryId: registryID, policyText: policyText),
                                  as: Output.self, credentials: credentials).policyText
    }
}
