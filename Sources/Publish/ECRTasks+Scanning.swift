import AWS
import Foundation
import OCI

/// `ecr scan-findings` and the registry's scanning configuration.
extension ECRTasks {
    /// The scan of the image with `tag` or `digest`: for an index, of each platform manifest
    /// (ECR scans those, not the index).
    public func scanFindings(_ name: String, tag: String?, digest: String?, options: ECRScanOptions, registryID: String?,
                             onProgress: @escaping @Sendable (ECRScanProgress) -> Void) async throws -> [ECRScanReport] {
        let (client, credentials) = try await session()
        let selector: ECRClient.ImageSelector = tag.map { .tag($0) } ?? .digest(digest ?? "")
        guard let image = try await client.describeImages(name, selecting: selector, registryID: registryID, credentials: credentials).first else {
            throw PublishError.failed("no image \(tag.map { "tagged \($0)" } ?? digest ?? "") in \(name)")
        }
        var images: [(String, String?)] = [(image.imageDigest, nil)]
        if let type = image.imageManifestMediaType, type == MediaType.imageIndex || type == MediaType.dockerManifestList,
           let manifest = try await client.batchGetImageManifests(name, digests: [image.imageDigest], registryID: registryID, credentials: credentials).first,
           let index = try? JSONDecoder().decode(Index.self, from: Data(manifest.manifest.utf8)) {
            images = index.manifests.filter { $0.platform.map { $0.os != "unknown" } ?? true }.map { ($0.digest.description, $0.platform?.description) }
        }
        let waiter = ECRScanWaiter(client: client, credentials: credentials, registryID: registryID, options: options, onProgress: onProgress)
        var reports: [ECRScanReport] = []
        for (digest, platform) in images {
            reports.append(try await waiter.report(name, digest: digest, platform: platform))
        }
        return reports
    }

    public func registryScanningConfiguration() async throws -> ECRRegistryScanningConfiguration {
        let (client, credentials) = try await session()
        return try await client.getRegistryScanningConfiguration(credentials: credentials)
    }

    /// PutRegistryScanningConfiguration, only when the registry's differs (rule order aside).
    public func putRegistryScanningConfiguration(_ wanted: ECRRegistryScanningConfiguration) async throws -> (changed: Bool, before: ECRRegistryScanningConfiguration) {
        let (client, credentials) = try await session()
        let before = try await client.getRegistryScanningConfiguration(credentials: credentials)
        func normal(_ c: ECRRegistryScanningConfiguration) -> [String: Set<String>] {
            var out: [String: Set<String>] = ["type": [c.scanType.uppercased()]]
            for rule in c.rules { out[rule.scanFrequency, default: []].formUnion(rule.repositoryFilters.map(\.filter)) }
            return out
        }
        if normal(before) == normal(wanted) { return (false, before) }
        try await client.putRegistryScanningConfiguration(wanted, credentials: credentials)
        return (true, before)
    }

    /// `--enhanced --continuous F… --on-push F…` / `--basic [--on-push F…]` as a configuration.
    public static func registryScanning(enhanced: Bool, basic: Bool, continuous: [String], onPush: [String]) throws -> ECRRegistryScanningConfiguration {
        guard enhanced != basic else { throw PublishError.invalidArgument("give --enhanced or --basic") }
        if basic && !continuous.isEmpty { throw PublishError.invalidArgument("--continuous needs --enhanced: basic scanning scans on push only") }
        for filter in continuous + onPush {
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/*-")
            guard (1...256).contains(filter.count), filter.allSatisfy(allowed.contains) else {
                throw PublishError.invalidArgument("repository filter '\(filter)' may hold only letters, digits, '.', '_', '-', '/' and '*'")
            }
        }
        var rules: [ECRRegistryScanningConfiguration.Rule] = []
        if !continuous.isEmpty { rules.append(.init(scanFrequency: "CONTINUOUS_SCAN", repositoryFilters: continuous.map(ECRRegistryScanningConfiguration.Filter.init))) }
        if !onPush.isEmpty { rules.append(.init(scanFrequency: "SCAN_ON_PUSH", repositoryFilters: onPush.map(ECRRegistryScanningConfiguration.Filter.init))) }
        return ECRRegistryScanningConfiguration(scanType: enhanced ? "ENHANCED" : "BASIC", rules: rules)
    }
}
