#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CSandbox
import Layers

/// A stage's file tree materialised in a scratch directory for RUN, reused by the stage's
/// later RUNs: only what changed in the tree since (a COPY in between) is written again. The
/// files come from the tree's sources (base extractions, the context, earlier RUNs'
/// snapshots), copied, never linked: a RUN must not be able to change what other stages read.
struct RunRoot: Sendable {
    /// Absolute path of the root directory.
    let directory: String
    /// The tree the directory holds now.
    var mirrored = FileTree()
    /// Whether files can be given their owners (the build runs as root).
    let chownAllowed: Bool
    /// RUN layers whose files are streamed from this directory and are not written yet.
    var unwrittenJobs: [Int] = []

    init(directory: String) {
        self.directory = directory
        chownAllowed = geteuid() == 0
    }

    /// Makes the directory hold `tree`: removes what the tree no longer has, writes what is
    /// new or changed, directories' modes last (a read-only directory still gets its files).
    mutating func sync(to tree: FileTree) throws {
        let old = mirrored.nodes
        let new = tree.nodes
        let removed = old.keys.filter { key in
            guard let now = new[key] else { return true }
            return !RunRoot.sameKind(old[key]?.kind, now.kind)
        }.sorted(by: RunDiff.pathLess)
        for key in removed.reversed() { try RunRoot.removeTree(host(key)) }
        let removedSet = Set(removed)
        let changed = new.keys.filter { old[$0] != new[$0] || removedSet.contains($0) }
            .sorted(by: RunDiff.pathLess)
        var directories: [LayerEntry] = []
        for key in changed {
            guard let entry = new[key], !key.isEmpty else { continue }
            try writeEntry(entry, existing: old[key] != nil && !removedSet.contains(key))
            if case .directory = entry.kind { directories.append(entry) }
        }
        if let root = new[""] { directories.insert(root, at: 0) }
        for entry in directories.reversed() { try setAttributes(entry, path: host(entry.path)) }
        mirrored = tree
    }

    func host(_ key: String) -> String { key.isEmpty ? directory : directory + "/" + key }

    private static func sameKind(_ a: LayerEntry.Kind?, _ b: LayerEntry.Kind) -> Bool {
        switch (a, b) {
        case (.directory?, .directory): return true
        case (.regularFile?, .regularFile): return true
        default: return false
        }
    }

    private func writeEntry(_ entry: LayerEntry, existing: Bool) throws {
        let path = host(entry.path)
        switch entry.kind {
        case .directory:
            if !existing, mkdir(path, 0o700) != 0, errno != EEXIST { throw RunRoot.failure("mkdir", path) }
        case .regularFile(let source):
            if existing { unlink(path) }
            try RunRoot.copy(source, to: path)
            try setAttributes(entry, path: path)
        case .symlink(let target):
            unlink(path)
            if symlink(target, path) != 0 { throw RunRoot.failure("symlink", path) }
            if chownAllowed { lchown(path, uid_t(entry.uid), gid_t(entry.gid)) }
        case .hardlink(let target):
            unlink(path)
            if link(host(target), path) != 0 { throw RunRoot.failure("link", path) }
        case .special(let special):
            unlink(path)
            // A device node needs root of the host; rootless, a later RUN does not see it
            // (its layer does not change because of that: the diff compares the root's walks).
            guard try RunSpecialFiles.make(special, at: path, mode: mode_t(entry.mode & 0o7777)) else { return }
            try setAttributes(entry, path: path)
        }
    }

    private func setAttributes(_ entry: LayerEntry, path: String) throws {
        if chownAllowed, lchown(path, uid_t(entry.uid), gid_t(entry.gid)) != 0 { throw RunRoot.failure("chown", path) }
        if chmod(path, mode_t(entry.mode & 0o7777)) != 0 { throw RunRoot.failure("chmod", path) }
        // Last: a chown clears security.capability.
        RunSpecialFiles.setXattrs(entry.xattrs, path: path)
    }

    static func failure(_ what: String, _ path: String) -> BuildError {
        BuildError("cannot prepare the RUN root (\(what) \(path)): \(String(cString: strerror(errno)))")
    }

    /// Copies a file's bytes (in kernel space where the file system allows it).
    static func copy(_ source: LayerEntry.FileSource, to path: String) throws {
        let out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard out >= 0 else { throw failure("create", path) }
        defer { close(out) }
        switch source {
        case .bytes(let bytes):
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { write(out, $0.baseAddress, $0.count) }
                guard n > 0 else { throw failure("write", path) }
                offset += n
            }
        case .path(let from):
            let input = open(from, O_RDONLY | O_CLOEXEC)
            guard input >= 0 else { throw failure("open", from) }
            defer { close(input) }
            while true {
                let n = slipway_copy_file_range(input, out, 1 << 30)
                if n == 0 { break }
                if n < 0 {
                    // Across file systems on older kernels: a plain read/write loop.
                    var buffer = [UInt8](repeating: 0, count: 1 << 16)
                    while true {
                        let r = read(input, &buffer, buffer.count)
                        if r == 0 { return }
                        guard r > 0, write(out, buffer, r) == r else { throw failure("copy", path) }
                    }
                }
            }
        }
    }

    /// Removes a path and everything below it.
    static func removeTree(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            chmod(path, 0o700)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
                try removeTree(path + "/" + name)
            }
            if rmdir(path) != 0 { throw failure("rmdir", path) }
        } else if unlink(path) != 0 {
            throw failure("unlink", path)
        }
    }
}
