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
        var immutable: [String: Bool] = [:]
        for reference in references {
            guard let tag = reference.tag, let host = ECRHost(reference.registry) else { continue }
            let name = "\(reference.registry)/\(reference.repository)"
            if immutable[name] == nil {
                immutable[name] = await isImmutable(reference.repository, host: host, credentials: credentials)
            }
            guard immutable[name] == true else { continue }
            let client = pusher.client(for: reference.registry)
            try await client.ping()
            if let existing = try await client.manifestExists(tag, in: reference.repository, forPush: true), existing.digest != root.digest {
                throw RegistryError.immutableTag(repository: name, tag: tag, existing: existing.digest)
            }
        }
    }

    /// Whether the repository's tags are immutable (exactly `IMMUTABLE`: the `…_WITH_EXCLUSION`
    /// forms exempt some tags, so the push decides); false when that cannot be known.
    private static func isImmutable(_ repository: String, host: ECRHost, credentials: ECRCredentialProvider) async -> Bool {
        do {
            let login = try credentials.login(for: host.host)
            let aws = try await login.awsCredentials.credentials()
            let client = try ECRClient(environment: login.environment, region: host.region, fips: host.fips, dualStack: host.dualStack)
            let found = try await client.describeRepositories([repository], registryID: host.account, credentials: aws)
            return found.first?.imageTagMutability?.uppercased() == "IMMUTABLE"
        } catch {
            return false
        }
    }
}
