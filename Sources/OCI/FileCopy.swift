import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Copies file contents into a new inode, never a second name for the same one: the content
/// store and a user's files must not share an inode, or rewriting one in place changes the
/// other (issue 10). A reflink (`FICLONE`) is tried first, sharing extents copy-on-write where
/// the file system can (btrfs, XFS): as cheap as a hard link, yet a separate file. Anything
/// else gets a streamed copy in bounded memory.
public enum FileCopy {
    /// Copies everything `source` holds from its start into `destination` (open for writing,
    /// empty).
    public static func contents(from source: Int32, to destination: Int32, what: String) throws {
        #if os(Linux)
        // FICLONE is _IOW(0x94, 9, int); the macro does not reach Swift.
        if ioctl(destination, 0x4004_9409, source) == 0 { return }
        #endif
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        var offset: off_t = 0
        while true {
            let n = pread(source, buffer, size, offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw OCIError.io("cannot read \(what): \(String(cString: strerror(errno)))")
            }
            if n == 0 { return }
            var written = 0
            while written < n {
                let w = write(destination, buffer + written, n - written)
                if w < 0 {
                    if errno == EINTR { continue }
                    throw OCIError.io("cannot write a copy of \(what): \(String(cString: strerror(errno)))")
                }
                written += w
            }
            offset += off_t(n)
        }
    }

    /// Copies a regular file to a path that must not exist yet (it is never followed if it is
    /// a symlink); nothing is left at `destination` if this throws.
    public static func copy(_ source: String, toNewFile destination: String, mode: mode_t = 0o644) throws {
        // O_NONBLOCK: a FIFO planted where a blob should be must not hang the open (it is then
        // refused below); for a regular file the flag changes nothing.
        let input = open(source, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard input >= 0 else { throw OCIError.io("cannot read \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        var info = stat()
        guard fstat(input, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw OCIError.io("cannot copy \(source): not a regular file")
        }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard output >= 0 else { throw OCIError.io("cannot create \(destination): \(String(cString: strerror(errno)))") }
        do {
            try contents(from: input, to: output, what: source)
            guard close(output) == 0 else {
                throw OCIError.io("cannot write \(destination): \(String(cString: strerror(errno)))")
            }
        } catch {
            close(output)
            unlink(destination)
            throw error
        }
    }
}
