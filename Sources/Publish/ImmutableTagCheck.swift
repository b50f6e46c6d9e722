import AWS
import Foundation
import OCI
import Registry

/// The tag check a push makes before it uploads any manifest. An immutable tag that already
/// names another image refuses the tag PUT only at the very end, after the manifests went up
/// by digest — which ECR then lists as untagged images a failed release leaves behind. Asking
/// first (the repository's tag mutability from DescribeRepositories, the tag's digest from a
/// manifest HEAD, which push credentials allow) refuses with the same error before that.
enum ImmutableTagCheck {
    /// Throws `RegistryError.immutableTag` for the first reference whose tag is immutable and
    /// names another digest. Repositories that are missing, mutable, or whose settings the
    /// caller may not read are left to the push (which still refuses, later).
    static func check(_ root: Descriptor, references: [ImageReference], pusher: Pusher, credentials: ECRCredentialProvider) async throws {
        var repositories: [String: ECRRepository?] = [:]
        for reference in references {
            guard let tag = reference.tag, let host = ECRHost(reference.registry) else { continue }
            let name = "\(reference.registry)/\(reference.repository)"
            if repositories[name] == nil {
                repositories[name] = .some(await repository(reference.repository, host: host, credentials: credentials))
            }
            // `…_WITH_EXCLUSION`: a tag the filters exempt (a mutable `latest`) is simply moved.
            guard let found = repositories[name] ?? nil, found.isImmutable(tag: tag) else { continue }
            let client = pusher.client(for: reference.registry)
            try await client.ping()
            if let existing = try await client.manifestExists(tag, in: reference.repository, forPush: true), existing.digest != root.digest {
                throw RegistryError.immutableTag(repository: name, tag: tag, existing: existing.digest)
            }
        }
    }

    /// The repository's settings (tag mutability and its exclusion filters); nil when they
    /// cannot be read, and the push decides.
    private static func repository(_ repository: String, host: ECRHost, credentials: ECRCredentialProvider) async -> ECRRepository? {
        do {
            let login = try credentials.login(for: host.host)
            let aws = try await login.awsCredentials.credentials()
            let client = try ECRClient(environment: login.environment, region: host.region, fips: host.fips, dualStack: host.dualStack)
            return try await client.describeRepositories([repository], registryID: host.account, credentials: aws).first
        } catch {
            return nil
        }
    }
}
