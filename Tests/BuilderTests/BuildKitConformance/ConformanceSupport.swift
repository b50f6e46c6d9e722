import Foundation
import Layers
import TestSupport
import XCTest

/// Small helpers the ports of BuildKit's Dockerfile integration tests share: BuildKit's tests
/// build their fixtures with `fstest`; these do the same things in a `BuildFixture`'s context.
extension BuildFixture {
    /// A symlink in the context, `path -> target` (the target kept verbatim).
    func symlink(_ path: String, to target: String) throws {
        let full = context + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
    }

    /// A directory in the context with an exact mode.
    func directory(_ path: String, mode: mode_t) throws {
        let full = context + "/" + path
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        chmod(full, mode)
    }

    /// A file in the context with an exact mode.
    func file(_ path: String, _ text: String, mode: mode_t) throws {
        try write([path: text])
        chmod(context + "/" + path, mode)
    }

    /// A `/etc/passwd` and `/etc/group` in the context (under `etc/`), standing in for the
    /// users BuildKit's tests add with `RUN adduser` on busybox.
    func users(_ passwd: [String], groups: [String]) throws {
        try write(["etc/passwd": passwd.joined(separator: "\n") + "\n", "etc/group": groups.joined(separator: "\n") + "\n"])
    }
}

/// The busybox accounts BuildKit's tests rely on (`daemon`, `nobody`), plus `user`/`user01`
/// as `adduser -D` would make them.
let busyboxPasswd = ["root:x:0:0:root:/root:/bin/sh", "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
                     "nobody:x:65534:65534:nobody:/home:/bin/false", "user:x:1000:1000::/home/user:/bin/sh",
                     "user01:x:1001:1001::/home/user01:/bin/sh"]
let busyboxGroups = ["root:x:0:", "daemon:x:1:", "nobody:x:65534:", "user:x:1000:", "user01:x:1001:"]
