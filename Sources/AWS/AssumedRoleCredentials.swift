import Foundation

/// Credentials of a role assumed with STS `AssumeRole` from other credentials: what a
/// per-registry identity (`--dest-profile arn:aws:iam::PROD:role/promote`, a `roleArn` in
/// slipway's config file) logs in with. Cached like the chain's and assumed again five
/// minutes before they expire.
public final class AssumedRoleCredentials: AWSCredentialsProvider {
    public let environment: AWSEnvironment
    public let base: any AWSCredentialsProvider
    public let roleARN: String
    public let externalID: String?
    public let sessionName: String
    private let cache = CredentialCache()

    public init(environment: AWSEnvironment, base: any AWSCredentialsProvider, roleARN: String, externalID: String? = nil,
                sessionName: String? = nil) {
        self.environment = environment
        self.base = base
        self.roleARN = roleARN
        self.externalID = externalID
        self.sessionName = sessionName ?? "slipway-\(Int(Date().timeIntervalSince1970))"
    }

    public func credentials() async throws -> AWSCredentials {
        try await cache.get(margin: 300) { try await self.assume() }
    }

    private func assume() async throws -> AWSCredentials {
        let source = try await base.credentials()
        let described = "role \(roleARN) (assumed with credentials from \(source.source))"
        do {
            return try await STSClient(environment: environment).assumeRole(roleARN: roleARN, sessionName: sessionName, externalID: externalID,
                                                                          credentials: source, source: described)
        } catch let error as AWSError {
            throw AWSError.credentials(source: described, message: error.description)
        }
    }

    /// Whether `text` is an IAM role ARN (`arn:PARTITION:iam::ACCOUNT:role/NAME`).
    public static func isRoleARN(_ text: String) -> Bool {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        return parts.count == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[4].count == 12
            && parts[4].allSatisfy(\.isNumber) && parts[5].hasPrefix("role/") && parts[5].count > 5
    }
}
