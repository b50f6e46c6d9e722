import Builder
import Foundation
import OCI

/// One workflow's use of the cache, from start to end. At the start it takes a lease on the
/// cache and clears debris (partial files of runs that were killed: all of them when no
/// other slipway is running, else those an hour old) and arranges for its own partial files
/// to be removed if it is interrupted; at the end it keeps the store within its size bound.
public final class CacheRun: Sendable {
    public let location: CacheLocation
    private let lease: CacheLease
    private let started: Date
    private let cleanup: UUID

    public init(_ location: CacheLocation) {
        self.location = location
        lease = CacheLease(location)
        // File times come from a coarse clock: a blob written just after this may look older.
        started = Date().addingTimeInterval(-2)
        let store = location.existingStore()
        if FileManager.default.fileExists(atPath: location.storeDirectory.path) {
            if lease.ifAlone({ store.removeAbandonedIngestFiles(noOtherWriters: true) }) == nil {
                store.removeAbandonedIngestFiles()
            }
        }
        cleanup = Interruption.register { store.removeIngestFiles() }
    }

    deinit { Interruption.unregister(cleanup) }

    /// Prunes the least recently used blobs not used during this run until the cache (the
    /// blobs and `CacheUsage.bytesBoundWithBlobs`) is within `bound` — only when no other slipway holds the cache
    /// (never a blob another build is about to read). Nil when nothing was to be done or
    /// another run holds the cache.
    public func finish(bound: CacheSizeBound) -> ContentStore.PruneResult? {
        guard let limit = bound.limit(for: location.directory),
              FileManager.default.fileExists(atPath: location.storeDirectory.path) else { return nil }
        let store = location.existingStore()
        // The bound is on the blobs and every area beside them `cache du` shows (RUN cache
        // mounts are bounded on their own by `cache prune`).
        let usage = CacheUsage.measure(location)
        guard usage[.blobs].bytes + usage.bytesBoundWithBlobs > limit else { return nil }
        return lease.ifAlone {
            let result = store.prune(keepBytes: max(0, limit - usage.bytesBoundWithBlobs), usedBefore: started, noOtherWriters: true)
            LayerCacheMaintenance.prune(layersDirectory: location.layersDirectory, store: store)
            return result
        }
    }

    /// `finish`, reported as an event when blobs were removed.
    public func finish(bound: CacheSizeBound, onEvent: PublishEventHandler) {
        guard let result = finish(bound: bound), result.removedBlobs > 0,
              let limit = bound.limit(for: location.directory) else { return }
        onEvent(.cachePruned(result, limit: limit))
    }
}
