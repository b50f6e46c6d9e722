import Foundation
import TestSupport
import HTTP
import OCI
@testable import Registry
import XCTest

/// Issue 10, item 3: what a registry sends is bounded by what was asked for. A blob or config
/// stops at its descriptor's size (before, a 100-byte layer streamed as 32 MiB was written whole
/// to the cache before the digest check failed); a manifest at its descriptor's size and never
/// beyond 4 MiB; a token answer at 1 MiB.
final class BoundedDownloadTests: XCTestCase {
    static let handler = #"""
    def handle(h, method, path, query):
        if path == "/token": return h.stream(200, 8 << 20, {"Content-Type": "application/json"})
        if h.headers.get("Host", "").startswith("localhost"):
            # Reached as localhost: a registry whose token service answers without end.
            return h.send(401, b"", {"WWW-Authenticate": 'Bearer realm="http://127.0.0.1:%d/token",service="t"' % h.server.server_address[1]})
        if path == "/v2/": return h.send(200, b"{}")
        if path.startswith("/v2/declared/blobs/"): return h.stream(200, 32 << 20)
        if path.startswith("/v2/endless/blobs/"): return h.stream(200, 64 << 20, declare=False)
        if "/manifests/" in path: return h.stream(200, 3 << 20, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        h.send(404)
    """#

    var server: ScriptedServer!
    var directory: URL!

    override func setUpWithError() throws {
        server = try ScriptedServer(handler: Self.handler)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-bounded-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        server?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    private var registry: String { "127.0.0.1:\(server.port)" }

    private func client() -> RegistryClient {
        RegistryClient(registry: registry, transport: HTTPClient(configuration: HTTPClient.Configuration()), credentials: AnonymousCredentials(), retry: .none)
    }

    private func failure(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            XCTFail("accepted")
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testBlobLongerThanItsDescriptorStopsAtTheDeclaredSize() async throws {
        // The first 100 bytes are exactly the declared content: a prefix must not pass either.
        let declared = Data(repeating: UInt8(ascii: "x"), count: 100)
        let descriptor = Descriptor(mediaType: MediaType.layerGzip, digest: Digest.sha256(of: declared), size: 100)
        for repository in ["declared", "endless"] {
            let file = directory.appendingPathComponent(repository)
            let message = await failure { try await self.client().downloadBlob(descriptor, from: repository, to: file) }
            let written = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0
            XCTAssertLessThanOrEqual(written, 101, "\(repository): \(written) bytes written for a 100-byte blob")
            XCTAssertTrue(message.contains("more than the 100 bytes"), message)
            XCTAssertTrue(message.contains(descriptor.digest.description), message)
        }
    }

    func testManifestLongerThanItsDescriptorStopsAtTheDeclaredSize() async throws {
        let store = try ContentStore(root: directory.appendingPathComponent("store"))
        let puller = ImagePuller(store: store, transport: HTTPClient(configuration: HTTPClient.Configuration()), credentials: AnonymousCredentials(),
                                 options: PullOptions(retry: .none))
        let reference = try ImageReference(parsing: "\(registry)/app:1")
        let descriptor = Descriptor(mediaType: MediaType.imageManifest, digest: Digest.sha256(of: Data("{}".utf8)), size: 200)
        let message = await failure { _ = try await puller.manifest(descriptor, from: reference) }
        XCTAssertTrue(message.contains("more than the 200 bytes"), message)
        // Without a size (a tag), the 4 MiB bound still holds for a 3 MiB answer: it is read,
        // and refused as not JSON; see HostileRegistryTests for one over 4 MiB.
    }

    func testTokenAnswerIsBounded() async throws {
        let tokened = RegistryClient(registry: "localhost:\(server.port)", transport: HTTPClient(configuration: HTTPClient.Configuration()),
                                     credentials: AnonymousCredentials(), retry: .none)
        let message = await failure { _ = try await tokened.fetchManifest("1", in: "app") }
        XCTAssertTrue(message.contains("larger than \(1 << 20) bytes"), message)
    }
}
