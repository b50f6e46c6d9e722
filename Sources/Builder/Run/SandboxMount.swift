#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// A mount the sandbox makes for `RUN --mount` (see `slipway_mount.h`): the target is a key
/// relative to the root, already resolved through the stage's symlinks.
struct SandboxMount {
    enum Kind {
        case bind(source: String)
        case tmpfs(options: String?)
        /// Bytes put in a private tmpfs and bound to the target (secrets, heredoc scripts).
        case file([UInt8])
    }

    var kind: Kind
    var target: String
    var readOnly = false
    var targetIsFile = false
    /// Owner and mode given to the mounted root (a file's own for `.file`).
    var owner: (uid: UInt32, gid: UInt32, mode: UInt32)?
}

/// The mounts as C structures for `slipway_sandbox`, alive until the buffer goes (after the
/// fork); a file's bytes are overwritten with zeros before they are freed.
final class SandboxMountBuffer {
    private(set) var pointer: UnsafeMutablePointer<slipway_mount>?
    let count: Int32
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private var blobs: [(UnsafeMutablePointer<UInt8>, Int)] = []

    init(_ mounts: [SandboxMount]) {
        count = Int32(mounts.count)
        guard !mounts.isEmpty else { pointer = nil; return }
        let buffer = UnsafeMutablePointer<slipway_mount>.allocate(capacity: mounts.count)
        for (index, mount) in mounts.enumerated() {
            var c = slipway_mount()
            c.target = UnsafePointer(keep(mount.target))
            c.readonly = mount.readOnly ? 1 : 0
            c.target_is_file = mount.targetIsFile ? 1 : 0
            switch mount.kind {
            case .bind(let source):
                c.kind = Int32(SLIPWAY_MOUNT_BIND)
                c.source = UnsafePointer(keep(source))
            case .tmpfs(let options):
                c.kind = Int32(SLIPWAY_MOUNT_TMPFS)
                c.options = options.map { UnsafePointer(keep($0)) }
            case .file(let bytes):
                c.kind = Int32(SLIPWAY_MOUNT_FILE)
                let data = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
                bytes.withUnsafeBufferPointer { source in
                    if let base = source.baseAddress { data.update(from: base, count: bytes.count) }
                }
                blobs.append((data, bytes.count))
                c.data = UnsafePointer(data)
                c.length = bytes.count
            }
            if let owner = mount.owner {
                c.set_owner = 1
                c.uid = owner.uid
                c.gid = owner.gid
                c.mode = owner.mode
            }
            (buffer + index).initialize(to: c)
        }
        pointer = buffer
    }

    private func keep(_ string: String) -> UnsafeMutablePointer<CChar> {
        let copy = strdup(string) ?? strdup("")!
        strings.append(copy)
        return copy
    }

    deinit {
        for (data, length) in blobs {
            data.update(repeating: 0, count: length)
            data.deallocate()
        }
        strings.forEach { free($0) }
        pointer?.deallocate()
    }
}

enum RunMountFailure {
    /// "run-mount <step> /<target>" and an errno from the child, as a message naming the mount.
    static func message(_ step: String, code: Int32) -> BuildError {
        let parts = step.split(separator: " ", maxSplits: 2).map(String.init)
        let what = parts.count > 1 ? parts[1] : step
        let target = parts.count > 2 ? parts[2] : "?"
        let reason = String(cString: strerror(code))
        switch what {
        case "symlink":
            return BuildError("cannot mount at \(target): a symlink on the way to the target points elsewhere; mount at the path it resolves to")
        case "not-a-directory":
            return BuildError("cannot mount at \(target): a file is in the way of the mount point")
        case "file-over-directory":
            return BuildError("cannot mount a file at \(target): it is a directory in the stage")
        case "chown":
            return BuildError("cannot give the mount at \(target) its owner (\(reason)); without root only root inside is mapped, so uid/gid other than 0 need slipway to run as root")
        default:
            return BuildError("cannot mount at \(target) (\(what): \(reason))")
        }
    }
}
