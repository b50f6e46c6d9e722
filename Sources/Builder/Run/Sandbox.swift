#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// Runs one command in the RUN sandbox (`CSandbox`: namespaces, pivot_root, exec) and streams
/// its merged stdout/stderr line by line. As root the command runs as root of the host in new
/// mount/PID/IPC/UTS namespaces (owners in the root are then real); as another user a new user
/// namespace maps root inside to the caller, as `unshare -r` does, with no setuid helper.
struct Sandbox {
    enum Network: String, Sendable {
        /// The host's network: BuildKit's default when it has no CNI bridge, as here.
        case `default`
        case host
        /// A network namespace of its own with only loopback.
        case none
    }

    struct Spec {
        var root: String
        var arguments: [String]
        var environment: [String]
        var workdir: String
        var uid: Int
        var gid: Int
        var network: Network
        /// Host source and the target inside the root (relative to it, "ro:" for read-only).
        var binds: [(String, String)] = []
        var tmpfs: [String] = []
        /// RUN --mount (RunMounts), applied after /dev in this order.
        var mounts: [SandboxMount] = []
    }

    struct Outcome {
        var status: Int32
        /// The last lines of output, for the error message.
        var tail: [String]
    }

    static var rootless: Bool { geteuid() != 0 }

    static func run(_ spec: Spec, onLine: (String) -> Void) throws -> Outcome {
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        guard slipway_pipe_cloexec(&output) == 0, slipway_pipe_cloexec(&errors) == 0 else {
            throw BuildError("cannot create a pipe for RUN: \(String(cString: strerror(errno)))")
        }
        // Registered so that Ctrl-C can stop the command (RunningCommands.stopAll).
        RunningCommands.willStart()
        var registered = false
        defer { if !registered { RunningCommands.started(-1) } }
        let path = spec.environment.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        let mountBuffer = SandboxMountBuffer(spec.mounts)
        defer { withExtendedLifetime(mountBuffer) {} }
        let pid: pid_t = try withCStrings(spec.arguments) { argv in
            try withCStrings(spec.environment) { envp in
                try withCStrings(spec.binds.flatMap { [$0.0, $0.1] }) { binds in
                    try withCStrings(spec.tmpfs) { tmpfs in
                        spec.root.withCString { root in
                            spec.workdir.withCString { workdir in
                                path.withCString { pathEnv in
                                    var box = slipway_sandbox()
                                    box.rootfs = root
                                    box.workdir = workdir
                                    box.argv = argv
                                    box.envp = envp
                                    box.path_env = pathEnv
                                    box.uid = uid_t(spec.uid)
                                    box.gid = gid_t(spec.gid)
                                    box.rootless = rootless ? 1 : 0
                                    box.outer_uid = geteuid()
                                    box.outer_gid = getegid()
                                    box.new_network = spec.network == .none ? 1 : 0
                                    box.binds = binds
                                    box.tmpfs = tmpfs
                                    box.output_fd = output[1]
                                    box.error_fd = errors[1]
                                    box.mounts = UnsafePointer(mountBuffer.pointer)
                                    box.mount_count = mountBuffer.count
                                    return slipway_sandbox_spawn(&box)
                                }
                            }
                        }
                    }
                }
            }
        }
        RunningCommands.started(pid)
        registered = true
        close(output[1])
        close(errors[1])
        defer { close(output[0]); close(errors[0]) }
        guard pid > 0 else { throw BuildError("cannot start RUN: fork failed: \(String(cString: strerror(errno)))") }
        var tail: [String] = []
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        func emit(_ bytes: ArraySlice<UInt8>) {
            let line = String(decoding: bytes, as: UTF8.self)
            onLine(line)
            tail.append(line)
            if tail.count > 10 { tail.removeFirst() }
        }
        while true {
            let n = read(output[0], &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending += buffer[0..<n]
            while let newline = pending.firstIndex(of: 10) {
                emit(pending[..<newline])
                pending.removeSubrange(...newline)
            }
            if pending.count > 1 << 16 { emit(pending[...]); pending = [] }
        }
        if !pending.isEmpty { emit(pending[...]) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { RunningCommands.ended(pid); throw BuildError("cannot wait for RUN: \(String(cString: strerror(errno)))") }
        }
        RunningCommands.ended(pid)
        let setup = readAll(errors[0])
        if !setup.isEmpty { throw setupError(setup) }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(status: code, tail: tail)
    }

    private static func readAll(_ fd: Int32) -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// "<step> <errno>" from the child, as a message a user can act on.
    private static func setupError(_ report: String) -> BuildError {
        let parts = report.split(separator: " ")
        let code = parts.last.flatMap { Int32($0) } ?? 0
        let step = parts.dropLast().joined(separator: " ")
        let reason = String(cString: strerror(code))
        if step.hasPrefix("run-mount ") { return RunMountFailure.message(step, code: code) }
        if code == ENOENT || code == EACCES || code == ENOEXEC, !step.contains(" ") && !step.hasPrefix("mount") && step != "unshare" {
            if code == ENOENT && !step.contains("/") { return BuildError("executable file not found in $PATH: \"\(step)\"") }
            if code == ENOENT { return BuildError("cannot execute \"\(step)\": the stage has no such file") }
            return BuildError("cannot execute \"\(step)\": \(reason)")
        }
        if step == "unshare" || step.hasPrefix("/proc/self/") {
            return BuildError("RUN needs Linux namespaces and the kernel refused them (\(step): \(reason)); as a non-root user this needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0), or run slipway as root")
        }
        if step == "setuid" || step == "setgid" {
            return BuildError("cannot switch to the USER inside the sandbox (\(step): \(reason)); without root, only root inside (the invoking user) is mapped")
        }
        return BuildError("cannot set up the RUN sandbox (\(step): \(reason))")
    }
}

/// NULL-terminated C string arrays for the duration of `body`.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) throws -> R) throws -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
    pointers.append(nil)
    return try pointers.withUnsafeBufferPointer { buffer in
        guard let base = buffer.baseAddress else { throw BuildError("internal error: no argument buffer") }
        return try body(base)
    }
}
