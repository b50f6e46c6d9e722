#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The mount points a RUN needs (/proc, /dev, /etc/resolv.conf, /etc/hosts): made in the
/// root when the image lacks them and removed after the command, so they never reach the
/// layer (BuildKit removes its mount stubs the same way).
struct MountStubs {
    private(set) var created: [String] = []
    private(set) var binds: [(String, String)] = []

    static func create(in root: String, network: Sandbox.Network) throws -> MountStubs {
        var stubs = MountStubs()
        try stubs.directory(root, "proc")
        try stubs.directory(root, "dev")
        for file in ["etc/resolv.conf", "etc/hosts"] where access("/" + file, R_OK) == 0 {
            // With no network there is no name server to point at; hosts still resolves localhost.
            if network == .none && file == "etc/resolv.conf" { continue }
            try stubs.directory(root, "etc")
            var info = stat()
            let path = root + "/" + file
            if lstat(path, &info) != 0 {
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw RunRoot.failure("create", path) }
                close(fd)
                stubs.created.append(path)
            } else if info.st_mode & S_IFMT != S_IFREG {
                continue
            }
            stubs.binds.append(("/" + file, "ro:" + file))
        }
        return stubs
    }

    private mutating func directory(_ root: String, _ name: String) throws {
        let path = root + "/" + name
        var info = stat()
        if lstat(path, &info) == 0 { return }
        guard mkdir(path, 0o755) == 0 else { throw RunRoot.failure("mkdir", path) }
        created.append(path)
    }

    func remove() {
        for path in created.reversed() {
            if unlink(path) != 0 { rmdir(path) }
        }
    }
}
