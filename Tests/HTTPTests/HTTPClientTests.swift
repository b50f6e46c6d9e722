import Foundation
import HTTP
import XCTest

/// The libcurl transport against real servers: TLS with per-host CAs, SLIPWAY_CONNECT_TO,
/// redirects that must not carry credentials to another host, bounded and streamed bodies.
final class HTTPClientTests: XCTestCase {
    func testConnectToRoutesARealNameWithItsOwnCertsDirectory() async throws {
        let registries = try TestRegistry.get()
        let port = registries.basic.split(separator: ":").last!
        let host = "registry.slipway.test:\(port)"
        let certs = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-certs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: certs) }
        try FileManager.default.createDirectory(at: certs.appendingPathComponent(host), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(registries.certsDirectory)/\(registries.basic)/ca.crt", toPath: certs.appendingPathComponent("\(host)/ca.crt").path)

        var configuration = HTTPClient.Configuration.fromEnvironment(["HOME": "/nonexistent", "SLIPWAY_CONNECT_TO": "registry.slipway.test:\(port):127.0.0.1:\(port)"])
        configuration.certsDirectories = [certs.path]
        let client = HTTPClient(configuration: configuration)
        let response = try await client.send(HTTPRequest(method: "GET", url: URL(string: "https://\(host)/v2/")!))
        XCTAssertEqual(response.status, 401)
        XCTAssertEqual(response.httpVersion, "2", "HTTP/2 negotiated over TLS")
        XCTAssertTrue(response.headers["WWW-Authenticate"]?.contains("Basic") == true)

        // Without the host's CA the same request fails verification: TLS is never skipped.
        var untrusting = configuration
        untrusting.certsDirectories = []
        do {
            _ = try await HTTPClient(configuration: untrusting).send(HTTPRequest(method: "GET", url: URL(string: "https://\(host)/v2/")!))
            XCTFail("an unknown CA was accepted")
        } catch let error as HTTPError {
            XCTAssertTrue(error.description.contains("certificate"), error.description)
        }
    }

    func testRedirectsDropAuthorizationOnlyForAnotherOrigin() async throws {
        let server = try PythonServer()
        defer { server.stop() }
        let client = HTTPClient(configuration: HTTPClient.Configuration())
        let sameOrigin = try await client.send(HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:\(server.port)/redirect?to=http://127.0.0.1:\(server.port)/echo")!,
                                                           headers: ["Authorization": "Bearer secret-token"]))
        XCTAssertEqual(sameOrigin.status, 200)
        XCTAssertEqual(String(decoding: sameOrigin.body, as: UTF8.self), "auth=Bearer secret-token")

        let otherOrigin = try await client.send(HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:\(server.port)/redirect?to=http://localhost:\(server.port)/echo")!,
                                                            headers: ["Authorization": "Bearer secret-token"]))
        XCTAssertEqual(otherOrigin.status, 200)
        XCTAssertEqual(String(decoding: otherOrigin.body, as: UTF8.self), "auth=")
        XCTAssertEqual(otherOrigin.url.host, "localhost")

        // Bodies: a memory sink is bounded; a file sink streams and the redirect body is dropped.
        do {
            _ = try await client.send(HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:\(server.port)/big")!, sink: .memory(limit: 1000)))
            XCTFail("an oversized body was accepted")
        } catch let error as HTTPError {
            XCTAssertTrue(error.description.contains("larger than 1000 bytes"), error.description)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-download-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let download = try await client.send(HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:\(server.port)/redirect?to=/big")!, sink: .file(file)))
        XCTAssertEqual(download.status, 200)
        XCTAssertEqual(try Data(contentsOf: file).count, 100_000)

        // A streamed upload from a file range arrives intact.
        let source = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-upload-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: source) }
        try Data("0123456789abcdefghij".utf8).write(to: source)
        let upload = try await client.send(HTTPRequest(method: "PUT", url: URL(string: "http://127.0.0.1:\(server.port)/upload")!, body: .file(path: source.path, offset: 5, length: 10)))
        XCTAssertEqual(String(decoding: upload.body, as: UTF8.self), "56789abcde")
    }
}

/// A tiny plain-HTTP server on loopback (python3), for transport behaviour no registry shows.
final class PythonServer {
    let port: Int
    private let pid: pid_t

    init() throws {
        let script = #"""
        import sys
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlparse, parse_qs
        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def send(self, status, body, headers={}):
                self.send_response(status)
                for k, v in headers.items(): self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def do_GET(self):
                u = urlparse(self.path)
                if u.path == "/redirect": return self.send(307, b"redirect body", {"Location": parse_qs(u.query)["to"][0]})
                if u.path == "/echo": return self.send(200, ("auth=" + self.headers.get("Authorization", "")).encode())
                if u.path == "/big": return self.send(200, b"x" * 100000)
                if u.path == "/large": return self.send(200, b"x" * (8 << 20))
                if u.path == "/redirect-large": return self.send(307, b"x" * (8 << 20), {"Location": "/echo"})
                self.send(404, b"")
            def do_PUT(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send(200, body)
        s = ThreadingHTTPServer(("127.0.0.1", 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """#
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-pyserver-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let scriptURL = dir.appendingPathComponent("server.py")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        let portFile = dir.appendingPathComponent("port")
        // Started through a shell that records its pid and backgrounds the server.
        let result = try Subprocess.run("/bin/sh", ["-c", "python3 \"$0\" > \"$1\" 2>/dev/null & echo $!", scriptURL.path, portFile.path])
        guard let pid = pid_t(String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestServerError(description: "cannot start python3 server")
        }
        self.pid = pid
        var port = 0
        for _ in 0..<100 {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let p = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) { port = p; break }
            usleep(50_000)
        }
        guard port > 0 else {
            kill(pid, SIGTERM)
            throw TestServerError(description: "python3 server did not start")
        }
        self.port = port
    }

    func stop() { kill(pid, SIGTERM) }
}
