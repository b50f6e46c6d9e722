import AWS
import Builder
import Foundation
import OCI
import Registry

/// The one definition of slipway's cache directory, shared by builds, pulls, copies, `cache`
/// and the ECR token cache: `--cache-dir`, else `$XDG_CACHE_HOME/slipway`, else
/// `~/.cache/slipway`. Blobs live in `store/`, tag resolutions in `resolutions.json`, ECR
/// logins in `ecr-auth/`, the layer cache in `layers/` (see `CacheUsage` for every area).
public struct CacheLocation: Sendable, Hashable {
    public let directory: URL

    public init(_ option: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let option, !option.isEmpty {
            directory = URL(fileURLWithPath: option)
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            directory = URL(fileURLWithPath: xdg).appendingPathComponent("slipway")
        } else {
            directory = URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache/slipway")
        }
    }

    public var path: String { directory.path }
    public var storeDirectory: URL { directory.appendingPathComponent("store") }

    /// Opens (creating) the blob store.
    public func store() throws -> ContentStore { try ContentStore(root: storeDirectory) }

    /// The blob store for reading only: an absent cache is simply empty.
    public func existingStore() -> ContentStore { ContentStore(readingLayoutAt: storeDirectory) }

    public func resolutions() -> TagResolutionCache {
        TagResolutionCache(file: directory.appendingPathComponent("resolutions.json"))
    }

    /// What `cache prune` keeps: nothing, the most recent blobs up to a size, or (the
    /// default) what was used in the last 30 days.
    public enum PrunePolicy: Sendable {
        case all
        case keepBytes(Int64)
        case unusedFor(TimeInterval)
    }

    /// What `cache prune` did, area by area (see `CacheUsage`).
    public struct PruneReport: Sendable, Hashable {
        public var store = ContentStore.PruneResult()
        public var removedLayerKeys = 0
        public var removedResolutions = 0
        public var removedECRLogins = 0
        /// Bytes freed outside the blob store (layer cache keys and memo, tag resolutions, ECR logins).
        public var freedBesideBlobs: Int64 = 0
    }

    /// Prunes every area of the cache but the RUN cache mounts (`pruneRunCache`) consistently:
    /// blobs by the policy (`.keepBytes` bounds them with every other area `cache du` shows,
    /// see `CacheUsage.bytesBoundWithBlobs`), then what refers to
    /// blobs that went (layer cache keys, tag resolutions), file digests unused for 30 days and
    /// expired ECR logins; `.all` empties every area. Nil when there is no cache.
    public func prune(_ policy: PrunePolicy, now: Date = Date()) throws -> PruneReport? {
        guard FileManager.default.fileExists(atPath: directory.path) else { return nil }
        let before = CacheUsage.measure(self)
        var report = PruneReport()
        report.removedECRLogins = ECRAuthorizationProvider.pruneDiskCache(cacheDirectory: directory, all: isAll(policy), now: now).files
        if FileManager.default.fileExists(atPath: storeDirectory.path) {
            let store = try store()
            // Every partial file is debris when no other slipway is running; else only old ones.
            let lease = CacheLease(self)
            let alone = lease.ifAlone { true } ?? false
            switch policy {
            case .all:
                report.store = store.prune(keepBytes: 0, noOtherWriters: alone)
            case .keepBytes(let bytes):
                report.store = store.prune(keepBytes: max(0, bytes - CacheUsage.measure(self).bytesBoundWithBlobs), noOtherWriters: alone)
            case .unusedFor(let seconds):
                report.store = store.prune(keepBytes: 0, usedBefore: now.addingTimeInterval(-seconds), noOtherWriters: alone)
            }
            // The layer cache's entries for blobs that went (all of it, and the file digests, with --all).
            LayerCacheMaintenance.prune(layersDirectory: layersDirectory, store: store, everything: isAll(policy))
            if !isAll(policy) { report.removedResolutions = resolutions().removeEntries { !store.contains($0) } }
        } else {
            LayerCacheMaintenance.prune(layersDirectory: layersDirectory, store: existingStore(), everything: isAll(policy))
        }
        if isAll(policy) {
            report.removedResolutions = resolutions().count
            resolutions().clear()
        }
        let after = CacheUsage.measure(self)
        report.removedLayerKeys = max(0, before[.layerKeys].count - after[.layerKeys].count)
        report.freedBesideBlobs = max(0, before.bytesBoundWithBlobs - after.bytesBoundWithBlobs)
        return report
    }

    /// `RUN --mount=type=cache` directories (`RunCacheStore`), kept across builds.
    public var runCacheDirectory: URL { directory.appendingPathComponent("run-cache") }

    /// Prunes the RUN cache mounts by the same policy (`keepBytes` bounds them on their own);
    /// one in use by a running build is kept.
    public func pruneRunCache(_ policy: PrunePolicy, now: Date = Date()) -> RunCacheStore.PruneResult {
        let store = RunCacheStore(directory: runCacheDirectory.path)
        switch policy {
        case .all: return store.prune(all: true)
        case .keepBytes(let bytes): return store.prune(keepBytes: bytes)
        case .unusedFor(let seconds): return store.prune(usedBefore: now.addingTimeInterval(-seconds))
        }
    }

    /// The layer cache: its index of keys and the memo of file content digests.
    public var layersDirectory: URL { directory.appendingPathComponent("layers") }

    private func isAll(_ policy: PrunePolicy) -> Bool {
        if case .all = policy { return true }
        return false
    }

    /// `10GiB`, `500MB`, `1g`, `2048` (bytes): binary units, as docker's `--keep-storage`.
    public static func parseSize(_ text: String) throws -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let k = 1024.0
        let factors: [String: Double] = ["": 1, "b": 1, "k": k, "kb": k, "kib": k, "m": k * k, "mb": k * k, "mib": k * k,
                                         "g": k * k * k, "gb": k * k * k, "gib": k * k * k, "t": k * k * k * k, "tb": k * k * k * k, "tib": k * k * k * k]
        guard let value = Double(digits), value >= 0, let factor = factors[unit] else {
            throw PublishError.invalidArgument("'\(text)' is not a size: use e.g. 10GiB, 500MB or a number of bytes")
        }
        return Int64(value * factor)
    }
}
