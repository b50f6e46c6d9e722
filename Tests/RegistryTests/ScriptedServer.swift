import Foundation
import TestSupport
import HTTP
import XCTest

/// A plain-HTTP server on 127.0.0.1 (python3) whose answers a test scripts in Python, for
/// behaviour only a real socket shows: bodies longer than declared, endless streams, what
/// reached the server at all. The test's code defines `handle(h, method, path, query)`; `h` has
/// `send(status, body, headers)` and `stream(status, total, headers, declare)`. Every request
/// the server parsed is logged as one JSON line (`method`, `path`, `query`).
final class ScriptedServer {
    let port: Int
    let directory: URL
    private let pid: pid_t

    static let base = #"""
    import json, sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlparse, parse_qs
    LOG = open(sys.argv[1], "a", buffering=1)
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a): pass
        def send(self, status, body=b"", headers={}):
            self.send_response(status)
            for k, v in headers.items(): self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD": self.wfile.write(body)
        def stream(self, status, total, headers={}, declare=True):
            self.send_response(status)
            for k, v in headers.items(): self.send_header(k, v)
            if declare:
                self.send_header("Content-Length", str(total))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            chunk, sent = b"x" * 65536, 0
            try:
                while sent < total:
                    n = min(len(chunk), total - sent)
                    self.wfile.write(chunk[:n])
                    sent += n
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
        def route(self):
            u = urlparse(self.path)
            length = int(self.headers.get("Content-Length", "0") or "0")
            if length: self.rfile.read(length)
            LOG.write(json.dumps({"method": self.command, "path": u.path, "query": u.query}) + "\n")
            handle(self, self.command, u.path, parse_qs(u.query))
        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = route
    """#

    init(handler: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-scripted-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = directory.appendingPathComponent("server.py")
        let main = "\ns = ThreadingHTTPServer((\"127.0.0.1\", 0), H)\ns.daemon_threads = True\nprint(s.server_address[1], flush=True)\ns.serve_forever()\n"
        try (Self.base + "\n" + handler + "\n" + main).write(to: script, atomically: true, encoding: .utf8)
        let portFile = directory.appendingPathComponent("port"), log = directory.appendingPathComponent("requests.log")
        let started = try Subprocess.run("/bin/sh", ["-c", "python3 \"$0\" \"$1\" > \"$2\" 2>/dev/null & echo $!", script.path, log.path, portFile.path])
        guard let pid = pid_t(String(decoding: started.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw XCTSkip("python3 did not start")
        }
        self.pid = pid
        var port = 0
        for _ in 0..<100 where port == 0 {
            port = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
            if port == 0 { usleep(50_000) }
        }
        guard port > 0 else {
            kill(pid, SIGTERM)
            throw XCTSkip("the python3 scripted server did not start")
        }
        self.port = port
    }

    /// The requests the server parsed, in order (`METHOD path`).
    var requests: [String] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("requests.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return "\(entry["method"] as? String ?? "") \(entry["path"] as? String ?? "")"
        }
    }

    func stop() {
        kill(pid, SIGTERM)
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Counts the requests an `HTTPClient` sends (its debug log's `→` lines).
final class RequestCounter: Sendable {
    private let lines = Locked<[String]>([])

    var requests: [String] { lines.withLock { $0 }.filter { $0.hasPrefix("→") } }

    func client(_ configure: (inout HTTPClient.Configuration) -> Void = { _ in }) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.debugLog = { line in self.lines.withLock { $0.append(line) } }
        configure(&configuration)
        return HTTPClient(configuration: configuration)
    }
}
