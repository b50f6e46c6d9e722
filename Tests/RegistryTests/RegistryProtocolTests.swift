import Foundation
import HTTP
import OCI
@testable import Registry
import TestSupport
import XCTest

final class RegistryProtocolTests: XCTestCase {
    let registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    var scratch: TemporaryDirectory!
    var file: URL!
    var blob: Descriptor!
    let basic = StaticCredentials(["123456789012.dkr.ecr.us-east-1.amazonaws.com": Credential(username: "AWS", password: "ecr-password-123")])

    override func setUpWithError() throws {
        scratch = try TemporaryDirectory(prefix: "slipway-blob")
        file = scratch.url("blob")
        let data = Data((0..<2500).map { UInt8($0 % 251) })
        try data.write(to: file)
        blob = Descriptor(mediaType: MediaType.layerGzip, digest: Digest.sha256(of: data), size: Int64(data.count))
    }

    override func tearDown() { scratch = nil }

    func testECRStyleChunkedUpload() async throws {
        let digest = blob.digest.description
        let patchCount = Locked(0)
        let transport = FakeTransport { r in
            switch (r.method, r.path) {
            case ("GET", "/v2/"): return reply(r, 401, ["WWW-Authenticate": #"Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com""#])
            case ("POST", "/v2/app/blobs/uploads/"):
                return reply(r, 202, ["Location": "/v2/app/blobs/uploads/u1?_state=s0", "OCI-Chunk-Min-Length": "1200"])
            case ("PATCH", "/v2/app/blobs/uploads/u1"):
                // ECR: 201, and a Range that lags behind what was sent.
                let n = patchCount.withLock { $0 += 1; return $0 }
                return reply(r, 201, ["Location": "/v2/app/blobs/uploads/u1?_state=p\(n)", "Range": "0-0"])
            case ("PUT", "/v2/app/blobs/uploads/u1"): return reply(r, 201, ["Docker-Content-Digest": digest])
            default: return reply(r, 500)
            }
        }
        let client = RegistryClient(registry: registry, transport: transport, credentials: basic)
        let progress = Locked<[Int64]>([])
        try await client.uploadBlob(blob, from: file, to: "app", chunkSize: 1000) { bytes in progress.withLock { $0.append(bytes) } }

        let patches = transport.requests.filter { $0.method == "PATCH" }
        XCTAssertEqual(patches.map { $0.headers["Content-Range"] }, ["0-1199", "1200-2399", "2400-2499"], "offsets tracked here, chunk raised to OCI-Chunk-Min-Length")
        XCTAssertEqual(patches.map { $0.body.length }, [1200, 1200, 100])
        let put = try XCTUnwrap(transport.requests.last)
        XCTAssertEqual(put.url.query, "_state=p3&digest=\(digest)", "the latest Location, with the digest appended")
        XCTAssertEqual(put.body.length, 0)
        XCTAssertTrue(transport.requests.dropFirst().allSatisfy { $0.headers["Authorization"]?.hasPrefix("Basic ") == true })
        XCTAssertEqual(progress.withLock { $0 }.last, 2500)
    }

    func testSmallBlobIsOneMonolithicPut() async throws {
        let registry = self.registry
        let transport = FakeTransport { r in
            switch (r.method, r.path) {
            case ("GET", "/v2/"): return reply(r, 200)
            case ("POST", _): return reply(r, 202, ["Location": "https://\(registry)/v2/app/blobs/uploads/u2"])
            case ("PUT", _): return reply(r, 201)
            default: return reply(r, 500)
            }
        }
        try await RegistryClient(registry: registry, transport: transport, credentials: AnonymousCredentials()).uploadBlob(blob, from: file, to: "app")
        XCTAssertEqual(transport.lines(), ["GET /v2/", "POST /v2/app/blobs/uploads/", "PUT /v2/app/blobs/uploads/u2"])
        XCTAssertEqual(transport.requests.last?.body.length, 2500)
        XCTAssertNil(transport.requests.last?.headers["Authorization"], "anonymous registry")
    }

    func testBrokenUploadSessionRestartsWithNewPost() async throws {
        let patches = Locked(0)
        let transport = FakeTransport { r in
            switch (r.method, r.path) {
            case ("GET", "/v2/"): return reply(r, 200)
            case ("POST", _): return reply(r, 202, ["Location": "/v2/app/blobs/uploads/u3"])
            case ("PATCH", _):
                let n = patches.withLock { $0 += 1; return $0 }
                if n == 2 { return reply(r, 404, body: #"{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown to registry"}]}"#) }
                return reply(r, 202, ["Location": "/v2/app/blobs/uploads/u3"])
            case ("PUT", _): return reply(r, 201)
            default: return reply(r, 500)
            }
        }
        let retries = Locked<[String]>([])
        let client = RegistryClient(registry: registry, transport: transport, credentials: AnonymousCredentials(),
                                    retry: RetryPolicy(maxRetries: 2, initialDelay: 0.001, maxDelay: 0.01)) { what, _, _, _ in retries.withLock { $0.append(what) } }
        try await client.uploadBlob(blob, from: file, to: "app", chunkSize: 1000)
        XCTAssertEqual(transport.requests.filter { $0.method == "POST" }.count, 2, "a new session, not a resend on the broken one")
        XCTAssertEqual(transport.requests.filter { $0.method == "PATCH" }.map { $0.headers["Content-Range"]! }, ["0-999", "1000-1999", "0-999", "1000-1999", "2000-2499"])
        XCTAssertEqual(retries.withLock { $0 }.count, 1)
    }

    func testRetryAfterAndBoundedRetries() async throws {
        let heads = Locked(0)
        let transport = FakeTransport { r in
            if r.path == "/v2/" { return reply(r, 200) }
            let n = heads.withLock { $0 += 1; return $0 }
            return n < 3 ? reply(r, 429, ["Retry-After": "0"], body: #"{"errors":[{"code":"TOOMANYREQUESTS"}]}"#) : reply(r, 200, ["Content-Length": "2500"])
        }
        let client = RegistryClient(registry: registry, transport: transport, credentials: AnonymousCredentials(), retry: RetryPolicy(maxRetries: 3, initialDelay: 0.001, maxDelay: 0.01))
        let size = try await client.blobExists(blob.digest, in: "app")
        XCTAssertEqual(size, 2500)
        XCTAssertEqual(heads.withLock { $0 }, 3)

        let failing = FakeTransport { r in r.path == "/v2/" ? reply(r, 200) : reply(r, 503) }
        let bounded = RegistryClient(registry: registry, transport: failing, credentials: AnonymousCredentials(), retry: RetryPolicy(maxRetries: 2, initialDelay: 0.001, maxDelay: 0.01))
        do {
            _ = try await bounded.blobExists(blob.digest, in: "app")
            XCTFail("expected failure")
        } catch let error as RegistryError {
            XCTAssertEqual(error.httpStatus, 503)
        }
        XCTAssertEqual(failing.requests.count, 1 + 3, "ping + first attempt + 2 retries")
    }

    func testExpiredTokenIsRenewedOnceMidPush() async throws {
        let issued = Locked(0)
        let transport = FakeTransport { r in
            switch (r.url.host, r.path) {
            case ("auth.example", "/token"):
                let n = issued.withLock { $0 += 1; return $0 }
                return reply(r, 200, body: #"{"token":"token-\#(n)","expires_in":300}"#)
            case (_, "/v2/"):
                return reply(r, 401, ["WWW-Authenticate": #"Bearer realm="https://auth.example/token",service="reg""#])
            default:
                // The first token "expires" after its first use.
                if r.headers["Authorization"] == "Bearer token-2" { return reply(r, 201, ["Docker-Content-Digest": Digest.sha256(of: Data("{}".utf8)).description]) }
                return reply(r, 401, ["WWW-Authenticate": #"Bearer realm="https://auth.example/token",service="reg",error="invalid_token""#])
            }
        }
        let client = RegistryClient(registry: "reg.example", transport: transport, credentials: StaticCredentials(["reg.example": Credential(username: "u", password: "password-1")]))
        try await client.putManifest(Data("{}".utf8), mediaType: MediaType.imageManifest, reference: "v1", in: "app")
        XCTAssertEqual(issued.withLock { $0 }, 2)
        let tokenRequest = try XCTUnwrap(transport.requests.first { $0.url.host == "auth.example" })
        XCTAssertEqual(tokenRequest.url.query, "service=reg&scope=repository:app:pull,push&account=u")
        XCTAssertTrue(tokenRequest.headers["Authorization"]?.hasPrefix("Basic ") == true)

        // A token that is refused twice is an authentication error naming the registry.
        let never = FakeTransport { r in
            if r.url.host == "auth.example" { return reply(r, 200, body: #"{"token":"some-token"}"#) }
            return reply(r, 401, ["WWW-Authenticate": #"Bearer realm="https://auth.example/token",service="reg""#])
        }
        let refused = RegistryClient(registry: "reg.example", transport: never, credentials: AnonymousCredentials())
        do {
            try await refused.putManifest(Data("{}".utf8), mediaType: MediaType.imageManifest, reference: "v1", in: "app")
            XCTFail("expected failure")
        } catch let error as RegistryError {
            guard case .unauthorized(let r, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(r, "reg.example")
        }
    }

    func testAuthorizationStaysWithTheRegistryOrigin() async throws {
        let transport = FakeTransport { r in
            switch (r.method, r.url.host) {
            case ("GET", _): return reply(r, 401, ["WWW-Authenticate": #"Basic realm="x""#])
            case ("POST", _): return reply(r, 202, ["Location": "https://uploads.elsewhere.example/session/1"])
            case ("PUT", _): return reply(r, 201)
            default: return reply(r, 500)
            }
        }
        try await RegistryClient(registry: registry, transport: transport, credentials: basic).uploadBlob(blob, from: file, to: "app")
        let put = try XCTUnwrap(transport.requests.last)
        XCTAssertEqual(put.url.host, "uploads.elsewhere.example")
        XCTAssertNil(put.headers["Authorization"], "credentials are not sent to another host")
    }

    func testManifestErrorsAndDigestCheck() async throws {
        let transport = FakeTransport { r in
            switch r.path {
            case "/v2/": return reply(r, 200)
            case "/v2/missing/manifests/v1":
                return reply(r, 404, body: #"{"errors":[{"code":"NAME_UNKNOWN","message":"The repository with name 'missing' does not exist in the registry with id '123456789012'"}]}"#)
            case "/v2/immutable/manifests/v1":
                return reply(r, 400, body: #"{"errors":[{"code":"TAG_INVALID","message":"The image tag 'v1' already exists in the 'immutable' repository and cannot be overwritten because the repository is immutable."}]}"#)
            default:
                return reply(r, 201, ["Docker-Content-Digest": "sha256:" + String(repeating: "0", count: 64)])
            }
        }
        let client = RegistryClient(registry: registry, transport: transport, credentials: AnonymousCredentials())
        for (repository, code) in [("missing", "NAME_UNKNOWN"), ("immutable", "TAG_INVALID")] {
            do {
                try await client.putManifest(Data("{}".utf8), mediaType: MediaType.imageManifest, reference: "v1", in: repository)
                XCTFail("expected \(code)")
            } catch let error as RegistryError {
                XCTAssertEqual(error.codes, [code])
                XCTAssertTrue(error.description.hasPrefix("\(registry): PUT manifest \(repository):v1 failed with HTTP"), error.description)
            }
        }
        do {
            try await client.putManifest(Data("{}".utf8), mediaType: MediaType.imageManifest, reference: "v1", in: "other")
            XCTFail("expected a digest mismatch")
        } catch let error as RegistryError {
            guard case .digestMismatch = error else { return XCTFail("\(error)") }
        }
    }

    func testIdentityTokenRefreshGrant() async throws {
        let transport = FakeTransport { r in
            if r.url.host == "auth.example" { return reply(r, 200, body: #"{"access_token":"from-refresh","expires_in":60}"#) }
            if r.path == "/v2/" { return reply(r, 401, ["WWW-Authenticate": #"Bearer realm="https://auth.example/token",service="reg""#]) }
            return r.headers["Authorization"] == "Bearer from-refresh" ? reply(r, 404) : reply(r, 401)
        }
        let client = RegistryClient(registry: "reg.example", transport: transport, credentials: StaticCredentials(["reg.example": Credential(identityToken: "refresh-token-xyz")]))
        let exists = try await client.blobExists(blob.digest, in: "app")
        XCTAssertNil(exists)
        let tokenRequest = try XCTUnwrap(transport.requests.first { $0.url.host == "auth.example" })
        XCTAssertEqual(tokenRequest.method, "POST")
        guard case .data(let body) = tokenRequest.body else { return XCTFail("form body expected") }
        let form = String(decoding: body, as: UTF8.self)
        XCTAssertTrue(form.contains("grant_type=refresh_token"))
        XCTAssertTrue(form.contains("refresh_token=refresh-token-xyz"))
        XCTAssertTrue(form.contains("scope=repository%3Aapp%3Apull%2Cpush"))
    }
}
