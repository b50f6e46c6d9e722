import Foundation

/// Cache upkeep for a store used as slipway's local cache: recency marks and LRU pruning.
/// Only finished blobs (`blobs/`) are ever pruned by recency; files in `ingest/` belong to
/// writers that may still be running and are removed only once they are clearly abandoned.
extension ContentStore {
    /// Marks a blob as just used (its mtime), so pruning by recency keeps it. Best effort.
    public func markUsed(_ digest: Digest) {
        _ = utimes(blobURL(digest).path, nil)
    }

    /// One finished blob as pruning sees it.
    public struct StoredBlob: Sendable, Hashable {
        public var digest: Digest
        public var size: Int64
        /// The later of access and modification time: when the blob was last written or used.
        public var lastUsed: Date
    }

    /// Every finished blob, least recently used first.
    public func storedBlobs() -> [StoredBlob] {
        var result: [StoredBlob] = []
        for algorithm in [Digest.Algorithm.sha256, .sha512] {
            let directory = root.appendingPathComponent("blobs/\(algorithm.rawValue)").path
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            for name in names {
                guard let digest = try? Digest(algorithm: algorithm, hex: name) else { continue }
                var info = stat()
                guard lstat(directory + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                let used = max(Double(info.st_atim.tv_sec) + Double(info.st_atim.tv_nsec) / 1e9,
                               Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
                result.append(StoredBlob(digest: digest, size: Int64(info.st_size), lastUsed: Date(timeIntervalSince1970: used)))
            }
        }
        return result.sorted { ($0.lastUsed, $0.digest) < ($1.lastUsed, $1.digest) }
    }

    /// What a prune removed.
    public struct PruneResult: Sendable, Hashable {
        public var removedBlobs = 0
        public var freedBytes: Int64 = 0
        public var keptBlobs = 0
        public var keptBytes: Int64 = 0
        public var removedIngestFiles = 0
        public var freedIngestBytes: Int64 = 0
        public init() {}
    }

    /// Removes least recently used blobs until at most `keepBytes` remain (0: remove all) —
    /// or, with `usedBefore`, only blobs last used before that date (the rest are kept even
    /// above the bound: a build's own blobs, for instance) — then abandoned ingest files (see
    /// `removeAbandonedIngestFiles`).
    public func prune(keepBytes: Int64, usedBefore: Date? = nil, abandonedAfter: TimeInterval = 3600,
                      noOtherWriters: Bool = false, now: Date = Date()) -> PruneResult {
        var result = PruneResult()
        let blobs = storedBlobs()
        var total = blobs.reduce(Int64(0)) { $0 + $1.size }
        for blob in blobs {
            if total <= keepBytes || usedBefore.map({ blob.lastUsed >= $0 }) == true {
                result.keptBlobs += 1
                result.keptBytes += blob.size
                continue
            }
            if unlink(blobURL(blob.digest).path) == 0 || errno == ENOENT {
                result.removedBlobs += 1
                result.freedBytes += blob.size
                total -= blob.size
            } else {
                result.keptBlobs += 1
                result.keptBytes += blob.size
            }
        }
        let ingest = removeAbandonedIngestFiles(olderThan: abandonedAfter, noOtherWriters: noOtherWriters, now: now)
        result.removedIngestFiles = ingest.files
        result.freedIngestBytes = ingest.bytes
        return result
    }

    /// Removes partial files of writers that are gone: every ingest file when the caller knows
    /// no other process writes to the store (`noOtherWriters`, from the cache's lock), else
    /// those untouched for `olderThan` seconds (a running writer's file keeps changing).
    @discardableResult
    public func removeAbandonedIngestFiles(olderThan: TimeInterval = 3600, noOtherWriters: Bool = false,
                                           now: Date = Date()) -> (files: Int, bytes: Int64) {
        removeIngestFiles { _, modified in noOtherWriters || now.timeIntervalSince(modified) >= olderThan }
    }

    /// Removes the partial files this process (`pid`) is writing: what an interrupted run
    /// cleans up on its way out. Safe from a signal-handling thread: no locks, only readdir
    /// and unlink.
    @discardableResult
    public func removeIngestFiles(ofProcess pid: Int32 = getpid()) -> (files: Int, bytes: Int64) {
        let prefix = "\(pid)-"
        return removeIngestFiles { name, _ in name.hasPrefix(prefix) }
    }

    private func removeIngestFiles(where shouldRemove: (String, Date) -> Bool) -> (files: Int, bytes: Int64) {
        let ingest = root.appendingPathComponent("ingest").path
        var files = 0
        var bytes: Int64 = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: ingest)) ?? [] {
            var info = stat()
            let path = ingest + "/" + name
            guard lstat(path, &info) == 0 else { continue }
            let modified = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec))
            if shouldRemove(name, modified), unlink(path) == 0 {
                files += 1
                bytes += Int64(info.st_size)
            }
        }
        return (files, bytes)
    }
}
