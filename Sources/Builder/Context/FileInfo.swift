import Foundation
import Layers

/// What `lstat` says about one path of a build context, captured once during the walk so
/// COPY planning never touches the disk twice for the same file.
struct FileInfo: Sendable {
    enum Kind: Sendable, Equatable { case regular, directory, symlink, other(String) }

    /// Slash-separated, relative to the context root ("" for the root). Paths and link targets
    /// are RawName-decoded: names that are not UTF-8 keep their bytes.
    var relativePath: String
    var absolutePath: String
    var kind: Kind
    var status: FileStatus
    var linkTarget: String?

    var mode: UInt32 { status.mode }
    var size: Int64 { status.size }
    var device: UInt64 { status.device }
    var inode: UInt64 { status.inode }
    var linkCount: UInt64 { status.linkCount }

    static func lstat(absolutePath: String, relativePath: String) throws -> FileInfo {
        var st = stat()
        guard RawName.withCString(absolutePath, { Glibc.lstat($0, &st) }) == 0 else {
            throw BuildError("cannot read '\(relativePath.isEmpty ? "." : relativePath)' in the build context: \(String(cString: strerror(errno)))")
        }
        let type = st.st_mode & S_IFMT
        let kind: Kind
        var target: String?
        switch type {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK:
            kind = .symlink
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = RawName.withCString(absolutePath) { readlink($0, &buffer, buffer.count - 1) }
            guard n >= 0 else { throw BuildError("cannot read symlink '\(relativePath)': \(String(cString: strerror(errno)))") }
            target = RawName.decode(buffer[0..<n].map { UInt8(bitPattern: $0) })
        case S_IFSOCK: kind = .other("socket")
        case S_IFIFO: kind = .other("FIFO")
        case S_IFCHR: kind = .other("character device")
        case S_IFBLK: kind = .other("block device")
        default: kind = .other("special file")
        }
        return FileInfo(relativePath: relativePath, absolutePath: absolutePath, kind: kind, status: FileStatus(st),
                        linkTarget: target)
    }
}
