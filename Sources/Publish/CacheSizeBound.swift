import Foundation
import OCI

/// How large the cache may grow. Without a bound every build added a full copy of its layers
/// for good; like BuildKit's default garbage collection, slipway keeps the store under a bound
/// after each run that adds blobs, dropping the least recently used blobs first.
public enum CacheSizeBound: Sendable, Hashable {
    /// 10% of the cache's file system, at most 20 GiB.
    case automatic
    case bytes(Int64)
    case unbounded

    public static let variable = "SLIPWAY_CACHE_KEEP_STORAGE"
    public static let automaticCap: Int64 = 20 << 30

    /// `--keep-storage` if given, else `SLIPWAY_CACHE_KEEP_STORAGE`, else automatic; a size
    /// as `cache prune` takes it, `0` for no bound.
    public static func resolve(_ option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CacheSizeBound {
        let text = option ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
        guard let text else { return .automatic }
        let what = option != nil ? "--keep-storage" : variable
        let bytes: Int64
        do { bytes = try CacheLocation.parseSize(text) } catch PublishError.invalidArgument(let message) {
            throw PublishError.invalidArgument("\(what): \(message)")
        }
        return bytes == 0 ? .unbounded : .bytes(bytes)
    }

    /// The bound in bytes for a cache in `directory` (nil: none).
    public func limit(for directory: URL) -> Int64? {
        switch self {
        case .unbounded: return nil
        case .bytes(let bytes): return bytes
        case .automatic:
            var info = statvfs()
            var probe = directory
            while statvfs(probe.path, &info) != 0 {
                guard probe.path != "/" else { return Self.automaticCap }
                probe = probe.deletingLastPathComponent()
            }
            let size = Int64(info.f_blocks) * Int64(info.f_frsize)
            return min(max(size / 10, 1 << 30), Self.automaticCap)
        }
    }
}
