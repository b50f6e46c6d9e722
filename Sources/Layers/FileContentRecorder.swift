import Foundation
import OCI

/// Which version of a host file a content digest belongs to: what `stat` says about it. The
/// same tuple BuildKit's file hashing keys on; a write changes the ctime, so a file whose
/// tuple is unchanged has the content it had when it was hashed.
public struct FileIdentity: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: Int64
    public var ctimeSeconds: Int64
    public var ctimeNanoseconds: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, mtimeSeconds: Int64, mtimeNanoseconds: Int64,
                ctimeSeconds: Int64, ctimeNanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
        self.ctimeSeconds = ctimeSeconds
        self.ctimeNanoseconds = ctimeNanoseconds
    }

    public init(_ info: stat) {
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                  mtimeSeconds: Int64(info.st_mtim.tv_sec), mtimeNanoseconds: Int64(info.st_mtim.tv_nsec),
                  ctimeSeconds: Int64(info.st_ctim.tv_sec), ctimeNanoseconds: Int64(info.st_ctim.tv_nsec))
    }
}

/// Sees each entry as the layer writer puts it into the tar stream (canonical order, one
/// thread), with the SHA-256 of a streamed host file's content and the file's identity as it
/// was opened: what a layer cache needs to key the layer without reading the files twice, and
/// without holding anything per file.
public final class FileContentRecorder: @unchecked Sendable {
    private let onEntry: (LayerEntry, FileIdentity?, Digest?) -> Void

    public init(_ onEntry: @escaping (LayerEntry, FileIdentity?, Digest?) -> Void) {
        self.onEntry = onEntry
    }

    func written(_ entry: LayerEntry, identity: FileIdentity?, digest: Digest?) {
        onEntry(entry, identity, digest)
    }
}

extension LayerWriter {
    /// The entries as `write` puts them into the tar stream (validated, sorted, hard links
    /// rewritten to their canonical holder): what a layer cache keys on, so that every
    /// permutation of the same input has one key.
    public static func canonicalEntries(_ entries: [LayerEntry]) throws -> [LayerEntry] {
        try LayerPlan.canonicalize(entries)
    }
}
