import AWS
import Foundation
import Registry

/// Registry credentials for ECR hosts: the ECR login (`AWS:<password>` from
/// `GetAuthorizationToken`, cached by `ECRAuthorizationProvider`), unless the docker config
/// names credentials or a helper for that very host. Every other host goes to the docker
/// config. The glue between the AWS and Registry targets, which know nothing of each other.
/// With `logins`, each registry logs in as the identity `RegistryIdentities` gives it.
public struct ECRCredentialProvider: CredentialProvider {
    public let authorizations: ECRAuthorizationProvider
    public let dockerConfig: DockerConfigCredentials
    /// Per-registry identities; nil: every ECR registry uses `authorizations`.
    public let logins: ECRLogins?

    public init(authorizations: ECRAuthorizationProvider, dockerConfig: DockerConfigCredentials = DockerConfigCredentials(),
                logins: ECRLogins? = nil) {
        self.authorizations = authorizations
        self.dockerConfig = dockerConfig
        self.logins = logins
    }

    public var environment: AWSEnvironment { authorizations.environment }
    public var awsCredentials: any AWSCredentialsProvider { authorizations.awsCredentials }

    /// The ECR login (AWS environment and credentials) that `registry` uses.
    public func login(for registry: String) throws -> ECRAuthorizationProvider {
        try logins?.login(for: registry) ?? authorizations
    }

    public func credential(for registry: String) async throws -> Credential? {
        guard ECRHost.isPublic(registry) || ECRHost(registry) != nil else { return try await dockerConfig.credential(for: registry) }
        if dockerConfig.hasEntry(for: registry) { return try await dockerConfig.credential(for: registry) }
        let auth = try await login(for: registry).authorization(for: registry)
        return Credential(username: auth.username, password: auth.password)
    }

    /// Forgets the cached ECR login of a registry (memory and disk), e.g. after a 401.
    public func invalidate(registry: String) async {
        await (try? login(for: registry))?.invalidate(registry: registry)
    }
}
