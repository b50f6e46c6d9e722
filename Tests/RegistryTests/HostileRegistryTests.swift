import Foundation
import HTTP
import OCI
@testable import Registry
import TestSupport
import XCTest

/// Hostile registry answers (issue 6, section 4) through the real libcurl transport, from a
/// tiny Python HTTPS server with a self-signed certificate for 127.0.0.1: a manifest over
/// 4 MiB, deeply nested JSON, a wrong media type, Docker schema 1, a redirect loop, a redirect
/// to plain HTTP and a certificate for another name. Each is refused with a clear error.
final class HostileRegistryTests: XCTestCase {
    static let handler = """
        def do_GET(self):
            u = urlparse(self.path)
            oci = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
            if u.path == "/v2/": return self.send(200, b"{}")
            if u.path == "/v2/huge/manifests/1":
                return self.send(200, b'{"schemaVersion":2,"layers":[' + b'{"digest":"x"},' * 300000 + b'{}]}', oci)
            if u.path == "/v2/nested/manifests/1":
                return self.send(200, b'{"schemaVersion":2,"config":' + b"[" * 100000 + b"]" * 100000 + b"}", oci)
            if u.path == "/v2/wrongtype/manifests/1":
                return self.send(200, b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip"}',
                                 {"Content-Type": "text/html"})
            if u.path == "/v2/schema1/manifests/1":
                return self.send(200, b'{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}',
                                 {"Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws"})
            if u.path == "/loop": return self.send(302, b"", {"Location": "/loop"})
            if u.path == "/redirect": return self.send(307, b"", {"Location": parse_qs(u.query)["to"][0]})
            self.send(404, b"")
        """

    var directory: TemporaryDirectory!
    var server: BackgroundServer!
    var port: Int { server.port }
    var client: HTTPClient!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "slipway-hostile")
        let cert = directory.path + "/cert.pem", key = directory.path + "/key.pem"
        // Self-signed, valid for the IP address 127.0.0.1 only (so "localhost" is another name).
        try Run.tool("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                                 "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        server = try TestHTTPServer.start(Self.handler, tls: (cert, key))
        var configuration = HTTPClient.Configuration()
        configuration.caFile = cert
        configuration.allowLoopbackHTTP = false
        client = HTTPClient(configuration: configuration)
    }

    override func tearDown() {
        server?.stop()
        server = nil
        directory = nil
    }

    private func registry() -> RegistryClient {
        RegistryClient(registry: "127.0.0.1:\(port)", transport: client, credentials: AnonymousCredentials(), retry: .none)
    }

    private func refusal(file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void) async -> String {
        await thrownError((any Error).self, file: file, line: line, body).map { "\($0)" } ?? ""
    }

    func testServerWorksWithTheRightNameAndCA() async throws {
        let response = try await client.send(HTTPRequest(method: "GET", url: URL(string: "https://127.0.0.1:\(port)/v2/")!))
        XCTAssertEqual(response.status, 200)
    }

    func testManifestOverFourMiBIsRefused() async throws {
        let message = await refusal { _ = try await self.registry().fetchManifest("1", in: "huge") }
        XCTAssertTrue(message.contains("larger than \(ResponseSink.manifestLimit) bytes"), message)
    }

    func testDeeplyNestedJSONIsRefusedWithoutCrashing() async throws {
        let message = await refusal { _ = try await self.registry().fetchManifest("1", in: "nested") }
        XCTAssertTrue(message.contains("not valid JSON"), message)
        // The same bytes through the layout/config decoder: an error, not a stack overflow.
        let nested = Data(("{\"schemaVersion\":2,\"config\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}").utf8)
        XCTAssertThrowsError(try CanonicalJSON.decode(Manifest.self, from: nested, what: "manifest"))
        XCTAssertThrowsError(try CanonicalJSON.decode(Index.self, from: nested, what: "index"))
        XCTAssertThrowsError(try CanonicalJSON.decode(ImageConfig.self, from: nested, what: "config"))
    }

    func testWrongMediaTypeIsRefused() async throws {
        let message = await refusal { _ = try await self.registry().fetchManifest("1", in: "wrongtype") }
        XCTAssertTrue(message.contains("neither an image manifest nor an index"), message)
    }

    func testDockerSchema1IsRefused() async throws {
        let message = await refusal { _ = try await self.registry().fetchManifest("1", in: "schema1") }
        XCTAssertTrue(message.contains("Docker schema 1 manifests are not supported"), message)
    }

    func testRedirectLoopIsBounded() async throws {
        let message = await refusal { _ = try await self.client.send(HTTPRequest(method: "GET", url: URL(string: "https://127.0.0.1:\(self.port)/loop")!)) }
        XCTAssertTrue(message.contains("too many redirects"), message)
    }

    func testRedirectToPlainHTTPIsRefused() async throws {
        let message = await refusal {
            _ = try await self.client.send(HTTPRequest(method: "GET", url: URL(string: "https://127.0.0.1:\(self.port)/redirect?to=http://downgrade.slipway.invalid/v2/")!,
                                                       headers: ["Authorization": "Bearer secret-token"]))
        }
        XCTAssertEqual(message, RegistryError.insecureNotAllowed(host: "downgrade.slipway.invalid").description)
    }

    func testCertificateForAnotherNameIsRefused() async throws {
        // The same server and a trusted CA, but reached as "localhost": the name does not match.
        let message = await refusal { _ = try await self.client.send(HTTPRequest(method: "GET", url: URL(string: "https://localhost:\(self.port)/v2/")!)) }
        XCTAssertTrue(message.contains("cannot reach localhost:\(port)") && message.contains("certificate"), message)
        // And through the registry client: no fallback to plain HTTP.
        let viaRegistry = await refusal {
            _ = try await RegistryClient(registry: "localhost:\(self.port)", transport: self.client, credentials: AnonymousCredentials(), retry: .none).fetchManifest("1", in: "x")
        }
        XCTAssertTrue(viaRegistry.contains("certificate"), viaRegistry)
    }
}
