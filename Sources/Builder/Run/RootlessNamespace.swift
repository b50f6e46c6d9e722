#if canImport(Glibc)
import Glibc
#endif
import CSandbox
import Foundation

/// A rootless `slipway build` with subordinate IDs re-executes itself as root of a user
/// namespace that maps them (`buildah unshare` and rootlesskit do the same): everything after
/// — the RUN roots, their owners, the sandbox, the layer diff — is then the root code path,
/// and the kernel shows owners as the namespace sees them (host `START+999` is `1000`), so
/// the layers record namespace IDs. Without subordinate IDs (or when the helpers fail) the
/// build stays in this process and RUN maps only the caller (root inside), BuildKit's rootless
/// limit.
public enum RootlessNamespace {
    /// Set in the re-executed child (and to `0` by a user to opt out).
    public static let marker = "SLIPWAY_USERNS"

    /// Whether this process is the re-executed child: the marker, and a user namespace that
    /// is not the host's (whose map is the identity over all IDs).
    public static var entered: Bool {
        guard ProcessInfo.processInfo.environment[marker] == "1",
              let map = try? String(contentsOfFile: "/proc/self/uid_map", encoding: .utf8) else { return false }
        return map.split(whereSeparator: \.isWhitespace) != ["0", "0", "4294967295"]
    }

    /// Whether a build of this Dockerfile may RUN: true unless the file can be read and no
    /// line starts with RUN (or ONBUILD RUN). A COPY-only build then stays in this process, as
    /// it was before RUN existed; a base image's ONBUILD RUN still runs, in the one-ID sandbox.
    public static func mayRun(dockerfile: String?, context: String) -> Bool {
        let path = dockerfile ?? (context + "/Dockerfile")
        guard path != "-", let text = try? String(contentsOfFile: path, encoding: .utf8) else { return true }
        return text.split(whereSeparator: \.isNewline).contains { line in
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).prefix(2).map { $0.uppercased() }
            if words.first == "ONBUILD" { words.removeFirst() }
            return words.first == "RUN" || words.first?.hasPrefix("RUN[") == true
        }
    }

    /// Re-executes and never returns when it can (exits with the child's status, or dies of
    /// its signal); returns when the build should run here.
    public static func reexecuteIfUseful() {
        guard geteuid() != 0, ProcessInfo.processInfo.environment[marker] == nil,
              let ids = SubordinateIDs.forCurrentUser() else { return }
        guard let status = run(with: ids) else { return }
        // As the command line's own exit: flushed, no exit handlers racing live threads.
        if status & 0x7f == 0 { fflush(nil); _exit((status >> 8) & 0xff) }
        let number = status & 0x7f
        signal(number, SIG_DFL)
        raise(number)
        fflush(nil)
        _exit(128 + number)
    }

    /// The child's wait status, or nil when it could not be set up (nothing has run then).
    private static func run(with ids: SubordinateIDs) -> Int32? {
        var ready: [Int32] = [-1, -1]
        var go: [Int32] = [-1, -1]
        guard slipway_pipe_cloexec(&ready) == 0 else { return nil }
        guard slipway_pipe_cloexec(&go) == 0 else { close(ready[0]); close(ready[1]); return nil }
        let environment = ProcessInfo.processInfo.environment.filter { $0.key != marker }.map { "\($0.key)=\($0.value)" }
            + ["\(marker)=1"]
        let pid: pid_t
        do {
            pid = try withCStrings(CommandLine.arguments) { argv in
                try withCStrings(environment) { envp in
                    slipway_userns_spawn("/proc/self/exe", argv, envp, ready[1], go[0])
                }
            }
        } catch {
            pid = -1
        }
        close(ready[1])
        close(go[0])
        defer { close(ready[0]) }
        guard pid > 0 else { close(go[1]); return nil }
        var byte: UInt8 = 0
        let unshared = read(ready[0], &byte, 1) == 1 && byte == UInt8(ascii: "1")
        let mapped = unshared
            && helper(ids.newuidmap, SubordinateIDs.mapArguments(pid: pid, own: getuid(), range: ids.uids))
            && helper(ids.newgidmap, SubordinateIDs.mapArguments(pid: pid, own: getgid(), range: ids.gids))
        var answer = UInt8(ascii: mapped ? "1" : "0")
        _ = write(go[1], &answer, 1)
        close(go[1])
        guard mapped else {
            var ignored: Int32 = 0
            waitpid(pid, &ignored, 0)
            return nil
        }
        let status = slipway_userns_wait(pid)
        return status < 0 ? nil : status
    }

    /// For a failed RUN whose output shows a `chown` failing in the one-ID sandbox: how to get
    /// the subordinate IDs that make it work (empty otherwise).
    static func chownHint(_ output: [String]) -> String {
        guard Sandbox.rootless, output.contains(where: { $0.lowercased().contains("chown") }) else { return "" }
        let name = getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? String(getuid())
        return "\nrootless RUN maps only your own user (root inside) when it has no subordinate IDs, so chown to another ID fails: "
            + "give \(name) ranges in /etc/subuid and /etc/subgid (`sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \(name)`) "
            + "and install newuidmap/newgidmap (Debian: `apt-get install uidmap`), as rootless BuildKit and podman need"
    }

    /// Runs newuidmap/newgidmap. A failure (a helper without its setuid bit, a range the
    /// kernel refuses) is said on stderr, and the build goes on with the one-ID sandbox.
    private static func helper(_ path: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            warn("cannot run \(path) (\(error))")
            return false
        }
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let reason = String(decoding: said, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            warn("\(path) \(arguments.joined(separator: " ")) failed\(reason.isEmpty ? "" : ": " + reason)")
            return false
        }
        return true
    }

    private static func warn(_ problem: String) {
        FileHandle.standardError.write(Data("warning: \(problem); RUN maps only your own user ID (chown to other IDs fails)\n".utf8))
    }
}
