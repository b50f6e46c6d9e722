import CArchive
import Foundation

/// Local archives for Dockerfile `ADD`: a tar file (plain, gzip, bzip2, xz or zstd, as Docker
/// accepts) is unpacked into layer entries instead of being copied.
///
/// Safety rules, chosen so that nothing in an archive can reach outside the destination:
/// a leading "/" is stripped (as GNU tar and Docker do: absolute names land under the
/// destination), "." components and repeated slashes are dropped, and any ".." component is
/// refused outright (even one that would stay inside, like "a/../b"); hard-link targets obey the
/// same rules and must name an earlier regular file of the archive; no entry may sit below a
/// symlink or file of the archive; devices, FIFOs and sockets are refused. Symlink targets are
/// kept verbatim: they are resolved inside the container at run time, never on the host.
/// Ancestors that the archive does not list are added as 0755 root-owned directories, so the
/// result is a complete tree.
public enum ArchiveExtractor {
    /// True when libarchive reads a first tar header (through any supported compression). An
    /// empty tar counts as no archive, as in Docker, so it is copied as a file.
    public static func isArchive(_ path: String) -> Bool {
        withUTF8CType {
            guard let reader = try? openReader(path) else { return false }
            defer { archive_read_free(reader) }
            var entry: OpaquePointer?
            let rc = archive_read_next_header(reader, &entry)
            return rc == ARCHIVE_OK || rc == ARCHIVE_WARN
        }
    }

    /// Unpacks `path`: file contents go to new files directly in `scratchDir` (created if
    /// missing; never named after archive paths) and are referenced with `.path`. Fails when the
    /// content would exceed `maxBytes` in total; on failure the files it wrote are removed.
    /// Entries come back sorted byte-wise by path, with mode, uid and gid from the headers.
    ///
    /// `memoryBudget` > 0 keeps contents of up to 64 KiB in memory (`.bytes`) while their total
    /// (with a per-entry allowance for the array) stays within it: creating a scratch file per
    /// entry is what an archive of 200,000 small files spends its time on (the file system's
    /// cost per new file grows with the directory), and the budget keeps memory bounded.
    /// The layer bytes are the same either way.
    ///
    /// `impliedParents` false leaves out the directories the archive has no header for: ADD
    /// unpacks like tar, following what the image already has on the way (a symlinked
    /// `/var/run`, say) instead of replacing it with a directory.
    public static func extract(_ path: String, into scratchDir: String, maxBytes: Int64, impliedParents: Bool = true,
                               memoryBudget: Int64 = 0) throws -> [LayerEntry] {
        try withUTF8CType {
            let extraction = try Extraction(archive: path, scratchDir: scratchDir, maxBytes: maxBytes, memoryBudget: memoryBudget)
            return try extraction.run(impliedParents: impliedParents)
        }
    }

    /// Largest content `extract` keeps in memory, and what each such entry is charged beyond
    /// its bytes (the array's header and allocation).
    public static let inMemoryContentLimit: Int64 = 64 << 10
    public static let inMemoryEntryOverhead: Int64 = 64

    fileprivate static func openReader(_ path: String) throws -> OpaquePointer {
        guard let reader = archive_read_new() else { throw LayerError.io("cannot allocate a libarchive reader") }
        archive_read_support_filter_gzip(reader)
        archive_read_support_filter_bzip2(reader)
        archive_read_support_filter_xz(reader)
        archive_read_support_filter_zstd(reader)
        archive_read_support_format_tar(reader)
        if RawName.withCString(path, { archive_read_open_filename(reader, $0, stagingSize) }) != ARCHIVE_OK {
            let message = archive_error_string(reader).map { String(cString: $0) } ?? "cannot open"
            archive_read_free(reader)
            throw LayerError.archive("\(path): \(message)")
        }
        return reader
    }
}

/// One extraction's state; a class so the cleanup on failure sees every file written so far.
private final class Extraction {
    let archivePath: String
    let scratchDir: String
    let maxBytes: Int64
    let reader: OpaquePointer
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: stagingSize, alignment: 64)
    var entries: [LayerEntry] = []
    var index: [[UInt8]: Int] = [:]
    var scratchFiles: [String] = []
    var contentBytes: Int64 = 0
    /// What may still be kept in memory (see `ArchiveExtractor.extract`).
    var memoryBudget: Int64

    init(archive: String, scratchDir: String, maxBytes: Int64, memoryBudget: Int64) throws {
        archivePath = archive
        self.scratchDir = scratchDir
        self.maxBytes = maxBytes
        self.memoryBudget = memoryBudget
        do {
            try FileManager.default.createDirectory(atPath: scratchDir, withIntermediateDirectories: true)
        } catch {
            throw LayerError.io("cannot create \(scratchDir): \(error.localizedDescription)")
        }
        reader = try ArchiveExtractor.openReader(archive)
    }

    deinit {
        archive_read_free(reader)
        buffer.deallocate()
    }

    func refuse(_ entry: String, _ reason: String) -> LayerError {
        .unsafeArchiveEntry(archive: archivePath, entry: entry, reason: reason)
    }

    func run(impliedParents: Bool) throws -> [LayerEntry] {
        var succeeded = false
        defer { if !succeeded { for file in scratchFiles { unlink(file) } } }
        var header: OpaquePointer?
        while true {
            let rc = archive_read_next_header(reader, &header)
            if rc == ARCHIVE_EOF { break }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let header else {
                throw LayerError.archive("\(archivePath): \(errorString())")
            }
            try add(header)
        }
        let headers = entries.count
        try addMissingAncestors()
        if !impliedParents { entries.removeSubrange(headers...) }
        // Sorted in place by the UTF-8 bytes (byte-wise, as `bytewiseLess`), the name index
        // freed first: copies of the list (and a key array per entry) were most of the memory
        // of a large archive.
        index = [:]
        entries.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        succeeded = true
        return entries
    }

    private func errorString() -> String {
        archive_error_string(reader).map { String(cString: $0) } ?? "unreadable archive"
    }

    private func add(_ header: OpaquePointer) throws {
        let rawName = string(archive_entry_pathname_utf8(header)) ?? string(archive_entry_pathname(header)) ?? ""
        guard let path = try clean(rawName, entry: rawName) else { return }  // the root itself
        let uid = archive_entry_uid(header), gid = archive_entry_gid(header)
        guard uid >= 0, gid >= 0 else { throw refuse(rawName, "negative uid or gid") }
        let mode = UInt32(archive_entry_perm(header)) & 0o7777

        let kind: LayerEntry.Kind
        if let rawTarget = string(archive_entry_hardlink_utf8(header)) ?? string(archive_entry_hardlink(header)) {
            guard let target = try clean(rawTarget, entry: rawName), let j = index[Array(target.utf8)] else {
                throw refuse(rawName, "hard link to '\(rawTarget)', which is not an earlier entry of the archive")
            }
            switch entries[j].kind {
            case .regularFile: kind = .hardlink(target: target)
            case .hardlink(let root): kind = .hardlink(target: root)
            case .directory, .symlink, .special: throw refuse(rawName, "hard link to '\(rawTarget)', which is not a regular file")
            }
        } else {
            switch UInt32(archive_entry_filetype(header)) {
            case fileTypeRegular:
                kind = .regularFile(try content(rawName, header))
            case fileTypeDirectory:
                kind = .directory
            case fileTypeSymlink:
                guard let target = string(archive_entry_symlink_utf8(header)) ?? string(archive_entry_symlink(header)),
                      !target.isEmpty else { throw refuse(rawName, "symlink without a target") }
                kind = .symlink(target: target)
            default:
                throw refuse(rawName, "devices, FIFOs and sockets cannot be added to an image layer")
            }
        }
        let entry = LayerEntry(path: path, kind: kind, mode: mode, uid: Int(uid), gid: Int(gid))
        let key = Array(path.utf8)
        if let existing = index[key] {
            // A later entry of the same name replaces the earlier one, as when tar extracts.
            // Its content (a scratch file or bytes in memory) goes to its hard links, if any.
            if case .regularFile(let content) = entries[existing].kind, !handOver(entries[existing]),
               case .path(let old) = content { unlink(old) }
            entries[existing] = entry
        } else {
            index[key] = entries.count
            entries.append(entry)
        }
    }

    /// A regular file about to be replaced by a later entry of the same name: its hard links
    /// keep the content, as with GNU tar and Docker (the file's other names still name the old
    /// file). The first link in archive order becomes the file, the others link to it.
    /// Returns whether a link took the content over.
    private func handOver(_ file: LayerEntry) -> Bool {
        let links = entries.indices.filter { entries[$0].kind == .hardlink(target: file.path) }
        guard let first = links.first else { return false }
        entries[first].kind = file.kind
        for i in links {
            entries[i].mode = file.mode
            entries[i].uid = file.uid
            entries[i].gid = file.gid
            if i != first { entries[i].kind = .hardlink(target: entries[first].path) }
        }
        return true
    }

    /// The archive name as a layer path, or nil for the root ("/", "./").
    private func clean(_ name: String, entry: String) throws -> String? {
        var parts: [Substring] = []
        for component in name.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { throw refuse(entry, "it contains a '..' component") }
            parts.append(component)
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    /// An entry's content: in memory when small and the budget allows, else a scratch file.
    private func content(_ name: String, _ header: OpaquePointer) throws -> LayerEntry.FileSource {
        if archive_entry_size_is_set(header) != 0 && contentBytes + archive_entry_size(header) > maxBytes {
            throw LayerError.archiveTooLarge(archive: archivePath, entry: name, limit: maxBytes)
        }
        let size = archive_entry_size_is_set(header) != 0 ? archive_entry_size(header) : -1
        let charge = size + ArchiveExtractor.inMemoryEntryOverhead
        guard size >= 0, size <= ArchiveExtractor.inMemoryContentLimit, charge <= memoryBudget else {
            return .path(try writeContent(name))
        }
        memoryBudget -= charge
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(size))
        try readData(of: name) { chunk in bytes.append(contentsOf: chunk) }
        return .bytes(bytes)
    }

    /// Streams the current entry's data through `consume`, one staging buffer at a time,
    /// counting it against the archive's size limit.
    private func readData(of name: String, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            let n = archive_read_data(reader, buffer, stagingSize)
            if n == 0 { return }
            guard n > 0 else { throw LayerError.archive("\(archivePath): reading '\(name)': \(errorString())") }
            contentBytes += Int64(n)
            if contentBytes > maxBytes {
                throw LayerError.archiveTooLarge(archive: archivePath, entry: name, limit: maxBytes)
            }
            try consume(UnsafeRawBufferPointer(start: buffer, count: n))
        }
    }

    private func writeContent(_ name: String) throws -> String {
        let file = "\(scratchDir)/\(scratchFiles.count)"
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LayerError.io("cannot create \(file): \(errnoMessage())") }
        scratchFiles.append(file)
        defer { Foundation.close(fd) }
        try readData(of: name) { chunk in
            guard let base = chunk.baseAddress else { return }
            try writeAll(fd, base, count: chunk.count, path: file)
        }
        return file
    }

    /// Adds unlisted ancestors and refuses names below a non-directory, which a runtime would
    /// otherwise resolve through a symlink of the archive.
    private func addMissingAncestors() throws {
        for entry in entries {
            var key = Array(entry.path.utf8)
            while let slash = key.lastIndex(of: UInt8(ascii: "/")) {
                key.removeSubrange(slash...)
                if let j = index[key] {
                    guard entries[j].kind == .directory else {
                        throw refuse(entry.path, "it lies below '\(entries[j].path)', which is not a directory")
                    }
                } else {
                    index[key] = entries.count
                    entries.append(.directory(String(decoding: key, as: UTF8.self)))
                }
            }
        }
    }

    /// A name or link target of the archive, its bytes kept reversibly (see RawName): as
    /// UTF-8 when libarchive can give it so, else as the bytes of the header.
    private func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { RawName.decode(UnsafeRawBufferPointer(start: $0, count: strlen($0))) }
    }
}
