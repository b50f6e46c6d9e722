import Foundation

/// One `scripts/test-faults/proxy.py` in front of the Basic-auth test registry: plain HTTP on
/// loopback (slipway's TLS probe fails, it falls back to http://), TLS to the registry, faults
/// drawn from a seeded generator, one JSON line per request in `log`.
public final class FaultProxy: @unchecked Sendable {
    public let log: String
    private let server: BackgroundServer

    public init(registry: TestRegistries, directory: String, seed: UInt64, rate: Double, faults: String? = nil, stall: Double = 3) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        log = directory + "/proxy.log"
        let portFile = directory + "/proxy.port"
        server = try BackgroundServer(["python3", TestPaths.script("test-faults/proxy.py"), "--upstream", registry.basic,
                                       "--ca", registry.ca, "--port-file", portFile, "--log", log, "--seed", "\(seed)",
                                       "--rate", "\(rate)", "--stall", "\(stall)"] + (faults.map { ["--faults", $0] } ?? []),
                                      portFile: portFile)
    }

    public var host: String { "127.0.0.1:\(server.port)" }

    public func stop() { server.stop() }

    /// The log so far, one dictionary per request.
    public func entries() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Request-body bytes of blob uploads (PATCH/PUT under `/blobs/uploads/`) in `entries`, for
    /// `repository` (all repositories when nil).
    public static func blobUploadBytes(_ entries: [[String: Any]], repository: String? = nil) -> Int {
        entries.filter { entry in
            guard (entry["blob_upload"] as? Bool) == true else { return false }
            guard let repository else { return true }
            return (entry["path"] as? String)?.hasPrefix("/v2/\(repository)/") == true
        }.reduce(0) { $0 + (($1["body_bytes"] as? Int) ?? 0) }
    }
}
