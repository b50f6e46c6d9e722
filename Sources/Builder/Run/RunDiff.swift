#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Layers

/// The change set of one RUN as a layer: new and changed entries (their parent directories
/// with them, as BuildKit's differ emits them), deletions as OCI whiteouts `.wh.NAME`, and a
/// directory that was replaced (removed and made again) as the new directory with an opaque
/// marker `.wh..wh..opq` and all its contents. Sorted bytewise; times are the layer writer's.
struct RunDiff {
    /// The layer's entries, whiteouts included.
    var entries: [LayerEntry] = []

    static let opaqueMarker = ".wh..wh..opq"

    static func isWhiteout(_ entry: LayerEntry) -> Bool { ContextPath.basename(entry.path).hasPrefix(".wh.") }

    /// Compares two walks of `root`. Files are named by their path in the root, streamed when
    /// the layer is written (which happens before anything changes the root again).
    /// `owner` maps a host owner to the one seen inside the sandbox.
    static func compute(before: RunSnapshot, after: RunSnapshot, root: String,
                        owner: (uid_t, gid_t) -> (Int, Int)) throws -> RunDiff {
        let sortedAfter = after.items.keys.filter { !$0.isEmpty }.sorted(by: pathLess)
        var changed: [String] = []
        var opaque: [String] = []
        var opaqueSet = Set<String>()
        for key in sortedAfter {
            guard let now = after.items[key] else { continue }
            let parent = ContextPath.dirname(key)
            if opaqueSet.contains(parent) || changedParentReplaced(parent, opaqueSet) {
                changed.append(key)
                if now.isDirectory { opaqueSet.insert(key) }
                continue
            }
            guard let was = before.items[key] else { changed.append(key); continue }
            if was.isDirectory && now.isDirectory && !was.sameDirectory(as: now) {
                changed.append(key)
                opaque.append(key)
                opaqueSet.insert(key)
            } else if !now.same(as: was) {
                changed.append(key)
            }
        }
        var deleted: [String] = []
        for (key, was) in before.items where !key.isEmpty && after.items[key] == nil {
            _ = was
            let parent = ContextPath.dirname(key)
            // Only the topmost deleted path: below a removed or replaced directory nothing
            // needs a whiteout of its own.
            guard parent.isEmpty || (after.items[parent]?.isDirectory == true && before.items[parent].map { after.items[parent]?.sameDirectory(as: $0) == true } == true) else { continue }
            if opaqueSet.contains(parent) { continue }
            deleted.append(key)
        }
        let opaqueRoots = Set(opaque)
        var diff = RunDiff()
        var emitted = Set<String>()
        var firstByInode: [String: String] = [:]
        func addParents(_ key: String) {
            var parents: [String] = []
            var parent = ContextPath.dirname(key)
            while !parent.isEmpty && !emitted.contains(parent) {
                parents.append(parent)
                parent = ContextPath.dirname(parent)
            }
            for p in parents.reversed() {
                guard let item = after.items[p] else { continue }
                let (uid, gid) = owner(item.uid, item.gid)
                diff.entries.append(.directory(p, mode: UInt32(item.mode), uid: uid, gid: gid))
                emitted.insert(p)
            }
        }
        for key in changed {
            guard let item = after.items[key], !emitted.contains(key) else { continue }
            addParents(key)
            let (uid, gid) = owner(item.uid, item.gid)
            let path = root + "/" + key
            switch item.type {
            case S_IFDIR:
                diff.entries.append(.directory(key, mode: UInt32(item.mode), uid: uid, gid: gid))
            case S_IFREG:
                let identity = "\(item.device):\(item.inode)"
                if let first = firstByInode[identity] {
                    diff.entries.append(.hardlink(key, target: first, mode: UInt32(item.mode), uid: uid, gid: gid))
                } else {
                    firstByInode[identity] = key
                    diff.entries.append(.file(key, source: .path(path), mode: UInt32(item.mode), uid: uid, gid: gid))
                }
            case S_IFLNK:
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(path, &buffer, buffer.count - 1)
                guard n >= 0 else { throw RunRoot.failure("readlink", path) }
                let target = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                diff.entries.append(.symlink(key, target: target, uid: uid, gid: gid))
            default:
                // FIFOs and device nodes are carried; sockets are not (RunSpecialFiles).
                guard let special = RunSpecialFiles.kind(item) else { continue }
                diff.entries.append(LayerEntry(path: key, kind: .special(special), mode: UInt32(item.mode), uid: uid, gid: gid))
            }
            if item.type != S_IFLNK {
                let xattrs = RunSpecialFiles.xattrs(path)
                if !xattrs.isEmpty { diff.entries[diff.entries.count - 1].xattrs = xattrs }
            }
            emitted.insert(key)
            if opaqueRoots.contains(key) {
                diff.entries.append(.file(key + "/" + opaqueMarker, source: .bytes([]), mode: 0))
            }
        }
        for key in deleted {
            addParents(key)
            let name = ContextPath.join(ContextPath.dirname(key), ".wh." + ContextPath.basename(key))
            diff.entries.append(.file(name, source: .bytes([]), mode: 0))
        }
        diff.entries.sort { pathLess($0.path, $1.path) }
        return diff
    }

    /// Byte-wise order of paths (String's `<` compares canonically equivalent names as
    /// equal), by `memcmp` on the UTF-8 bytes: sorting a large change set is then cheap.
    static func pathLess(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                if common > 0, let p = x.baseAddress, let q = y.baseAddress {
                    let order = memcmp(p, q, common)
                    if order != 0 { return order < 0 }
                }
                return x.count < y.count
            }
        }
    }

    private static func changedParentReplaced(_ parent: String, _ opaque: Set<String>) -> Bool {
        var p = parent
        while !p.isEmpty {
            if opaque.contains(p) { return true }
            p = ContextPath.dirname(p)
        }
        return false
    }

    /// The tree after the RUN: whiteouts applied first (they concern what was there), then
    /// the new entries.
    func apply(to tree: inout FileTree) {
        for entry in entries where RunDiff.isWhiteout(entry) { tree.whiteout(entry.path) }
        tree.apply(entries.filter { !RunDiff.isWhiteout($0) })
    }
}
