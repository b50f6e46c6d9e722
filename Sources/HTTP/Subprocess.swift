import Foundation

/// Runs a program to completion with posix_spawn, feeding stdin and collecting stdout/stderr.
/// Not Foundation's `Process`: on Linux, a child spawned from a dispatch thread inherits that
/// thread's fully blocked signal mask (so it cannot be stopped with SIGTERM), and
/// `waitUntilExit` can hang off the main thread. Here the child gets a clean signal mask and
/// default handlers, and the parent reaps it with `waitpid`. The one way slipway runs programs
/// (credential helpers, `credential_process`).
public enum Subprocess {
    public struct Result: Sendable {
        /// The exit status, or 128 + the signal that ended the program.
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
    }

    /// `run` on a dispatch thread, for async callers: the calling task is suspended, no
    /// cooperative thread blocks on the program.
    public static func runInBackground(_ executable: String, _ arguments: [String], input: Data = Data(),
                                       environment: [String: String]? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result { try run(executable, arguments, input: input, environment: environment) })
            }
        }
    }

    public static func run(_ executable: String, _ arguments: [String], input: Data = Data(), environment: [String: String]? = nil) throws -> Result {
        var stdinPipe: [Int32] = [0, 0], stdoutPipe: [Int32] = [0, 0], stderrPipe: [Int32] = [0, 0]
        guard pipe(&stdinPipe) == 0, pipe(&stdoutPipe) == 0, pipe(&stderrPipe) == 0 else {
            throw SubprocessError("cannot create pipes to run \(executable): \(String(cString: strerror(errno)))")
        }
        // The parent's ends must not leak into the child (or into other children spawned meanwhile).
        for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        for fd in [stdinPipe[0], stdoutPipe[1], stderrPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }

        var pid = pid_t()
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, env)
        for fd in [stdinPipe[0], stdoutPipe[1], stderrPipe[1]] { close(fd) }
        guard rc == 0 else {
            for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { close(fd) }
            throw SubprocessError("cannot run \(executable): \(String(cString: strerror(rc)))")
        }

        // Write stdin and drain both outputs concurrently so no pipe can fill up and deadlock.
        let group = DispatchGroup()
        let errData = Locked(Data())
        let inFD = stdinPipe[1], errFD = stderrPipe[0], outFD = stdoutPipe[0]
        group.enter()
        DispatchQueue.global().async {
            input.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(inFD, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    offset += n
                }
            }
            close(inFD)
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            let data = readAll(errFD)
            errData.withLock { $0 = data }
            group.leave()
        }
        let out = readAll(outFD)
        group.wait()
        close(outFD)
        close(errFD)

        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw SubprocessError("waiting for \(executable) failed: \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED/WEXITSTATUS are macros Swift cannot import.
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: exitCode, stdout: out, stderr: errData.withLock { $0 })
    }

    private static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(buffer, count: n)
        }
        return data
    }

    /// The first executable named `name` in a `PATH`-style list.
    public static func find(_ name: String, in path: String? = nil) -> String? {
        let search = path ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return search.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// A program could not be started or waited for (its own failures are in `Result.status`).
public struct SubprocessError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
