import CArchive
import Foundation

/// A plain, deterministic tar file of output files (OCI layout tar, docker archive), written
/// with libarchive: fixed format, mtime from the source date epoch, root owner, entries in
/// the order given. Blobs are streamed from disk, never loaded whole.
final class TarFileWriter {
    private let archive: OpaquePointer
    private let mtime: Int64
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)

    /// `path` "-" writes to standard output.
    init(path: String, mtime: Int64) throws {
        guard let archive = archive_write_new() else { throw BuildError("cannot create a tar writer") }
        self.archive = archive
        self.mtime = mtime
        archive_write_set_format_pax_restricted(archive)
        archive_write_set_bytes_in_last_block(archive, 1)
        let status = path == "-" ? archive_write_open_fd(archive, 1) : archive_write_open_filename(archive, path)
        guard status == ARCHIVE_OK else {
            let message = String(cString: archive_error_string(archive))
            archive_write_free(archive)
            throw BuildError("cannot write \(path): \(message)")
        }
    }

    deinit { archive_write_free(archive) }

    func addDirectory(_ name: String) throws {
        try header(name, type: 0o040000, mode: 0o755, size: 0)
    }

    func addBytes(_ name: String, _ bytes: [UInt8]) throws {
        try header(name, type: 0o100000, mode: 0o644, size: Int64(bytes.count))
        try bytes.withUnsafeBytes { try write($0) }
    }

    func addFile(_ name: String, from path: String) throws {
        guard let file = fopen(path, "rb") else { throw BuildError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        var st = stat()
        fstat(fileno(file), &st)
        try header(name, type: 0o100000, mode: 0o644, size: Int64(st.st_size))
        var remaining = Int64(st.st_size)
        while remaining > 0 {
            let n = fread(&buffer, 1, min(buffer.count, Int(remaining)), file)
            guard n > 0 else { throw BuildError("\(path) changed while it was being archived") }
            try buffer.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            remaining -= Int64(n)
        }
    }

    func close() throws {
        guard archive_write_close(archive) == ARCHIVE_OK else {
            throw BuildError("cannot finish tar: \(String(cString: archive_error_string(archive)))")
        }
    }

    private func header(_ name: String, type: UInt32, mode: UInt32, size: Int64) throws {
        guard let entry = archive_entry_new() else { throw BuildError("out of memory") }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname_utf8(entry, name)
        archive_entry_set_filetype(entry, type)
        archive_entry_set_perm(entry, mode_t(mode))
        archive_entry_set_size(entry, size)
        archive_entry_set_mtime(entry, time_t(mtime), 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        guard archive_write_header(archive, entry) == ARCHIVE_OK else {
            throw BuildError("cannot write tar entry \(name): \(String(cString: archive_error_string(archive)))")
        }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard archive_write_data(archive, base, bytes.count) == bytes.count else {
            throw BuildError("cannot write tar data: \(String(cString: archive_error_string(archive)))")
        }
    }
}
