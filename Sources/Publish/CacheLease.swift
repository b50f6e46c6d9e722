import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A running slipway's claim on its cache: a shared `flock` on `CACHE/lock`, held from the
/// start of a workflow to its end. Whoever can turn it into an exclusive lock knows no other
/// slipway is writing to the store, so every partial file in `ingest/` is debris and blobs can
/// be pruned without pulling them from under another build.
public final class CacheLease: Sendable {
    private let fd: Int32

    /// Waits for a shared lock (an exclusive holder keeps it for a moment only). A cache that
    /// cannot hold a lock file (read-only) gives a lease that is never alone.
    public init(_ location: CacheLocation) {
        try? FileManager.default.createDirectory(at: location.directory, withIntermediateDirectories: true)
        let descriptor = open(location.directory.appendingPathComponent("lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor >= 0 {
            while flock(descriptor, LOCK_SH) != 0 && errno == EINTR {}
        }
        fd = descriptor
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Runs `body` only when no other process holds a lease (the lock is exclusive meanwhile,
    /// and shared again afterwards); nil when another process does.
    public func ifAlone<T>(_ body: () throws -> T) rethrows -> T? {
        guard fd >= 0 else { return nil }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            // A failed conversion may drop the shared lock: take it again.
            while flock(fd, LOCK_SH) != 0 && errno == EINTR {}
            return nil
        }
        defer { while flock(fd, LOCK_SH) != 0 && errno == EINTR {} }
        return try body()
    }
}
