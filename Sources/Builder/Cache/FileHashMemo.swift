import Foundation
import Layers
import OCI

/// Content digests of host files, remembered by `FileIdentity` (device, inode, size, mtime,
/// ctime — BuildKit's rule) in `CACHE/layers/file-hashes`, so a rebuild hashes only the files
/// that changed. The file is a sorted array of fixed 96-byte records, mapped and searched in
/// place (memory stays flat whatever the number of files). Safe for concurrent slipways: it is
/// only replaced whole (temporary file, rename) under an exclusive `flock` of
/// `file-hashes.lock`, merged with what another process wrote meanwhile; readers see the old
/// or the new file, never a mix. Records unused for 30 days are dropped when it is rewritten.
final class FileHashMemo: @unchecked Sendable {
    static let magic = Array("SLWFHv1\n".utf8)
    static let recordSize = 96
    static let expiryDays: Int64 = 30

    /// One record: 96 bytes in memory as on disk (no per-record heap allocation).
    struct Record {
        var identity: FileIdentity
        var day: Int64
        var digest: SIMD4<UInt64>
    }

    let path: String
    private let lock = NSLock()
    private var mapping: MappedRecords?
    /// This run's new and refreshed records, in a flat array (a 100,000-file build adds ~10 MB).
    private var added: [Record] = []
    private let today: Int64

    init(directory: URL, now: Date = Date()) {
        path = directory.appendingPathComponent("file-hashes").path
        today = Int64(now.timeIntervalSince1970 / 86_400)
        mapping = MappedRecords(path: path)
    }

    /// The SHA-256 of a regular file's content: remembered when its identity is unchanged,
    /// else read (and remembered when the file did not change while it was read).
    func digest(ofFile source: String) throws -> Digest {
        var info = stat()
        guard RawName.withCString(source, { lstat($0, &info) }) == 0 else {
            throw BuildError("cannot read \(source) for the layer cache: \(String(cString: strerror(errno)))")
        }
        let identity = FileIdentity(info)
        if let known = lookup(identity) { return known }
        let fd = RawName.withCString(source) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw BuildError("cannot open \(source) for the layer cache: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let hasher = SHA256Hasher()
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer, 1 << 20)
            if n < 0 {
                if errno == EINTR { continue }
                throw BuildError("cannot read \(source) for the layer cache: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(start: buffer, count: n))
        }
        let digest = hasher.finalize()
        var after = stat()
        if fstat(fd, &after) == 0, FileIdentity(after) == identity, hasher.byteCount == identity.size {
            remember(identity, digest)
        }
        return digest
    }

    /// Records a digest the layer writer computed while streaming the file.
    func remember(_ identity: FileIdentity, _ digest: Digest) {
        lock.lock()
        added.append(Record(identity: identity, day: today, digest: digest.words))
        lock.unlock()
    }

    private func lookup(_ identity: FileIdentity) -> Digest? {
        guard let record = mapping?.find(identity) else { return nil }
        // Refresh its age at most once a day (then the file is rewritten once that day).
        if record.day < today {
            lock.lock()
            added.append(Record(identity: identity, day: today, digest: record.digest))
            lock.unlock()
        }
        return Digest(words: record.digest)
    }

    /// Merges this run's records into the file (best effort: a cache that cannot be written
    /// only costs hashing next time).
    func save() { save(dropExpired: false) }

    /// Rewrites the file without its records unused for 30 days (`cache prune`), when it has any.
    func dropExpired() {
        let oldest = today - Self.expiryDays
        guard let current = MappedRecords(path: path), (0..<current.count).contains(where: { current.record(at: $0).day < oldest }) else { return }
        save(dropExpired: true)
    }

    /// The records the file holds (0 when it is missing or not a memo file).
    static func recordCount(path: String) -> Int { MappedRecords(path: path)?.count ?? 0 }

    private func save(dropExpired: Bool) {
        lock.lock()
        var mine = added
        added = []
        lock.unlock()
        mine.sort { MappedRecords.less($0.identity, $1.identity) }
        guard !mine.isEmpty || dropExpired else { return }
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lockFD = open(path + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else { return }
        defer { close(lockFD) }
        while flock(lockFD, LOCK_EX) != 0 && errno == EINTR {}
        let current = MappedRecords(path: path)
        let temporary = path + ".\(getpid())-\(UUID().uuidString)"
        guard let writer = RecordWriter(path: temporary) else { return }
        var index = 0
        var mineIndex = 0
        let oldest = today - Self.expiryDays
        let count = current?.count ?? 0
        while index < count || mineIndex < mine.count {
            let old = index < count ? current?.record(at: index) : nil
            if let old, mineIndex >= mine.count || MappedRecords.less(old.identity, mine[mineIndex].identity) {
                if old.day >= oldest { writer.append(old) }
                index += 1
            } else {
                if let old, old.identity == mine[mineIndex].identity { index += 1 }
                writer.append(mine[mineIndex])
                mineIndex += 1
                // The same file recorded twice this run (two layers): one record.
                while mineIndex < mine.count && mine[mineIndex].identity == mine[mineIndex - 1].identity { mineIndex += 1 }
            }
        }
        if writer.close(), rename(temporary, path) == 0 { return }
        unlink(temporary)
    }
}

/// The memo file, mapped read-only. A file that is not a whole number of records after the
/// magic is ignored (and replaced at the next save).
final class MappedRecords: @unchecked Sendable {
    let count: Int
    private let base: UnsafeRawPointer
    private let length: Int

    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        let header = FileHashMemo.magic.count
        guard fstat(fd, &info) == 0, info.st_size >= header,
              (Int(info.st_size) - header) % FileHashMemo.recordSize == 0 else { return nil }
        length = Int(info.st_size)
        count = (length - header) / FileHashMemo.recordSize
        guard let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else { return nil }
        base = UnsafeRawPointer(mapped)
        guard memcmp(base, FileHashMemo.magic, header) == 0 else {
            munmap(UnsafeMutableRawPointer(mutating: base), length)
            return nil
        }
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }

    private func word(_ record: Int, _ field: Int) -> UInt64 {
        base.loadUnaligned(fromByteOffset: FileHashMemo.magic.count + record * FileHashMemo.recordSize + field * 8, as: UInt64.self)
    }

    func identity(at index: Int) -> FileIdentity {
        FileIdentity(device: word(index, 0), inode: word(index, 1), size: Int64(bitPattern: word(index, 2)),
                     mtimeSeconds: Int64(bitPattern: word(index, 3)), mtimeNanoseconds: Int64(bitPattern: word(index, 4)),
                     ctimeSeconds: Int64(bitPattern: word(index, 5)), ctimeNanoseconds: Int64(bitPattern: word(index, 6)))
    }

    func record(at index: Int) -> FileHashMemo.Record {
        let digest = SIMD4<UInt64>(word(index, 8), word(index, 9), word(index, 10), word(index, 11))
        return FileHashMemo.Record(identity: identity(at: index), day: Int64(bitPattern: word(index, 7)), digest: digest)
    }

    func find(_ identity: FileIdentity) -> FileHashMemo.Record? {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            let candidate = self.identity(at: middle)
            if candidate == identity { return record(at: middle) }
            if Self.less(candidate, identity) { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    static func fields(_ identity: FileIdentity) -> [UInt64] {
        [identity.device, identity.inode, UInt64(bitPattern: identity.size), UInt64(bitPattern: identity.mtimeSeconds),
         UInt64(bitPattern: identity.mtimeNanoseconds), UInt64(bitPattern: identity.ctimeSeconds), UInt64(bitPattern: identity.ctimeNanoseconds)]
    }

    /// The records' order: field by field, each as an unsigned word (any fixed total order does).
    static func less(_ a: FileIdentity, _ b: FileIdentity) -> Bool {
        if a.device != b.device { return a.device < b.device }
        if a.inode != b.inode { return a.inode < b.inode }
        let pairs: [(Int64, Int64)] = [(a.size, b.size), (a.mtimeSeconds, b.mtimeSeconds), (a.mtimeNanoseconds, b.mtimeNanoseconds),
                                       (a.ctimeSeconds, b.ctimeSeconds), (a.ctimeNanoseconds, b.ctimeNanoseconds)]
        for (x, y) in pairs where x != y { return UInt64(bitPattern: x) < UInt64(bitPattern: y) }
        return false
    }
}

/// Writes the memo file's records through a 1 MiB buffer.
final class RecordWriter {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var failed = false

    init?(path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        buffer.reserveCapacity(1 << 20)
        buffer += FileHashMemo.magic
    }

    func append(_ record: FileHashMemo.Record) {
        for word in MappedRecords.fields(record.identity) + [UInt64(bitPattern: record.day)] {
            withUnsafeBytes(of: word) { buffer += $0 }
        }
        for index in 0..<4 { withUnsafeBytes(of: record.digest[index]) { buffer += $0 } }
        if buffer.count >= 1 << 20 { flush() }
    }

    private func flush() {
        var offset = 0
        while offset < buffer.count && !failed {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { failed = true } else { offset += n }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Whether every byte was written.
    func close() -> Bool {
        flush()
        return Glibc.close(fd) == 0 && !failed
    }
}

extension Digest {
    /// A sha256 digest as the four words of its 32 bytes (as they lie in memory), and back.
    var words: SIMD4<UInt64> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var high: UInt8?
        for c in hex.utf8 {
            let value = c <= 57 ? c - 48 : c - 87
            if let h = high { bytes.append(h << 4 | value); high = nil } else { high = value }
        }
        guard bytes.count == 32 else { return SIMD4<UInt64>() }
        return bytes.withUnsafeBytes { raw in
            SIMD4<UInt64>((0..<4).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) })
        }
    }

    init(words: SIMD4<UInt64>) {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for index in 0..<4 {
            withUnsafeBytes(of: words[index]) { raw in
                for byte in raw {
                    hex.append(digits[Int(byte >> 4)])
                    hex.append(digits[Int(byte & 0x0f)])
                }
            }
        }
        // 64 lowercase hex digits are always a valid sha256 digest.
        self = (try? Digest(hex: String(decoding: hex, as: UTF8.self))) ?? Digest.sha256(of: Data())
    }
}
