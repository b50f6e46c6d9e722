import AWS
import Foundation
import Registry

/// What a push does for ECR targets besides pushing: repositories created on request, one
/// retry with a fresh token after a 401, and a hint when the repository does not exist.
enum ECRRepositories {
    /// Creates each ECR repository named by `references` that does not exist yet; a parallel
    /// job creating it meanwhile is fine.
    static func ensure(_ references: [ImageReference], settings: ECRRepositorySettings,
                       credentials: ECRCredentialProvider, onEvent: PublishEventHandler) async throws {
        var seen = Set<String>()
        for reference in references {
            guard let host = ECRHost(reference.registry), seen.insert("\(host.host)/\(reference.repository)").inserted else {
                if ECRHost(reference.registry) == nil && !ECRHost.isPublic(reference.registry) {
                    onEvent(.warning("--create-repository: \(reference.registry) is not an ECR registry; not creating \(reference.repository)"))
                }
                continue
            }
            let login = try credentials.login(for: reference.registry)
            let aws = try await login.awsCredentials.credentials()
            let client = try ECRClient(environment: login.environment, region: host.region, fips: host.fips, dualStack: host.dualStack)
            do {
                let existing = try await client.describeRepositories([reference.repository], registryID: host.account, credentials: aws)
                // An implicit creation does not change or refuse an existing repository (a push
                // job's flag stays while the repository lives on): it says what differs.
                if let repository = existing.first, case let differences = settings.differences(from: repository), !differences.isEmpty {
                    onEvent(.warning("--create-repository: ECR repository \(reference.registry)/\(reference.repository) already exists and is left as it is: "
                                     + differences.map(\.description).joined(separator: "; ")
                                     + " (apply with `slipway ecr create-repository \(reference.repository) --if-not-exists --update …`)"))
                }
            } catch let error as AWSError where error.code == "RepositoryNotFoundException" {
                do {
                    let created = try await client.createRepository(reference.repository, settings: settings, registryID: host.account, credentials: aws)
                    onEvent(.repositoryCreated(created.repositoryUri ?? reference.repository))
                } catch let error as AWSError where error.code == "RepositoryAlreadyExistsException" {
                    // Created meanwhile by a parallel job: fine.
                }
            }
        }
    }

    /// Runs a push; after a 401 from an ECR registry it drops the cached tokens and tries once
    /// more (a token revoked or expired early). NAME_UNKNOWN from ECR gets the way out.
    static func retryingUnauthorized<T>(_ references: [ImageReference], credentials: ECRCredentialProvider, createRepository: Bool,
                                        _ push: () async throws -> T) async throws -> T {
        let ecrHosts = Set(references.map(\.registry).filter { ECRHost($0) != nil || ECRHost.isPublic($0) })
        do {
            return try await push()
        } catch let error as RegistryError where error.httpStatus == 401 && !ecrHosts.isEmpty {
            for host in ecrHosts { await credentials.invalidate(registry: host) }
            return try await push()
        } catch let error as RegistryError where error.codes.contains(RegistryErrorCode.nameUnknown) && !ecrHosts.isEmpty && !createRepository {
            throw PublishError.failed("\(error)\nthe ECR repository does not exist: create it with `slipway ecr create-repository NAME` or push with --create-repository")
        }
    }
}
