import Foundation

/// One `scripts/delay-proxy` in front of a loopback server: bytes relayed unchanged (TLS and
/// HTTP/2 end to end), each direction delayed by RTT/2, connections counted in a stats file.
public final class DelayProxy: @unchecked Sendable {
    private let server: BackgroundServer
    private let statsFile: String

    public init(target: String, directory: String, rtt: Double = 0, bandwidthMbit: Double = 0) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let portFile = directory + "/delay-proxy.port"
        statsFile = directory + "/delay-proxy.json"
        server = try BackgroundServer(["python3", TestPaths.script("delay-proxy"), "--target", target, "--rtt", "\(rtt)",
                                       "--bandwidth", "\(bandwidthMbit)", "--max-seconds", "600",
                                       "--port-file", portFile, "--stats", statsFile], portFile: portFile)
    }

    /// `127.0.0.1:PORT`, to be used as the registry's name.
    public var host: String { "127.0.0.1:\(server.port)" }

    /// TCP connections accepted since the start or the last `reset`, once they have closed.
    public func connections() throws -> Int {
        for _ in 0..<100 {
            let stats = try Run.json(String(contentsOfFile: statsFile, encoding: .utf8))
            if (stats["open"] as? Int) == 0, let count = stats["connections"] as? Int { return count }
            usleep(20_000)
        }
        throw TestError("delay-proxy still has open connections")
    }

    /// Starts counting again (SIGUSR1), once the connections of earlier clients have closed.
    public func reset() throws {
        _ = try connections()
        kill(server.pid, SIGUSR1)
        for _ in 0..<100 {
            if let stats = try? Run.json(String(contentsOfFile: statsFile, encoding: .utf8)), (stats["connections"] as? Int) == 0 { return }
            usleep(20_000)
        }
        throw TestError("delay-proxy did not reset its counts")
    }

    public func stop() { server.stop() }
}
