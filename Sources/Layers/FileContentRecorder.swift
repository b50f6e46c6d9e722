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

/// Collects the SHA-256 of every host file a layer writer streams (`.path` entries), so a
/// layer cache can key the layer by its content without reading the files a second time.
public final class FileContentRecorder: @unchecked Sendable {
    public struct Record: Sendable {
        public var identity: FileIdentity
        public var digest: Digest
    }

    private let lock = NSLock()
    private var records: [String: Record] = [:]

    public init() {}

    func record(source: String, identity: FileIdentity, digest: Digest) {
        lock.lock()
        records[source] = Record(identity: identity, digest: digest)
        lock.unlock()
    }

    /// The content digest of a source path streamed into a layer, with the file's identity
    /// as it was opened.
    public func record(for source: String) -> Record? {
        lock.lock()
        defer { lock.unlock() }
        return records[source]
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
