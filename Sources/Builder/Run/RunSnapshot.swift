#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import Layers

/// What a RUN root holds, by path (keys as in `FileTree`): enough of `lstat` to tell whether
/// a RUN changed an entry. ctime moves on every write, chmod, chown and link, and a process
/// cannot set it back, so an unchanged (ino, ctime) means an unchanged file.
struct RunSnapshot {
    struct Item: Equatable {
        var status: FileStatus
        /// Directories only (0 when unknown): with the inode, a directory's identity.
        var birth: Int64 = 0

        var type: mode_t { status.type }
        var mode: UInt32 { status.mode }
        var uid: uid_t { status.uid }
        var gid: gid_t { status.gid }
        var inode: UInt64 { status.inode }
        var device: UInt64 { status.device }
        var rdev: UInt64 { status.rdev }

        var isDirectory: Bool { type == S_IFDIR }

        /// The same directory, not one made again at the same path (inode numbers are reused).
        func sameDirectory(as other: Item) -> Bool { inode == other.inode && birth == other.birth }

        /// A directory counts as changed only by its own metadata or identity: its times move
        /// whenever an entry below it changes, and those entries carry the change.
        func same(as other: Item) -> Bool {
            if isDirectory && other.isDirectory {
                return mode == other.mode && uid == other.uid && gid == other.gid && sameDirectory(as: other)
            }
            return self == other
        }
    }

    var items: [String: Item] = [:]

    /// Walks a root without following symlinks or leaving its file system.
    static func take(_ root: String) throws -> RunSnapshot {
        var snapshot = RunSnapshot()
        var info = stat()
        guard lstat(root, &info) == 0 else { throw RunRoot.failure("stat", root) }
        snapshot.items[""] = Item(info)
        try walk(root, key: "", device: info.st_dev, into: &snapshot.items)
        return snapshot
    }

    private static func walk(_ directory: String, key: String, device: dev_t, into items: inout [String: Item]) throws {
        guard let handle = opendir(directory) else { throw RunRoot.failure("opendir", directory) }
        defer { closedir(handle) }
        var subdirectories: [(String, String)] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let path = directory + "/" + name
            let child = key.isEmpty ? name : key + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { throw RunRoot.failure("stat", path) }
            var item = Item(info)
            if item.isDirectory { item.birth = slipway_birth_time(path) }
            items[child] = item
            if info.st_mode & S_IFMT == S_IFDIR && info.st_dev == device { subdirectories.append((path, child)) }
        }
        for (path, child) in subdirectories { try walk(path, key: child, device: device, into: &items) }
    }
}

extension RunSnapshot.Item {
    init(_ info: stat) { self.init(status: FileStatus(info)) }
}
