import Foundation
import OCI

/// The local cache's map from layer key to blob: one small JSON file per key in
/// `CACHE/layers/keys/`, each written to a temporary name and renamed into place, so
/// concurrent slipways never read half an entry. The blobs themselves live in the content
/// store (`CACHE/store`) and are verified before use; an entry whose blob is gone or damaged
/// is simply a miss.
struct LocalLayerIndex: Sendable {
    let directory: URL

    init(layersDirectory: URL) {
        directory = layersDirectory.appendingPathComponent("keys")
    }

    private func url(_ key: Digest) -> URL { directory.appendingPathComponent(key.hex) }

    /// Whether any entry exists (a build with none skips hashing inputs before writing).
    var isEmpty: Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return true }
        return !names.contains { $0.count == 64 }
    }

    func entry(_ key: Digest) -> LayerCacheEntry? {
        guard let data = FileManager.default.contents(atPath: url(key).path),
              let entry = try? JSONDecoder().decode(LayerCacheEntry.self, from: data), entry.key == key else { return nil }
        return entry
    }

    func record(_ entry: LayerCacheEntry) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let temporary = directory.appendingPathComponent(".\(getpid())-\(UUID().uuidString)")
            try CanonicalJSON.encode(entry).write(to: temporary)
            if rename(temporary.path, url(entry.key).path) != 0 { unlink(temporary.path) }
        } catch {
            // Best effort: a cache that cannot be written only means a rebuild next time.
        }
    }

    func forget(_ key: Digest) { unlink(url(key).path) }
}

/// Upkeep of the local layer cache, run with `cache prune` and after the store is pruned.
public enum LayerCacheMaintenance {
    /// Drops index entries whose blob is no longer in `store` (pruned), so the index does not
    /// outgrow the store; `everything` removes the index and the memo of file digests too.
    public static func prune(layersDirectory: URL, store: ContentStore, everything: Bool = false) {
        if everything {
            try? FileManager.default.removeItem(at: layersDirectory)
            return
        }
        let index = LocalLayerIndex(layersDirectory: layersDirectory)
        // Temporary files of killed runs (`keys/.PID-UUID`, `file-hashes.PID-UUID`), once an hour old.
        let debris = [(index.directory.path, { (name: String) in name.hasPrefix(".") }),
                      (layersDirectory.path, { (name: String) in name.hasPrefix("file-hashes.") && name != "file-hashes.lock" })]
        for (directory, isTemporary) in debris {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where isTemporary(name) {
                var info = stat()
                if lstat(directory + "/" + name, &info) == 0, Date().timeIntervalSince1970 - Double(info.st_mtim.tv_sec) > 3600 {
                    unlink(directory + "/" + name)
                }
            }
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: index.directory.path)) ?? [] {
            guard let key = try? Digest(hex: name) else { continue }
            if let entry = index.entry(key), store.contains(entry.digest) { continue }
            index.forget(key)
        }
        // File digests unused for 30 days (a build drops them only when it rewrites the memo).
        FileHashMemo(directory: layersDirectory).dropExpired()
    }

    /// What the local layer cache holds, for `cache du`.
    public struct Usage: Sendable, Hashable {
        /// Entries of `keys/` and their bytes (temporary files included).
        public var keys = 0
        public var keyBytes: Int64 = 0
        /// Records of the file-hash memo and the bytes of `file-hashes*` (its lock and
        /// temporary files included).
        public var memoRecords = 0
        public var memoBytes: Int64 = 0
        public init() {}
    }

    public static func usage(layersDirectory: URL) -> Usage {
        var usage = Usage()
        let keys = LocalLayerIndex(layersDirectory: layersDirectory).directory.path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: keys)) ?? [] {
            var info = stat()
            guard lstat(keys + "/" + name, &info) == 0 else { continue }
            if name.count == 64 { usage.keys += 1 }
            usage.keyBytes += Int64(info.st_size)
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: layersDirectory.path)) ?? [] where name.hasPrefix("file-hashes") {
            var info = stat()
            guard lstat(layersDirectory.path + "/" + name, &info) == 0 else { continue }
            usage.memoBytes += Int64(info.st_size)
        }
        usage.memoRecords = FileHashMemo.recordCount(path: layersDirectory.appendingPathComponent("file-hashes").path)
        return usage
    }
}
