import AWS
import Foundation
import OCI
import Registry

/// `build --push --scan-gate SEVERITY` / `push --scan-gate`: after the push, before success
/// is reported, every platform manifest pushed to an ECR repository must have a finished scan
/// with no finding at or above the threshold.
public struct ECRScanGatePolicy: Sendable, Hashable {
    public var options: ECRScanOptions

    public init(threshold: String, timeout: TimeInterval, startScan: Bool) {
        options = ECRScanOptions(threshold: threshold, wait: true, timeout: timeout, startScan: startScan)
    }
}

/// What the gate reports while it works.
public enum ECRScanGateEvent: Sendable {
    case progress(ECRScanProgress)
    case report(ECRScanReport)
    /// A pushed reference outside ECR: nothing to scan there.
    case skipped(String)
}

enum ECRScanGate {
    /// Runs the gate for each ECR repository among `references` (once per repository): the
    /// root's platform manifests (the root itself for a single-platform image). Throws when
    /// any image fails, after every report is out.
    static func enforce(_ policy: ECRScanGatePolicy, root: Descriptor, store: ContentStore, references: [ImageReference],
                        credentials: ECRCredentialProvider, onEvent: @escaping PublishEventHandler) async throws {
        let images = try platformManifests(root, store: store)
        var seen = Set<String>()
        var failures: [String] = []
        // One deadline for the whole gate, whatever the number of repositories and platforms.
        let deadline = Date().addingTimeInterval(policy.options.timeout)
        for reference in references where seen.insert(reference.name).inserted {
            guard let host = ECRHost(reference.registry) else {
                onEvent(.scanGate(.skipped("\(reference.name) is not an ECR repository: --scan-gate does not apply")))
                continue
            }
            // The identity that pushed there (per-registry identities) reads its findings.
            let login = try credentials.login(for: reference.registry)
            let client = try ECRClient(environment: login.environment, region: host.region, fips: host.fips, dualStack: host.dualStack)
            let waiter = ECRScanWaiter(client: client, credentials: try await login.awsCredentials.credentials(), registryID: host.account,
                                       options: policy.options, deadline: deadline) { onEvent(.scanGate(.progress($0))) }
            for (digest, platform) in images {
                let report = try await waiter.report(reference.repository, digest: digest.description, platform: platform)
                onEvent(.scanGate(.report(report)))
                if let failure = report.gateFailure { failures.append(failure) }
            }
        }
        if !failures.isEmpty {
            throw PublishError.failed("scan gate (--scan-gate \(policy.options.threshold ?? "")) failed:\n" + failures.map { "  " + $0 }.joined(separator: "\n"))
        }
    }

    /// The images ECR scans: each platform manifest of an index (attestation manifests,
    /// `unknown/unknown`, left out), or the manifest itself.
    static func platformManifests(_ root: Descriptor, store: ContentStore) throws -> [(Digest, String?)] {
        guard root.mediaType == MediaType.imageIndex || root.mediaType == MediaType.dockerManifestList else { return [(root.digest, nil)] }
        let index = try JSONDecoder().decode(Index.self, from: try store.read(root.digest))
        return index.manifests
            .filter { $0.platform.map { $0.os != "unknown" } ?? true }
            .map { ($0.digest, $0.platform?.description) }
    }
}
