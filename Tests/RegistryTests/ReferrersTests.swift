import Foundation
import HTTP
import OCI
@testable import Registry
import TestSupport
import XCTest

/// OCI 1.1 referrers (distribution-spec "Pushing Manifests with Subject" and "Listing
/// Referrers"): a registry that answers `OCI-Subject` indexes referrers itself; without it
/// the client keeps the `sha256-<hex>` tag index, adding each referrer once and keeping what
/// others put there. (The fallback against a real registry: EndToEndTests AttestationRegistryTests.)
final class ReferrersTests: XCTestCase {
    let subject = Digest.sha256(of: Data("image".utf8))

    private func referrer(_ artifactType: String = MediaType.inToto) throws -> (data: Data, descriptor: Descriptor) {
        let config = Descriptor(mediaType: "application/vnd.oci.empty.v1+json", digest: Digest.sha256(of: Data("{}".utf8)), size: 2)
        let manifest = Manifest(config: config, layers: [], subject: Descriptor(mediaType: MediaType.imageManifest, digest: subject, size: 5),
                                artifactType: artifactType)
        let data = try CanonicalJSON.encode(manifest)
        var descriptor = Descriptor(mediaType: MediaType.imageManifest, digest: Digest.sha256(of: data), size: Int64(data.count))
        descriptor.artifactType = artifactType
        return (data, descriptor)
    }

    func testARegistryWithTheReferrersAPIIsLeftToIndexAndIsListedFilteredByArtifactType() async throws {
        let (data, descriptor) = try referrer()
        let other = try referrer("application/vnd.dev.cosign.simplesigning.v1+json").descriptor
        let listing = try CanonicalJSON.encode(Index(manifests: [descriptor, other]))
        let subject = self.subject
        let transport = FakeTransport { r in
            switch (r.method, r.path) {
            case ("GET", "/v2/"): return reply(r, 200)
            case ("PUT", "/v2/app/manifests/\(descriptor.digest)"):
                return reply(r, 201, ["Docker-Content-Digest": descriptor.digest.description, "OCI-Subject": subject.description])
            case ("GET", "/v2/app/referrers/\(subject)"):
                var response = reply(r, 200, ["Content-Type": MediaType.imageIndex])
                response.body = listing
                return response
            default: return reply(r, 404)
            }
        }
        let client = RegistryClient(registry: "registry.example.com", transport: transport, credentials: StaticCredentials([:]))
        let indexing = try await client.pushReferrer(data, descriptor: descriptor, subject: subject, in: "app")
        XCTAssertEqual(indexing, .referrersAPI)
        XCTAssertFalse(transport.lines().contains { $0.contains("sha256-") }, "no fallback tag: \(transport.lines())")
        let found = try await client.referrers(of: subject, in: "app", artifactType: MediaType.inToto)
        XCTAssertEqual(found.map(\.digest), [descriptor.digest])
        let all = try await client.referrers(of: subject, in: "app")
        XCTAssertEqual(all.count, 2)
    }

    func testWithoutTheAPITheFallbackTagIndexGainsTheReferrerOnceAndKeepsOthers() async throws {
        let (data, descriptor) = try referrer()
        let foreign = try referrer("application/vnd.dev.cosign.simplesigning.v1+json").descriptor
        let tag = RegistryClient.referrersFallbackTag(for: subject)
        XCTAssertEqual(tag, "sha256-" + subject.hex)
        let stored = Locked<Data?>(try CanonicalJSON.encode(Index(manifests: [foreign])))
        let transport = FakeTransport { r in
            switch (r.method, r.path) {
            case ("GET", "/v2/"): return reply(r, 200)
            case ("PUT", "/v2/app/manifests/\(descriptor.digest)"): return reply(r, 201, ["Docker-Content-Digest": descriptor.digest.description])
            case ("HEAD", "/v2/app/manifests/\(tag)"), ("GET", "/v2/app/manifests/\(tag)"):
                guard let body = stored.withLock({ $0 }) else { return reply(r, 404) }
                var response = reply(r, 200, ["Content-Type": MediaType.imageIndex, "Docker-Content-Digest": Digest.sha256(of: body).description,
                                              "Content-Length": "\(body.count)"])
                if r.method == "GET" { response.body = body }
                return response
            case ("PUT", "/v2/app/manifests/\(tag)"):
                guard case .data(let body) = r.body else { return reply(r, 400) }
                stored.withLock { $0 = body }
                return reply(r, 201, ["Docker-Content-Digest": Digest.sha256(of: body).description])
            default: return reply(r, 404)
            }
        }
        let client = RegistryClient(registry: "registry.example.com", transport: transport, credentials: StaticCredentials([:]))
        let first = try await client.pushReferrer(data, descriptor: descriptor, subject: subject, in: "app")
        XCTAssertEqual(first, .fallbackTag(tag))
        _ = try await client.pushReferrer(data, descriptor: descriptor, subject: subject, in: "app")
        let index = try CanonicalJSON.decode(Index.self, from: try XCTUnwrap(stored.withLock { $0 }), what: "fallback")
        XCTAssertEqual(index.manifests.map(\.digest), [foreign.digest, descriptor.digest], "kept, then added once")
        XCTAssertEqual(index.manifests.last?.artifactType, MediaType.inToto)
        XCTAssertEqual(transport.lines().filter { $0 == "PUT /v2/app/manifests/\(tag)" }.count, 1, "the second push changes nothing")
        let found = try await client.referrers(of: subject, in: "app", artifactType: MediaType.inToto)
        XCTAssertEqual(found.map(\.digest), [descriptor.digest], "read through the fallback after the API's 404")
    }
}

/// The `Link` header of a referrers page (RFC 8288), as `RegistryClient` follows it.
final class ReferrersLinkTests: XCTestCase {
    let page = URL(string: "https://registry.example.com:5000/v2/app/referrers/sha256:abc")!

    private func next(_ header: String) throws -> String? {
        try RegistryClient.nextPage(header, after: page, registry: "registry.example.com:5000", what: "GET referrers")?.absoluteString
    }

    func testRelativeAbsoluteAndSeveralLinksResolveOnTheSameRegistry() throws {
        XCTAssertEqual(try next(#"</v2/app/referrers/sha256:abc?n=1&last=sha256:def>; rel="next""#),
                       "https://registry.example.com:5000/v2/app/referrers/sha256:abc?n=1&last=sha256:def")
        XCTAssertEqual(try next(#"<https://registry.example.com:5000/v2/app/referrers/sha256:abc?last=x>; rel=next"#),
                       "https://registry.example.com:5000/v2/app/referrers/sha256:abc?last=x")
        XCTAssertEqual(try next(#"</v2/app/referrers/sha256:abc?p=0>; rel="prev", </v2/app/referrers/sha256:abc?p=2>; rel="next""#),
                       "https://registry.example.com:5000/v2/app/referrers/sha256:abc?p=2", "the next one of several links")
        XCTAssertEqual(try next(#"</x?p=2>; title="t"; REL="Next""#), "https://registry.example.com:5000/x?p=2", "relation names are case-insensitive")
        XCTAssertNil(try next(#"</v2/app/referrers/sha256:abc?p=0>; rel="prev""#), "no next page")
        XCTAssertNil(try next("garbage"))
    }

    func testLinksToAnotherHostSchemeOrPortAreRefused() {
        for header in [#"<https://elsewhere.example.com/v2/app/referrers/sha256:abc>; rel="next""#,
                       #"<http://registry.example.com:5000/v2/app/referrers/sha256:abc>; rel="next""#,
                       #"<https://registry.example.com:5001/v2/app/referrers/sha256:abc>; rel="next""#] {
            XCTAssertThrowsError(try next(header), header) { error in
                XCTAssertTrue("\(error)".contains("leaves the registry"), "\(error)")
            }
        }
    }
}
