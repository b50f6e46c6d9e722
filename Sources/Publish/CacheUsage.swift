import AWS
import Builder
import Foundation
import OCI

/// What the cache directory holds, area by area: what `cache du` shows and what `cache prune`
/// and the size bound after each run count, so the two always agree. Every file under the
/// directory belongs to exactly one area (`other` is what no area names: lock files, files of
/// other tools), and the areas' bytes add up to the total.
public struct CacheUsage: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case blobs, partialFiles, runCacheMounts, layerKeys, fileHashMemo, tagResolutions, ecrLogins, other
    }

    public struct Area: Sendable, Hashable {
        public var kind: Kind
        /// Blobs, partial files, keys, memo records, tags, tokens, files.
        public var count = 0
        public var bytes: Int64 = 0

        /// Where it lives in the cache directory and what `count` counts.
        public var label: (name: String, path: String, unit: String) {
            switch kind {
            case .blobs: return ("blobs", "store/blobs", "blob")
            case .partialFiles: return ("partial files", "store/ingest", "file")
            case .runCacheMounts: return ("RUN cache mounts", "run-cache", "mount")
            case .layerKeys: return ("layer cache keys", "layers/keys", "key")
            case .fileHashMemo: return ("file-hash memo", "layers/file-hashes", "file")
            case .tagResolutions: return ("tag resolutions", "resolutions.json", "tag")
            case .ecrLogins: return ("ECR logins", "ecr-auth", "token")
            case .other: return ("other", "", "file")
            }
        }

        /// `3 blobs`, `1 key`.
        public var countText: String { "\(count) \(label.unit)\(count == 1 ? "" : "s")" }
    }

    /// One per kind, in `Kind`'s order.
    public var areas: [Area]
    public var totalBytes: Int64 { areas.reduce(0) { $0 + $1.bytes } }

    public subscript(_ kind: Kind) -> Area { areas.first { $0.kind == kind } ?? Area(kind: kind) }

    /// Bytes of everything but the blobs.
    public var bytesBesideBlobs: Int64 { totalBytes - self[.blobs].bytes }

    /// What `--keep-storage` bounds together with the blobs: everything but the RUN cache
    /// mounts (bounded on their own, and never pruned by a build) and the partial files of
    /// running writers. A bound leaves the blobs itself minus this.
    public var bytesBoundWithBlobs: Int64 { bytesBesideBlobs - self[.runCacheMounts].bytes - self[.partialFiles].bytes }

    /// Walks the cache directory once (an absent one is empty).
    public static func measure(_ location: CacheLocation) -> CacheUsage {
        var areas = Dictionary(uniqueKeysWithValues: Kind.allCases.map { ($0, Area(kind: $0)) })
        let root = location.directory.path
        if let walker = FileManager.default.enumerator(atPath: root) {
            while let relative = walker.nextObject() as? String {
                var info = stat()
                guard lstat(root + "/" + relative, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR else { continue }
                let kind = Self.kind(of: relative)
                areas[kind, default: Area(kind: kind)].bytes += Int64(info.st_size)
                let name = (relative as NSString).lastPathComponent
                switch kind {
                case .blobs, .partialFiles, .other: areas[kind]?.count += 1
                case .layerKeys: if name.count == 64 { areas[kind]?.count += 1 }
                case .ecrLogins: if name.hasSuffix(".json"), !name.hasPrefix(".") { areas[kind]?.count += 1 }
                case .fileHashMemo, .tagResolutions, .runCacheMounts: break
                }
            }
        }
        areas[.fileHashMemo]?.count = LayerCacheMaintenance.usage(layersDirectory: location.layersDirectory).memoRecords
        areas[.tagResolutions]?.count = location.resolutions().count
        areas[.runCacheMounts]?.count = RunCacheStore(directory: location.runCacheDirectory.path).usage().mounts
        return CacheUsage(areas: Kind.allCases.compactMap { areas[$0] })
    }

    /// The area a file belongs to, by its path relative to the cache directory.
    static func kind(of relative: String) -> Kind {
        let parts = relative.split(separator: "/", maxSplits: 2).map(String.init)
        switch (parts.first, parts.count > 1 ? parts[1] : nil) {
        case ("store", "blobs"?) where parts.count == 3: return .blobs
        case ("store", "ingest"?) where parts.count == 3: return .partialFiles
        case ("layers", "keys"?) where parts.count == 3: return .layerKeys
        case ("layers", let name?) where parts.count == 2 && name.hasPrefix("file-hashes"): return .fileHashMemo
        case ("ecr-auth", _?) where parts.count == 2: return .ecrLogins
        case ("run-cache", _?): return .runCacheMounts
        case (let name?, nil) where name.hasPrefix("resolutions.json") || name.hasPrefix(".resolutions-"): return .tagResolutions
        default: return .other
        }
    }
}
