import CArchive
import Foundation

/// Reads a layer blob (tar, plain or gzip/zstd-compressed) entry by entry without writing
/// anything to disk: what the SBOM scanner needs from base layers. Names come back cleaned
/// (no leading `./` or `/`, no trailing `/`), byte-exact as `RawName` keeps them; whiteouts
/// (`.wh.*`) are ordinary entries here, for the caller to interpret.
public enum LayerTarReader {
    public struct Entry: Sendable {
        public enum Kind: Sendable, Equatable {
            case regularFile
            case directory
            case symlink(target: String)
            case hardlink(target: String)
            /// Devices, FIFOs, sockets.
            case other
        }

        public var path: String
        public var kind: Kind
        public var mode: UInt32
        public var size: Int64
    }

    /// Calls `body` for each entry with a function that streams the entry's content (call it
    /// at most once; not calling it skips the content).
    public static func forEachEntry(in path: String,
                                    _ body: (Entry, _ read: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Void) throws {
        try withUTF8CType {
            guard let reader = archive_read_new() else { throw LayerError.io("cannot allocate a libarchive reader") }
            defer { archive_read_free(reader) }
            archive_read_support_filter_gzip(reader)
            archive_read_support_filter_zstd(reader)
            archive_read_support_filter_xz(reader)
            archive_read_support_filter_bzip2(reader)
            archive_read_support_format_tar(reader)
            if RawName.withCString(path, { archive_read_open_filename(reader, $0, stagingSize) }) != ARCHIVE_OK {
                throw LayerError.archive("\(path): \(archive_error_string(reader).map { String(cString: $0) } ?? "cannot open")")
            }
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: stagingSize, alignment: 64)
            defer { buffer.deallocate() }
            var header: OpaquePointer?
            while true {
                let rc = archive_read_next_header(reader, &header)
                if rc == ARCHIVE_EOF { return }
                guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let header else {
                    throw LayerError.archive("\(path): \(archive_error_string(reader).map { String(cString: $0) } ?? "unreadable archive")")
                }
                guard let name = string(archive_entry_pathname_utf8(header)) ?? string(archive_entry_pathname(header)) else { continue }
                let cleaned = name.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/")
                if cleaned.isEmpty { continue }
                let type = UInt32(archive_entry_filetype(header))
                let kind: Entry.Kind
                if let target = string(archive_entry_hardlink_utf8(header)) ?? string(archive_entry_hardlink(header)) {
                    kind = .hardlink(target: target.split(separator: "/").filter { $0 != "." && !$0.isEmpty }.joined(separator: "/"))
                } else if type == fileTypeRegular {
                    kind = .regularFile
                } else if type == fileTypeDirectory {
                    kind = .directory
                } else if type == fileTypeSymlink {
                    kind = .symlink(target: string(archive_entry_symlink_utf8(header)) ?? string(archive_entry_symlink(header)) ?? "")
                } else {
                    kind = .other
                }
                let entry = Entry(path: cleaned, kind: kind, mode: UInt32(archive_entry_perm(header)),
                                  size: archive_entry_size_is_set(header) != 0 ? archive_entry_size(header) : 0)
                var consumed = false
                try body(entry) { consume in
                    guard !consumed else { return }
                    consumed = true
                    while true {
                        let n = archive_read_data(reader, buffer, stagingSize)
                        if n == 0 { return }
                        guard n > 0 else {
                            throw LayerError.archive("\(path): reading '\(cleaned)': \(archive_error_string(reader).map { String(cString: $0) } ?? "read error")")
                        }
                        try consume(UnsafeRawBufferPointer(start: buffer, count: n))
                    }
                }
            }
        }
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { RawName.decode(UnsafeRawBufferPointer(start: $0, count: strlen($0))) }
    }
}
