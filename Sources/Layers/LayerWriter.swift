import CArchive
import CZstd
import Foundation
import OCI

/// Writes layers: entries in, one content-addressed blob out.
public enum LayerWriter {
    /// Produces the layer in a single streaming pass (tar → diffID hash → compressor → digest
    /// hash → ingest file) and commits it to `store` under its digest. Entries are validated
    /// and put in canonical order first, so any permutation of the same entries gives the same
    /// blob; nothing is left in the store's `ingest/` if this throws. With `recorder`, every
    /// entry is reported in tar order, a streamed host file with its SHA-256 (for the layer
    /// cache's key).
    public static func write(_ entries: [LayerEntry], options: LayerOptions, into store: ContentStore,
                             recorder: FileContentRecorder? = nil) throws -> LayerBlob {
        let planned = try LayerPlan.canonicalize(entries)
        let jobs = max(1, options.jobs)
        try validate(options.compression)

        let file = try IngestFile(store: store)
        var committed = false
        defer { if !committed { file.discard() } }

        let sink: TarSink
        switch options.compression {
        case .gzip(let level): sink = ParallelGzipSink(level: level, jobs: jobs, file: file)
        case .zstd(let level): sink = try ZstdSink(level: level, workers: jobs, file: file)
        case .uncompressed: sink = PlainSink(file: file)
        }
        defer { if !committed { sink.abort() } }

        try withUTF8CType {
            let tar = try TarStreamWriter(sink: sink, mtime: options.mtime)
            tar.recorder = recorder
            for entry in planned { try tar.add(entry) }
            try tar.finish()
        }
        let result = try sink.finish()
        try file.commit(into: store, as: result.digest)
        committed = true
        return LayerBlob(diffID: result.diffID, digest: result.digest, size: result.size,
                         uncompressedSize: result.uncompressedSize, mediaType: options.compression.mediaType)
    }

    static func validate(_ compression: LayerCompression) throws {
        switch compression {
        case .gzip(let level):
            guard (0...9).contains(level) else {
                throw LayerError.invalidOptions("gzip level \(level) is outside 0...9")
            }
        case .zstd(let level):
            guard (Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel())).contains(level) else {
                throw LayerError.invalidOptions("zstd level \(level) is outside \(ZSTD_minCLevel())...\(ZSTD_maxCLevel())")
            }
        case .uncompressed:
            break
        }
    }
}

/// Validation and canonical form of a layer's entries.
enum LayerPlan {
    /// Checks every path and link, sorts byte-wise, and rewrites hard-link groups so the
    /// byte-wise smallest name carries the content and every other name links straight to it:
    /// a tar reader can only link to a name it has already seen, and which name of an inode
    /// the caller happened to list as the file must not change the layer.
    static func canonicalize(_ input: [LayerEntry]) throws -> [LayerEntry] {
        var keyed: [(key: [UInt8], entry: LayerEntry)] = []
        keyed.reserveCapacity(input.count)
        for var entry in input {
            let key = try validatePath(entry.path)
            entry.mode &= 0o7777
            guard entry.uid >= 0, entry.gid >= 0 else {
                throw LayerError.invalidEntry(entry.path, reason: "uid and gid must not be negative (got \(entry.uid):\(entry.gid))")
            }
            switch entry.kind {
            case .directory, .regularFile(.bytes), .special:
                break
            case .regularFile(.path(let source)):
                guard source.hasPrefix("/") else {
                    throw LayerError.invalidEntry(entry.path, reason: "source '\(source)' is not an absolute path")
                }
            case .symlink(let target):
                guard !target.isEmpty, !target.utf8.contains(0) else {
                    throw LayerError.invalidEntry(entry.path, reason: "symlink target is empty or contains a NUL byte")
                }
            case .hardlink(let target):
                do { _ = try validatePath(target) } catch let LayerError.invalidPath(_, reason) {
                    throw LayerError.invalidEntry(entry.path, reason: "hard link target '\(target)' is invalid: \(reason)")
                }
            }
            keyed.append((key, entry))
        }
        keyed.sort { bytewiseLess($0.key, $1.key) }

        var index: [[UInt8]: Int] = [:]
        index.reserveCapacity(keyed.count)
        for (i, item) in keyed.enumerated() {
            if i > 0 && keyed[i - 1].key == item.key { throw LayerError.duplicatePath(item.entry.path) }
            index[item.key] = i
        }

        // A name below a non-directory cannot be extracted (and below a symlink would be
        // written through it).
        for item in keyed {
            guard let slash = item.key.lastIndex(of: UInt8(ascii: "/")) else { continue }
            if let parent = index[Array(item.key[..<slash])], keyed[parent].entry.kind != .directory {
                throw LayerError.invalidEntry(item.entry.path, reason: "its parent '\(keyed[parent].entry.path)' is not a directory in this layer")
            }
        }

        var entries = keyed.map(\.entry)
        try canonicalizeHardlinks(&entries, keys: keyed.map(\.key), index: index)
        return entries
    }

    private static func canonicalizeHardlinks(_ entries: inout [LayerEntry], keys: [[UInt8]], index: [[UInt8]: Int]) throws {
        var groups: [Int: [Int]] = [:]  // index of the regular file -> indices of its links
        for i in entries.indices {
            guard case .hardlink(var target) = entries[i].kind else { continue }
            var seen: Set<Int> = [i]
            while let j = index[RawName.bytes(target)] {
                switch entries[j].kind {
                case .hardlink(let next):
                    guard seen.insert(j).inserted else {
                        throw LayerError.invalidEntry(entries[i].path, reason: "hard links form a cycle")
                    }
                    target = next
                    continue
                case .regularFile:
                    groups[j, default: []].append(i)
                case .directory, .symlink, .special:
                    throw LayerError.invalidEntry(entries[i].path, reason: "hard link target '\(entries[j].path)' is not a regular file")
                }
                break
            }
            // A target outside this layer names a file of a lower layer: kept as given (flattened).
            if index[RawName.bytes(target)] == nil { entries[i].kind = .hardlink(target: target) }
        }
        for (file, links) in groups {
            let original = entries[file]
            let holder = ([file] + links).min { bytewiseLess(keys[$0], keys[$1]) }!
            for member in [file] + links {
                entries[member].mode = original.mode
                entries[member].uid = original.uid
                entries[member].gid = original.gid
                entries[member].kind = member == holder ? original.kind : .hardlink(target: entries[holder].path)
            }
        }
    }

    /// A layer path must be a clean relative path: these are the names a runtime creates under
    /// the root, and an unclean one ("a/../b", "a//b") could alias or escape another.
    @discardableResult
    static func validatePath(_ path: String) throws -> [UInt8] {
        let bytes = RawName.bytes(path)
        func fail(_ reason: String) -> LayerError { .invalidPath(path, reason: reason) }
        guard !bytes.isEmpty else { throw fail("it is empty") }
        guard bytes.first != UInt8(ascii: "/") else { throw fail("it must be relative to the image root (no leading '/')") }
        guard bytes.last != UInt8(ascii: "/") else { throw fail("it must not end with '/'") }
        guard !bytes.contains(0) else { throw fail("it contains a NUL byte") }
        for component in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if component.isEmpty { throw fail("it has an empty component ('//')") }
            if component.elementsEqual([UInt8(ascii: ".")]) { throw fail("it has a '.' component") }
            if component.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) { throw fail("it has a '..' component") }
        }
        return bytes
    }
}

// File type bits as tar and libarchive use them (AE_IF* are casts, which Swift does not import).
let fileTypeRegular: UInt32 = 0o100000
let fileTypeDirectory: UInt32 = 0o040000
let fileTypeSymlink: UInt32 = 0o120000
let fileTypeFIFO: UInt32 = 0o010000
let fileTypeCharacterDevice: UInt32 = 0o020000
let fileTypeBlockDevice: UInt32 = 0o060000
let fileTypeMask: UInt32 = 0o170000

/// libarchive in restricted-pax mode: plain ustar headers, plus a pax extended header only
/// where ustar cannot hold a value (long or non-ASCII names and link targets, big sizes or
/// ids, xattrs), as Go's archive/tar (and so BuildKit) does. Unblocked output (no padding to
/// 10 KiB records), no uname/gname, atime, ctime or pid; xattrs only as the entry lists them,
/// as `SCHILY.xattr.NAME` records alone (Go's spelling): every header byte comes from the
/// entry. All bytes go through the write callback to the sink, on this thread.
final class TarStreamWriter {
    private let archive: OpaquePointer
    private let entry: OpaquePointer
    private let sink: TarSink
    private let mtime: Int64
    /// Receives each streamed host file's content digest, when set.
    var recorder: FileContentRecorder?
    private var callbackError: Error?
    private var closed = false
    private let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: stagingSize, alignment: 64)

    init(sink: TarSink, mtime: Int64) throws {
        guard let archive = archive_write_new() else { throw LayerError.io("cannot allocate a libarchive writer") }
        guard let entry = archive_entry_new() else {
            archive_write_free(archive)
            throw LayerError.io("cannot allocate a libarchive entry")
        }
        self.archive = archive
        self.entry = entry
        self.sink = sink
        self.mtime = mtime
        try check(archive_write_set_format_pax_restricted(archive), "selecting the pax format")
        try check(archive_write_set_bytes_per_block(archive, 0), "disabling blocking")
        try check(archive_write_set_bytes_in_last_block(archive, 1), "disabling padding")
        // Not also libarchive's own LIBARCHIVE.xattr records (its default is both).
        try check(archive_write_set_format_option(archive, "pax", "xattrheader", "SCHILY"), "selecting SCHILY xattr records")
        let rc = archive_write_open(archive, Unmanaged.passUnretained(self).toOpaque(), nil, { _, context, buffer, length in
            let writer = Unmanaged<TarStreamWriter>.fromOpaque(context!).takeUnretainedValue()
            do {
                try writer.sink.write(UnsafeRawBufferPointer(start: buffer, count: length))
                return length
            } catch {
                writer.callbackError = error
                return -1
            }
        }, nil)
        try check(rc, "opening the stream")
    }

    deinit {
        if !closed { archive_write_fail(archive) }  // so that freeing writes no end-of-archive
        archive_write_free(archive)
        archive_entry_free(entry)
        readBuffer.deallocate()
    }

    private func check(_ rc: Int32, _ what: String, entry path: String? = nil) throws {
        if rc == ARCHIVE_OK || rc == ARCHIVE_WARN { return }
        if let callbackError { throw callbackError }
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "error \(rc)"
        if let path { throw LayerError.archive("\(what) of '\(path)': \(message)") }
        throw LayerError.archive("\(what): \(message)")
    }

    func add(_ layerEntry: LayerEntry) throws {
        archive_entry_clear(entry)
        // Names and link targets as bytes (see RawName): one that is not UTF-8 stays byte-exact.
        RawName.withCString(layerEntry.path) { archive_entry_copy_pathname(entry, $0) }
        archive_entry_set_uid(entry, la_int64_t(layerEntry.uid))
        archive_entry_set_gid(entry, la_int64_t(layerEntry.gid))
        archive_entry_set_mtime(entry, time_t(mtime), 0)
        for name in layerEntry.xattrs.keys.sorted(by: { bytewiseLess(Array($0.utf8), Array($1.utf8)) }) {
            let value = layerEntry.xattrs[name] ?? []
            value.withUnsafeBytes { archive_entry_xattr_add_entry(entry, name, $0.baseAddress, $0.count) }
        }
        switch layerEntry.kind {
        case .directory:
            archive_entry_set_mode(entry, mode_t(fileTypeDirectory | layerEntry.mode))
            try writeHeader(layerEntry)
        case .symlink(let target):
            archive_entry_set_mode(entry, mode_t(fileTypeSymlink | layerEntry.mode))
            RawName.withCString(target) { archive_entry_copy_symlink(entry, $0) }
            try writeHeader(layerEntry)
        case .hardlink(let target):
            archive_entry_set_mode(entry, mode_t(fileTypeRegular | layerEntry.mode))
            RawName.withCString(target) { archive_entry_copy_hardlink(entry, $0) }
            archive_entry_set_size(entry, 0)
            try writeHeader(layerEntry)
        case .regularFile(.bytes(let bytes)):
            archive_entry_set_mode(entry, mode_t(fileTypeRegular | layerEntry.mode))
            archive_entry_set_size(entry, la_int64_t(bytes.count))
            try writeHeader(layerEntry)
            try bytes.withUnsafeBytes { try writeData($0, layerEntry) }
        case .regularFile(.path(let source)):
            try addFile(layerEntry, source: source)
        case .special(let special):
            switch special {
            case .fifo:
                archive_entry_set_mode(entry, mode_t(fileTypeFIFO | layerEntry.mode))
            case .characterDevice(let major, let minor):
                archive_entry_set_mode(entry, mode_t(fileTypeCharacterDevice | layerEntry.mode))
                archive_entry_set_rdevmajor(entry, dev_t(major))
                archive_entry_set_rdevminor(entry, dev_t(minor))
            case .blockDevice(let major, let minor):
                archive_entry_set_mode(entry, mode_t(fileTypeBlockDevice | layerEntry.mode))
                archive_entry_set_rdevmajor(entry, dev_t(major))
                archive_entry_set_rdevminor(entry, dev_t(minor))
            }
            try writeHeader(layerEntry)
        }
        try check(archive_write_finish_entry(archive), "finishing", entry: layerEntry.path)
        if case .regularFile(.path) = layerEntry.kind {} else { recorder?.written(layerEntry, identity: nil, digest: nil) }
    }

    private func writeHeader(_ layerEntry: LayerEntry) throws {
        try check(archive_write_header(archive, entry), "writing the header", entry: layerEntry.path)
    }

    private func writeData(_ bytes: UnsafeRawBufferPointer, _ layerEntry: LayerEntry) throws {
        guard bytes.count > 0 else { return }
        let written = archive_write_data(archive, bytes.baseAddress, bytes.count)
        if written != bytes.count {
            try check(ARCHIVE_FATAL, "writing the content", entry: layerEntry.path)
        }
    }

    /// Streams a host file. The header needs the size before the content, so the size is taken
    /// from the open descriptor, and the content must match it exactly: a file that grows or
    /// shrinks meanwhile is an error rather than a silently truncated or zero-padded entry.
    private func addFile(_ layerEntry: LayerEntry, source: String) throws {
        let fd = RawName.withCString(source) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else {
            throw LayerError.io("cannot open \(source) for layer entry '\(layerEntry.path)': \(errnoMessage())")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw LayerError.io("cannot stat \(source) for layer entry '\(layerEntry.path)': \(errnoMessage())")
        }
        guard UInt32(info.st_mode) & fileTypeMask == fileTypeRegular else {
            throw LayerError.invalidEntry(layerEntry.path, reason: "source \(source) is not a regular file")
        }
        let size = Int64(info.st_size)
        archive_entry_set_mode(entry, mode_t(fileTypeRegular | layerEntry.mode))
        archive_entry_set_size(entry, la_int64_t(size))
        try writeHeader(layerEntry)

        let contentHasher = recorder.map { _ in SHA256Hasher() }
        var total: Int64 = 0
        while true {
            // Ask for one byte more than expected, so growth shows up without an extra read.
            let want = Int(min(Int64(stagingSize), size - total + 1))
            let n = read(fd, readBuffer, want)
            if n < 0 {
                if errno == EINTR { continue }
                throw LayerError.io("cannot read \(source) for layer entry '\(layerEntry.path)': \(errnoMessage())")
            }
            if n == 0 { break }
            if total + Int64(n) > size {
                throw LayerError.fileChanged(entry: layerEntry.path, source: source, expected: size, actual: total + Int64(n))
            }
            let chunk = UnsafeRawBufferPointer(start: readBuffer, count: n)
            contentHasher?.update(chunk)
            try writeData(chunk, layerEntry)
            total += Int64(n)
            // A short read of a regular file means end of file.
            if n < want && total == size { break }
        }
        if total != size {
            throw LayerError.fileChanged(entry: layerEntry.path, source: source, expected: size, actual: total)
        }
        if let recorder, let contentHasher {
            recorder.written(layerEntry, identity: FileIdentity(info), digest: contentHasher.finalize())
        }
    }

    /// Writes the end-of-archive marker (two zero blocks).
    func finish() throws {
        let rc = archive_write_close(archive)
        closed = true
        try check(rc, "closing the archive")
    }
}
