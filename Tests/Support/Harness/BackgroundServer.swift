import Foundation

/// A server started in the background for one test (a python3 script, the fault proxy) that
/// tells its port through a file. Started through `sh … &`, so it gets a clean signal mask
/// and SIGTERM stops it; stopped at the latest when the value goes away.
public final class BackgroundServer: @unchecked Sendable {
    public let port: Int
    public let pid: pid_t
    private let scratch: TemporaryDirectory

    /// Runs `arguments` and waits until `portFile` (default: the server's stdout) holds a port.
    public init(_ arguments: [String], portFile: String? = nil, timeout: TimeInterval = 20) throws {
        scratch = try TemporaryDirectory(prefix: "slipway-server")
        let file = portFile ?? scratch.path + "/port"
        let stdout = portFile == nil ? Run.quoted(file) : "/dev/null"
        let started = try Run.shell(arguments.map(Run.quoted).joined(separator: " ") + " > \(stdout) 2>/dev/null < /dev/null & echo $!")
        guard let pid = pid_t(started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestError("cannot start \(arguments.joined(separator: " ")): \(started.stderr)")
        }
        self.pid = pid
        let deadline = Date().addingTimeInterval(timeout)
        var port = 0
        while port == 0 {
            port = (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
            if port != 0 { break }
            guard Date() < deadline, kill(pid, 0) == 0 else {
                kill(pid, SIGKILL)
                throw TestError("\(arguments.joined(separator: " ")) did not start")
            }
            usleep(20_000)
        }
        self.port = port
    }

    /// A python3 program (its source) that prints its port as the first line of its output.
    public static func python(_ script: String, arguments: [String] = []) throws -> BackgroundServer {
        let directory = try TemporaryDirectory(prefix: "slipway-python")
        let path = directory.path + "/server.py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        // python3 has read the script once it prints its port; the directory may go then.
        return try BackgroundServer(["python3", path] + arguments)
    }

    /// Stops the server (SIGTERM) and waits up to five seconds for it to be gone.
    public func stop() {
        guard kill(pid, SIGTERM) == 0 else { return }
        for _ in 0..<250 where kill(pid, 0) == 0 { usleep(20_000) }
    }

    deinit { stop() }
}
