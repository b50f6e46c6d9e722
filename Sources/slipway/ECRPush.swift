import AWS
import ArgumentParser
import Foundation
import HTTP
import Registry

/// What `push` / `build --push` do for ECR targets: the credential provider, repositories
/// created on request, one retry with a fresh token after a 401, and a hint for NAME_UNKNOWN.
enum ECRPush {
    static func settings(_ spec: String) throws -> ECRRepositorySettings {
        do { return try ECRRepositorySettings.parse(spec) } catch {
            throw ValidationError("--create-repository: \(error)")
        }
    }

    /// AWS calls go over the registry's transport with the registry's retry policy.
    static func credentials(transport: any HTTPTransport, profile: String?, retries: Int) throws -> ECRCredentialProvider {
        let env = try AWSEnvironment(profile: profile, transport: transport, retry: RetryPolicy(maxRetries: retries))
        return ECRCredentialProvider(authorizations: ECRAuthorizationProvider(environment: env, cacheDirectory: ECRAuthorizationProvider.defaultCacheDirectory()))
    }

    /// Creates each ECR repository named by `references` that does not exist yet.
    static func ensureRepositories(_ references: [ImageReference], settings: ECRRepositorySettings,
                                   credentials: ECRCredentialProvider, console: Console) async throws {
        var seen = Set<String>()
        for reference in references {
            guard let host = ECRHost(reference.registry), seen.insert("\(host.host)/\(reference.repository)").inserted else {
                if ECRHost(reference.registry) == nil && !ECRHost.isPublic(reference.registry) {
                    console.warn("--create-repository: \(reference.registry) is not an ECR registry; not creating \(reference.repository)")
                }
                continue
            }
            let aws = try await credentials.awsCredentials.credentials()
            let client = try ECRClient(environment: credentials.environment, region: host.region, fips: host.fips, dualStack: host.dualStack)
            do {
                _ = try await client.describeRepositories([reference.repository], registryID: host.account, credentials: aws)
            } catch let error as AWSError where error.code == "RepositoryNotFoundException" {
                do {
                    let created = try await client.createRepository(reference.repository, settings: settings, registryID: host.account, credentials: aws)
                    console.step("created ECR repository \(created.repositoryUri ?? reference.repository)")
                } catch let error as AWSError where error.code == "RepositoryAlreadyExistsException" {
                    // Created meanwhile by a parallel job: fine.
                }
            }
        }
    }

    /// Runs a push; after a 401 from an ECR registry it drops the cached tokens and tries once more.
    static func retryingUnauthorized<T>(_ references: [ImageReference], credentials: ECRCredentialProvider, createRepository: Bool,
                                        _ push: () async throws -> T) async throws -> T {
        let ecrHosts = Set(references.map(\.registry).filter { ECRHost($0) != nil || ECRHost.isPublic($0) })
        do {
            return try await push()
        } catch let error as RegistryError where error.httpStatus == 401 && !ecrHosts.isEmpty {
            for host in ecrHosts { await credentials.invalidate(registry: host) }
            return try await push()
        } catch let error as RegistryError where error.codes.contains(RegistryErrorCode.nameUnknown) && !ecrHosts.isEmpty && !createRepository {
            throw ECRPushError(message: "\(error)\nthe ECR repository does not exist: create it with `slipway ecr create-repository NAME` or push with --create-repository")
        }
    }
}

struct ECRPushError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
