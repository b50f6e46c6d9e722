#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation
import Layers

/// FIFOs, device nodes and extended attributes as RUN layers carry them. Sockets are dropped
/// (tar and BuildKit's differ drop them: a socket means nothing without its process). The
/// xattrs kept are those images carry: `security.capability` (what BuildKit's differ records,
/// `setcap` binaries) and `user.*`; `security.selinux`, `trusted.*` and ACLs describe the
/// build host, not the image.
enum RunSpecialFiles {
    /// The layer kind of a FIFO or device node (nil for a socket or anything else).
    static func kind(_ item: RunSnapshot.Item) -> LayerEntry.SpecialFile? {
        switch item.type {
        case S_IFIFO: return .fifo
        case S_IFCHR: return .characterDevice(major: slipway_device_major(dev_t(item.rdev)), minor: slipway_device_minor(dev_t(item.rdev)))
        case S_IFBLK: return .blockDevice(major: slipway_device_major(dev_t(item.rdev)), minor: slipway_device_minor(dev_t(item.rdev)))
        default: return nil
        }
    }

    /// Makes the node; false when the kernel refuses a device to this process (rootless).
    static func make(_ special: LayerEntry.SpecialFile, at path: String, mode: mode_t) throws -> Bool {
        let made: Int32
        switch special {
        case .fifo: made = mkfifo(path, mode)
        case .characterDevice(let major, let minor): made = mknod(path, S_IFCHR | mode, slipway_make_device(major, minor))
        case .blockDevice(let major, let minor): made = mknod(path, S_IFBLK | mode, slipway_make_device(major, minor))
        }
        if made == 0 { return true }
        if errno == EPERM, special != .fifo { return false }
        throw RunRoot.failure("mknod", path)
    }

    static func kept(_ name: String) -> Bool { name == "security.capability" || name.hasPrefix("user.") }

    /// The kept xattrs of a path (not following a symlink). A file system without xattrs has
    /// none. A version 3 capability (made in a user namespace: it names the namespace's root)
    /// is recorded as version 2, as moby does: that root means nothing outside.
    static func xattrs(_ path: String) -> [String: [UInt8]] {
        let size = slipway_llistxattr(path, nil, 0)
        guard size > 0 else { return [:] }
        var names = [CChar](repeating: 0, count: Int(size))
        let got = slipway_llistxattr(path, &names, UInt(size))
        guard got > 0 else { return [:] }
        var result: [String: [UInt8]] = [:]
        for raw in names[0..<Int(got)].split(separator: 0) {
            let name = String(decoding: raw.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard kept(name) else { continue }
            let length = slipway_lgetxattr(path, name, nil, 0)
            guard length >= 0 else { continue }
            var value = [UInt8](repeating: 0, count: Int(length))
            let read = value.withUnsafeMutableBytes { slipway_lgetxattr(path, name, $0.baseAddress, UInt(length)) }
            guard read >= 0 else { continue }
            value = Array(value[0..<Int(read)])
            if name == "security.capability" { value = capabilityVersion2(value) }
            result[name] = value
        }
        return result
    }

    /// VFS_CAP_REVISION_3 (24 bytes, with the root uid) → VFS_CAP_REVISION_2 (20 bytes).
    static func capabilityVersion2(_ value: [UInt8]) -> [UInt8] {
        guard value.count == 24, value[3] == 3 else { return value }
        var converted = Array(value[0..<20])
        converted[3] = 2
        return converted
    }

    /// Best effort: a file system without xattrs (or a name the process may not set) leaves
    /// the root without them, which changes no layer.
    static func setXattrs(_ xattrs: [String: [UInt8]], path: String) {
        for (name, value) in xattrs {
            _ = value.withUnsafeBytes { slipway_lsetxattr(path, name, $0.baseAddress, UInt($0.count)) }
        }
    }
}
