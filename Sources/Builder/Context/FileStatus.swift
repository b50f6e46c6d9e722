#if canImport(Glibc)
import Glibc
#endif

/// The fields of `lstat` the builder reads, taken once per path: the one record behind a build
/// context's `FileInfo` and a RUN root's `RunSnapshot` (two copies of the same fields would
/// drift apart).
struct FileStatus: Sendable, Equatable {
    /// The `S_IFMT` bits.
    var type: mode_t
    /// Permission bits including setuid/setgid/sticky.
    var mode: UInt32
    var uid: uid_t
    var gid: gid_t
    var size: Int64
    var device: UInt64
    var inode: UInt64
    var linkCount: UInt64
    /// The device number of a device node.
    var rdev: UInt64
    /// Nanoseconds since the epoch.
    var mtime: Int64
    var ctime: Int64

    init(_ st: stat) {
        type = st.st_mode & S_IFMT
        mode = UInt32(st.st_mode & 0o7777)
        uid = st.st_uid
        gid = st.st_gid
        size = Int64(st.st_size)
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        linkCount = UInt64(st.st_nlink)
        rdev = UInt64(st.st_rdev)
        mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        ctime = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
    }
}
