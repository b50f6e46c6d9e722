import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One mutex with several condition variables, so each kind of waiter (compressors, the
/// in-order writer, the producer) is woken only by the event it waits for: with a single
/// condition every block would wake every thread.
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let count: Int

    init(conditions count: Int) {
        self.count = count
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        conditions = .allocate(capacity: count)
        for i in 0..<count { pthread_cond_init(conditions + i, nil) }
    }

    deinit {
        for i in 0..<count { pthread_cond_destroy(conditions + i) }
        conditions.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    /// Must hold the lock.
    func wait(_ condition: Int) { pthread_cond_wait(conditions + condition, mutex) }
    func signal(_ condition: Int) { pthread_cond_signal(conditions + condition) }
    func broadcast(_ condition: Int) { pthread_cond_broadcast(conditions + condition) }
    func broadcastAll() { for i in 0..<count { pthread_cond_broadcast(conditions + i) } }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// The temporary file a blob is written to before its digest is known. It is removed on every
/// path except a successful commit, so a failed or interrupted write leaves nothing in
/// `ingest/`. Used by one thread at a time (handed over under a lock).
final class IngestFile: @unchecked Sendable {
    let url: URL
    private var fd: Int32
    private var finished = false

    init(store: ContentStore) throws {
        url = store.makeIngestURL()
        fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw LayerError.io("cannot create \(url.path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { discard() }

    func write(_ base: UnsafeRawPointer, count: Int) throws {
        try writeAll(fd, base, count: count, path: url.path)
    }

    func commit(into store: ContentStore, as digest: Digest) throws {
        let rc = close(fd)
        fd = -1
        if rc != 0 {
            let message = String(cString: strerror(errno))
            discard()
            throw LayerError.io("cannot write \(url.path): \(message)")
        }
        finished = true
        // ContentStore.commit removes the ingest file itself when the rename fails.
        try store.commit(ingest: url, as: digest)
    }

    func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        if !finished {
            finished = true
            unlink(url.path)
        }
    }
}

/// libarchive converts header strings through the C library's multibyte functions, so with
/// the process's default "C" locale a non-ASCII name would be written differently (as
/// `hdrcharset=BINARY`) than under a UTF-8 locale. Pinning this thread to a UTF-8 LC_CTYPE
/// for the archive's lifetime makes the bytes independent of the environment, without
/// touching the process-wide locale other threads rely on.
func withUTF8CType<T>(_ body: () throws -> T) rethrows -> T {
    #if canImport(Glibc)
    let names = ["C.UTF-8", "C.utf8", "en_US.UTF-8"]
    #else
    let names = ["UTF-8", "en_US.UTF-8", "C.UTF-8"]
    #endif
    for name in names {
        if let locale = newlocale(LC_CTYPE_MASK, name, nil) {
            let previous = uselocale(locale)
            defer {
                uselocale(previous)
                freelocale(locale)
            }
            return try body()
        }
    }
    return try body()
}

/// Byte-wise order: file names are bytes, and String's `<` and `==` compare by Unicode
/// canonical equivalence, which would make "é" (NFC) and "é" (NFD) one name.
@inline(__always)
func bytewiseLess(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.lexicographicallyPrecedes(b)
}

func errnoMessage(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

/// Writes all `count` bytes to `fd`, resuming after short writes and EINTR.
func writeAll(_ fd: Int32, _ base: UnsafeRawPointer, count: Int, path: String) throws {
    var offset = 0
    while offset < count {
        let n = Foundation.write(fd, base + offset, count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            throw LayerError.io("cannot write \(path): \(errnoMessage())")
        }
        offset += n
    }
}
