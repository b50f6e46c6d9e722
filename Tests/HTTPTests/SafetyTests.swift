import Foundation
@testable import HTTP
import TestSupport
import XCTest

/// Issue 10 ("never harm the user"), the HTTP layer's part: bodies nobody keeps are bounded too,
/// loopback is an address and not a spelling, an unreachable host is given up on quickly, and
/// `--debug` masks secrets by where they stand, whatever their length.
final class HTTPSafetyTests: XCTestCase {
    private func lines() -> (Locked<[String]>, HTTPClient) {
        let lines = Locked<[String]>([])
        var configuration = HTTPClient.Configuration()
        configuration.debugLog = { line in lines.withLock { $0.append(line) } }
        return (lines, HTTPClient(configuration: configuration))
    }

    /// Echoes the Authorization header, and answers 8 MiB bodies (one of them on a redirect).
    private static func server() throws -> BackgroundServer {
        try TestHTTPServer.start("""
            def do_GET(self):
                u = urlparse(self.path)
                if u.path == "/echo": return self.send(200, ("auth=" + self.headers.get("Authorization", "")).encode())
                if u.path == "/large": return self.send(200, b"x" * (8 << 20))
                if u.path == "/redirect-large": return self.send(307, b"x" * (8 << 20), {"Location": "/echo"})
                self.send(404, b"")
            """)
    }

    func testDiscardedAndRedirectBodiesAreBounded() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let client = HTTPClient(configuration: HTTPClient.Configuration())
        for (path, sink) in [("/large", ResponseSink.discard), ("/redirect-large", .memory(limit: 1000))] {
            do {
                let response = try await client.send(HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:\(server.port)\(path)")!, sink: sink))
                XCTFail("\(path): an 8 MiB body was read to the end (HTTP \(response.status))")
            } catch let error as HTTPError {
                XCTAssertTrue(error.description.contains("larger than"), "\(path): \(error)")
            }
        }
    }

    func testANameBeginningWith127IsNotLoopback() {
        let client = HTTPClient(configuration: HTTPClient.Configuration())
        XCTAssertFalse(client.allowsPlainHTTP(host: "127.evil.example"))
        XCTAssertFalse(client.allowsPlainHTTP(host: "127.0.0.1.evil.example:5000"))
        XCTAssertTrue(client.allowsPlainHTTP(host: "127.0.0.1:5000"))
        XCTAssertTrue(client.allowsPlainHTTP(host: "127.5.6.7"))
        XCTAssertTrue(client.allowsPlainHTTP(host: "localhost:5000"))
        XCTAssertTrue(client.allowsPlainHTTP(host: "[::1]:5000"))
        XCTAssertFalse(client.allowsPlainHTTP(host: "10.0.0.1:5000"))
    }

    func testLoopbackMeansEveryResolvedAddressIsLoopback() {
        for (text, loopback) in [("127.0.0.1", true), ("127.255.0.9", true), ("::1", true), ("::ffff:127.0.0.1", true),
                                 ("10.0.0.1", false), ("0.0.0.0", false), ("::", false), ("fe80::1", false), ("::ffff:10.0.0.1", false)] {
            XCTAssertEqual(Loopback.parse(text)?.loopback, loopback, text)
        }
        XCTAssertNil(Loopback.parse("127.evil.example"))
        XCTAssertNil(Loopback.addresses(of: "127.evil.example"), "a name that does not resolve is not loopback")
        XCTAssertNil(Loopback.addresses(of: "10.0.0.1"))
        XCTAssertEqual(Loopback.addresses(of: "127.0.0.2"), ["127.0.0.2"])
        XCTAssertNotNil(Loopback.addresses(of: "localhost"))
        // A plain-HTTP request to an address or to localhost needs no pinning; one to a name would.
        let client = HTTPClient(configuration: HTTPClient.Configuration())
        XCTAssertNil(client.pinnedResolution(for: HTTPRequest(method: "GET", url: URL(string: "http://127.0.0.1:5000/v2/")!)))
        XCTAssertNil(client.pinnedResolution(for: HTTPRequest(method: "GET", url: URL(string: "http://localhost:5000/v2/")!)))
        XCTAssertNil(client.pinnedResolution(for: HTTPRequest(method: "GET", url: URL(string: "http://127.evil.example:5000/v2/")!)))
    }

    func testARefusedConnectionIsRetriedOnceAndQuickly() async throws {
        let (lines, client) = lines()
        let transport = RetryingTransport(client, policy: RetryPolicy(maxRetries: 4, initialDelay: 0.01, maxDelay: 0.05))
        do {
            _ = try await transport.send(HTTPRequest(method: "GET", url: URL(string: "https://127.0.0.1:1/v2/")!))
            XCTFail("port 1 answered")
        } catch let error as HTTPError {
            XCTAssertTrue(error.description.contains("cannot reach 127.0.0.1:1"), error.description)
        }
        XCTAssertEqual(lines.withLock { $0 }.filter { $0.hasPrefix("→") }.count, 2, "one try and one quick retry, whatever --retries says")
    }

    func testDebugRedactionIsByPositionNotLength() async throws {
        let signature = "9f2c1e0b7a", securityToken = "IQoJb3", password = "Zq9"
        let basic = "Basic " + Data("u:\(password)".utf8).base64EncodedString()
        let presigned = "https://bucket.s3.amazonaws.com/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Security-Token=\(securityToken)&X-Amz-Signature=\(signature)"
        let texts = [
            Redactor.redact(presigned),
            Redactor.redact("https://u:\(password)@registry.example/v2/"),
            Redactor.redact(#"{"username":"u","password":"\#(password)"}"#),
            Redactor.redact("GET /token?account=u&password=\(password)&x=1"),
            Redactor.redactHeader(name: "Authorization", value: basic),
            Redactor.redactHeader(name: "X-Amz-Security-Token", value: securityToken),
            Redactor.redactHeader(name: "X-aws-ec2-metadata-token", value: securityToken),
            Redactor.redactHeader(name: "X-Registry-Auth", value: password),
        ]
        for text in texts {
            for secret in [signature, securityToken, password, basic] {
                XCTAssertFalse(text.contains(secret), "'\(secret)' in: \(text)")
            }
        }
        XCTAssertTrue(texts[0].contains("X-Amz-Algorithm=AWS4-HMAC-SHA256") && texts[0].contains("X-Amz-Expires=900"), "only the secrets go: \(texts[0])")

        // And in the debug log of a request that carries them.
        let server = try Self.server()
        defer { server.stop() }
        let (lines, client) = lines()
        let url = URL(string: "http://127.0.0.1:\(server.port)/echo?X-Amz-Signature=\(signature)&X-Amz-Security-Token=\(securityToken)")!
        _ = try await client.send(HTTPRequest(method: "GET", url: url, headers: ["Authorization": basic, "X-aws-ec2-metadata-token": securityToken]))
        let log = lines.withLock { $0 }.joined(separator: "\n")
        XCTAssertTrue(log.contains("→ GET"), log)
        for secret in [signature, securityToken, password, basic] {
            XCTAssertFalse(log.contains(secret), "'\(secret)' in the debug log:\n\(log)")
        }
    }
}
