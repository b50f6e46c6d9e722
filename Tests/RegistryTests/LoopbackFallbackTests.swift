import Foundation
import TestSupport
import HTTP
import OCI
@testable import Registry
import XCTest

/// Issue 10, item 8: plain HTTP after a failed TLS probe is for loopback only, decided on the
/// address the name resolves to. Before, any name beginning with `127.` counted as loopback:
/// `127.evil.example` — anyone's DNS name — got plain HTTP.
final class LoopbackFallbackTests: XCTestCase {
    func testANameBeginningWith127IsNotLoopbackAndNeverGetsPlainHTTP() async throws {
        let server = try ScriptedServer(handler: "def handle(h, method, path, query):\n    h.send(200, b\"{}\")\n")
        defer { server.stop() }
        let port = server.port
        // The name is routed to the plain-HTTP server on 127.0.0.1, so only the rule stops it.
        var configuration = HTTPClient.Configuration()
        configuration.connectTo = ["127.evil.example:\(port):127.0.0.1:\(port)"]
        let transport = HTTPClient(configuration: configuration)
        XCTAssertFalse(transport.allowsPlainHTTP(host: "127.evil.example:\(port)"))
        XCTAssertFalse(transport.allowsPlainHTTP(host: "127.evil.example"))

        let registry = RegistryClient(registry: "127.evil.example:\(port)", transport: transport, credentials: AnonymousCredentials(), retry: .none)
        do {
            try await registry.ping()
            XCTFail("fell back to plain HTTP for 127.evil.example")
        } catch {
            XCTAssertTrue("\(error)".contains("127.evil.example:\(port)"), "\(error)")
        }
        XCTAssertEqual(server.requests, [], "no plain-HTTP request reached the server")

        // A plain http:// request to that name is refused before connecting.
        do {
            _ = try await transport.send(HTTPRequest(method: "GET", url: URL(string: "http://127.evil.example:\(port)/v2/")!))
            XCTFail("plain HTTP to 127.evil.example was sent")
        } catch let error as HTTPError {
            XCTAssertEqual(error, .insecureNotAllowed(host: "127.evil.example:\(port)"))
        }
        XCTAssertEqual(server.requests, [])

        // The same server by loopback address and by a name resolving only to loopback:
        // TLS first, then plain HTTP (as Docker does for 127.0.0.0/8).
        for host in ["127.0.0.1:\(port)", "localhost:\(port)"] {
            try await RegistryClient(registry: host, transport: transport, credentials: AnonymousCredentials(), retry: .none).ping()
        }
        XCTAssertEqual(server.requests, ["GET /v2/", "GET /v2/"])
    }
}
