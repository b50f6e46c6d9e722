import Foundation
import HTTP
import TestSupport
import XCTest

/// The libcurl transport against real servers: TLS with per-host CAs, SLIPWAY_CONNECT_TO,
/// redirects that must not carry credentials to another host, bounded and streamed bodies.
final class HTTPClientTests: XCTestCase {
    func testConnectToRoutesARealNameWithItsOwnCertsDirectory() async throws {
        let registries = try TestRegistries.get()
        let port = registries.basic.split(separator: ":").last!
        let host = "registry.slipway.test:\(port)"
        let scratch = try TemporaryDirectory(prefix: "slipway-certs")
        let certs = scratch.url
        try FileManager.default.createDirectory(at: certs.appendingPathComponent(host), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(registries.certsDir)/\(registries.basic)/ca.crt", toPath: certs.appendingPathComponent("\(host)/ca.crt").path)

        var configuration = HTTPClient.Configuration.fromEnvironment(["HOME": "/nonexistent", "SLIPWAY_CONNECT_TO": "registry.slipway.test:\(port):127.0.0.1:\(port)"])
        configuration.certsDirectories = [scratch.path]
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
        let server = try TestHTTPServer.start("""
            def do_GET(self):
                u = urlparse(self.path)
                if u.path == "/redirect": return self.send(307, b"redirect body", {"Location": parse_qs(u.query)["to"][0]})
                if u.path == "/echo": return self.send(200, ("auth=" + self.headers.get("Authorization", "")).encode())
                if u.path == "/big": return self.send(200, b"x" * 100000)
                self.send(404, b"")
            def do_PUT(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send(200, body)
            """)
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
        let scratch = try TemporaryDirectory(prefix: "slipway-http")
        let file = scratch.url("download")
        let download = try await client.send(HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:\(server.port)/redirect?to=/big")!, sink: .file(file)))
        XCTAssertEqual(download.status, 200)
        XCTAssertEqual(try Data(contentsOf: file).count, 100_000)

        // A streamed upload from a file range arrives intact.
        let source = scratch.url("upload")
        try Data("0123456789abcdefghij".utf8).write(to: source)
        let upload = try await client.send(HTTPRequest(method: "PUT", url: URL(string: "http://127.0.0.1:\(server.port)/upload")!, body: .file(path: source.path, offset: 5, length: 10)))
        XCTAssertEqual(String(decoding: upload.body, as: UTF8.self), "56789abcde")
    }
}
