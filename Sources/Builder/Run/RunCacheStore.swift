#if canImport(Glibc)
import Glibc
#endif
import Foundation
import OCI

/// `RUN --mount=type=cache` directories, kept across builds under the slipway cache
/// directory (`run-cache/`). Keyed as BuildKit keys them: `/` + the id (default: the target),
/// plus `:` + the base's identity when `from=` (or uid/gid/mode) give the cache a starting
/// content. A key's directory holds instances `0`, `1`, …, each with a lock file `N.lock`:
/// `shared` users hold it shared, `private` and `locked` users exclusively (flock, so it
/// works across slipway processes); `private` takes a fresh instance when all are in use,
/// `locked` waits. A lock file's mtime is the instance's last use (for `cache prune`).
public struct RunCacheStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// A cache instance in use: its directory, held until `release`.
    final class Lease: @unchecked Sendable {
        let path: String
        private var fd: Int32

        init(path: String, fd: Int32) {
            self.path = path
            self.fd = fd
        }

        func release() {
            if fd >= 0 { close(fd) }
            fd = -1
        }

        deinit { release() }
    }

    static func keyDirectoryName(_ key: String) -> String {
        String(Digest.sha256(of: Array(key.utf8)).hex.prefix(32))
    }

    /// The instance to use for `key`; a new one is made with `initialise` (given its path).
    func acquire(key: String, sharing: RunMount.Sharing, initialise: (String) throws -> Void) throws -> Lease {
        let keyDirectory = directory + "/" + RunCacheStore.keyDirectoryName(key)
        try FileManager.default.createDirectory(atPath: keyDirectory, withIntermediateDirectories: true)
        let keyFile = keyDirectory + "/key"
        if access(keyFile, F_OK) != 0 { try? Data(key.utf8).write(to: URL(fileURLWithPath: keyFile), options: .atomic) }
        let guardFD = try RunCacheStore.lockFile(keyDirectory + "/.lock", LOCK_EX)
        var guardHeld = true
        defer { if guardHeld { close(guardFD) } }
        let shared = sharing == .shared
        let instances = RunCacheStore.instances(keyDirectory)
        for n in instances {
            let lock = keyDirectory + "/\(n).lock"
            let fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { continue }
            if flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 {
                futimens(fd, nil)
                return Lease(path: keyDirectory + "/\(n)", fd: fd)
            }
            close(fd)
        }
        if sharing == .locked, let first = instances.first {
            close(guardFD)
            guardHeld = false
            let fd = try RunCacheStore.lockFile(keyDirectory + "/\(first).lock", LOCK_EX)
            futimens(fd, nil)
            return Lease(path: keyDirectory + "/\(first)", fd: fd)
        }
        let n = (instances.last ?? -1) + 1
        let path = keyDirectory + "/\(n)"
        let building = path + ".new"
        try? RunRoot.removeTree(building)
        // A new cache's root is 0755 whatever the umask, as BuildKit's empty snapshot.
        guard mkdir(building, 0o755) == 0, chmod(building, 0o755) == 0 else { throw RunRoot.failure("mkdir", building) }
        try initialise(building)
        guard rename(building, path) == 0 else { throw RunRoot.failure("rename", path) }
        let fd = try RunCacheStore.lockFile(path + ".lock", shared ? LOCK_SH : LOCK_EX)
        futimens(fd, nil)
        return Lease(path: path, fd: fd)
    }

    private static func lockFile(_ path: String, _ operation: Int32) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RunRoot.failure("open", path) }
        while flock(fd, operation) != 0 {
            guard errno == EINTR else {
                close(fd)
                throw RunRoot.failure("lock", path)
            }
        }
        return fd
    }

    static func instances(_ keyDirectory: String) -> [Int] {
        ((try? FileManager.default.contentsOfDirectory(atPath: keyDirectory)) ?? []).compactMap { Int($0) }.sorted()
    }

    // MARK: - du and prune

    /// What the store holds: cache mounts (instances) and their bytes.
    public struct Usage: Sendable, Equatable {
        public var mounts = 0
        public var bytes: Int64 = 0
    }

    public func usage() -> Usage {
        var usage = Usage()
        for keyDirectory in keyDirectories() {
            for n in RunCacheStore.instances(keyDirectory) {
                usage.mounts += 1
                usage.bytes += RunCacheStore.size(keyDirectory + "/\(n)")
            }
        }
        return usage
    }

    /// What `cache prune` removed and kept.
    public struct PruneResult: Sendable, Equatable {
        public var removed = 0
        public var freedBytes: Int64 = 0
        public var kept = 0
        public var keptBytes: Int64 = 0
    }

    /// Removes instances not in use: all of them, those last used before `usedBefore`, or the
    /// least recently used beyond `keepBytes`.
    public func prune(all: Bool = false, usedBefore: Date? = nil, keepBytes: Int64? = nil) -> PruneResult {
        struct Candidate { var keyDirectory: String; var n: Int; var used: Date; var bytes: Int64 }
        var result = PruneResult()
        var candidates: [Candidate] = []
        for keyDirectory in keyDirectories() {
            for n in RunCacheStore.instances(keyDirectory) {
                let lock = keyDirectory + "/\(n).lock"
                var info = stat()
                let used = lstat(lock, &info) == 0 ? Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec)) : .distantPast
                candidates.append(Candidate(keyDirectory: keyDirectory, n: n, used: used, bytes: RunCacheStore.size(keyDirectory + "/\(n)")))
            }
        }
        candidates.sort { $0.used > $1.used }
        var keptSoFar: Int64 = 0
        for candidate in candidates {
            var remove = all
            if let usedBefore, candidate.used < usedBefore { remove = true }
            if let keepBytes {
                if keptSoFar + candidate.bytes > keepBytes { remove = true } else if !remove { keptSoFar += candidate.bytes }
            }
            if remove, removeIfUnused(candidate.keyDirectory, candidate.n) {
                result.removed += 1
                result.freedBytes += candidate.bytes
            } else {
                result.kept += 1
                result.keptBytes += candidate.bytes
            }
        }
        for keyDirectory in keyDirectories() where RunCacheStore.instances(keyDirectory).isEmpty {
            try? RunRoot.removeTree(keyDirectory)
        }
        return result
    }

    private func removeIfUnused(_ keyDirectory: String, _ n: Int) -> Bool {
        guard let guardFD = try? RunCacheStore.lockFile(keyDirectory + "/.lock", LOCK_EX) else { return false }
        defer { close(guardFD) }
        let fd = open(keyDirectory + "/\(n).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        let path = keyDirectory + "/\(n)"
        // Renamed first, so a crash mid-removal leaves no half instance under its number.
        let doomed = path + ".removing"
        guard rename(path, doomed) == 0 else { return false }
        try? RunRoot.removeTree(doomed)
        unlink(keyDirectory + "/\(n).lock")
        return true
    }

    private func keyDirectories() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted().map { directory + "/" + $0 }
            .filter { var info = stat(); return lstat($0, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR }
    }

    /// Bytes of the regular files below a path (not following symlinks).
    static func size(_ path: String) -> Int64 {
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        guard info.st_mode & S_IFMT == S_IFDIR else { return info.st_mode & S_IFMT == S_IFREG ? Int64(info.st_blocks) * 512 : 0 }
        var total: Int64 = 4096
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            total += size(path + "/" + name)
        }
        return total
    }
}
