import Foundation
import TestSupport
import HTTP
import OCI
@testable import Registry
import XCTest

/// Issue 10, item 9: one layer retries each request. Before, the `/v2/` ping retried inside
/// every operation's retry, the HEAD that resolves a tag was followed by a GET that retried all
/// over again, and a chunk's resumes ran inside the upload's restarts: `--retries 1` sent 12
/// requests to a closed port, the default 60, in 65 s. A refused connection or a failed DNS
/// lookup is now retried once, quickly, and the error names the host and the image.
final class RetryLayeringTests: XCTestCase {
    var root: URL!
    var store: ContentStore!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-retries-\(UUID().uuidString)")
        store = try ContentStore(root: root.appendingPathComponent("store"))
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: root)
    }

    private func fast(_ retries: Int) -> RetryPolicy { RetryPolicy(maxRetries: retries, initialDelay: 0.01, maxDelay: 0.05) }

    private func failure(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            XCTFail("expected a failure")
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testClosedPortIsAskedAtMostTwiceAndTheErrorNamesHostAndImage() async throws {
        let reference = try ImageReference(parsing: "127.0.0.1:1/x:1")
        for retries in [0, 1, 4, 10] {
            let counter = RequestCounter()
            let puller = ImagePuller(store: store, transport: counter.client(), credentials: AnonymousCredentials(), options: PullOptions(retry: fast(retries)))
            let message = await failure { _ = try await puller.resolve(reference, platform: Platform(os: "linux", architecture: "amd64")) }
            XCTAssertLessThanOrEqual(counter.requests.count, min(retries + 1, 2), "--retries \(retries): \(counter.requests)")
            XCTAssertTrue(message.contains("cannot reach 127.0.0.1:1"), message)
            XCTAssertTrue(message.contains("127.0.0.1:1/x:1"), "the image is named: \(message)")
        }
    }

    func testTransientAnswersAreRetriedByOneLayer() async throws {
        // Every answer a 503: the ping is part of the operation, not retried on its own, and a
        // failed HEAD is not followed by a GET that retries it all again.
        let unavailable = FakeTransport { r in reply(r, 503) }
        let puller = ImagePuller(store: store, transport: unavailable, credentials: AnonymousCredentials(), options: PullOptions(retry: fast(2)))
        let message = await failure { _ = try await puller.resolveRoot(try ImageReference(parsing: "registry.example/app:1")) }
        XCTAssertEqual(unavailable.lines(), ["GET /v2/", "GET /v2/", "GET /v2/"], "first attempt + 2 retries, once")
        XCTAssertTrue(message.contains("HTTP 503"), message)

        // The ping answers; the manifest does not: HEAD three times, and no GET.
        let manifests = FakeTransport { r in r.path == "/v2/" ? reply(r, 200) : reply(r, 503) }
        let second = ImagePuller(store: store, transport: manifests, credentials: AnonymousCredentials(), options: PullOptions(retry: fast(2)))
        _ = await failure { _ = try await second.resolveRoot(try ImageReference(parsing: "registry.example/app:1")) }
        XCTAssertEqual(manifests.lines(), ["GET /v2/", "HEAD /v2/app/manifests/1", "HEAD /v2/app/manifests/1", "HEAD /v2/app/manifests/1"])
    }

    func testChunkResumesAndRestartsShareOneRetryBudget() async throws {
        let file = root.appendingPathComponent("blob")
        let data = Data((0..<2500).map { UInt8($0 % 251) })
        try data.write(to: file)
        let blob = Descriptor(mediaType: MediaType.layerGzip, digest: Digest.sha256(of: data), size: Int64(data.count))
        // Every PATCH fails transiently; the session says it holds nothing, so each failure
        // resumes at the same offset.
        let transport = FakeTransport { r in
            switch (r.method, r.path) {
            case ("GET", "/v2/"): return reply(r, 200)
            case ("POST", _): return reply(r, 202, ["Location": "/v2/app/blobs/uploads/u1"])
            case ("PATCH", _): return reply(r, 503)
            case ("GET", _): return reply(r, 204, ["Range": "0-0", "Location": "/v2/app/blobs/uploads/u1"])
            default: return reply(r, 500)
            }
        }
        let client = RegistryClient(registry: "registry.example", transport: transport, credentials: AnonymousCredentials(), retry: fast(2))
        _ = await failure { try await client.uploadBlob(blob, from: file, to: "app", chunkSize: 1000) }
        XCTAssertEqual(transport.requests.filter { $0.method == "PATCH" }.count, 3, "first attempt + 2 retries: \(transport.lines())")

        // Progress starts the count over: a PATCH failing every other time still completes
        // with one retry allowed.
        let patches = Locked(0)
        let flaky = FakeTransport { r in
            switch (r.method, r.path) {
            case ("GET", "/v2/"): return reply(r, 200)
            case ("POST", _): return reply(r, 202, ["Location": "/v2/app/blobs/uploads/u1"])
            case ("PATCH", _):
                let n = patches.withLock { $0 += 1; return $0 }
                return n % 2 == 1 ? reply(r, 503) : reply(r, 202, ["Location": "/v2/app/blobs/uploads/u1"])
            case ("GET", _):
                let held = patches.withLock { $0 } / 2 * 1000
                return reply(r, 204, ["Range": held == 0 ? "0-0" : "0-\(held - 1)", "Location": "/v2/app/blobs/uploads/u1"])
            case ("PUT", _): return reply(r, 201)
            default: return reply(r, 500)
            }
        }
        try await RegistryClient(registry: "registry.example", transport: flaky, credentials: AnonymousCredentials(), retry: fast(1))
            .uploadBlob(blob, from: file, to: "app", chunkSize: 1000)
        XCTAssertEqual(flaky.requests.filter { $0.method == "PATCH" }.map { $0.headers["Content-Range"] ?? "" },
                       ["0-999", "0-999", "1000-1999", "1000-1999", "2000-2499", "2000-2499"])
    }
}
