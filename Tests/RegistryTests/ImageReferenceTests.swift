import OCI
@testable import Registry
import XCTest

final class ImageReferenceTests: XCTestCase {
    let hex = String(repeating: "a", count: 64)

    func testDockerHubNormalisation() throws {
        let cases: [(String, String)] = [
            ("alpine", "docker.io/library/alpine:latest"),
            ("alpine:3.19", "docker.io/library/alpine:3.19"),
            ("library/alpine", "docker.io/library/alpine:latest"),
            ("docker.io/alpine", "docker.io/library/alpine:latest"),
            ("index.docker.io/library/alpine:edge", "docker.io/library/alpine:edge"),
            ("user/app", "docker.io/user/app:latest"),
            ("ghcr.io/org/team/app:v1.2.3", "ghcr.io/org/team/app:v1.2.3"),
            ("localhost/app", "localhost/app:latest"),
            ("localhost:5000/app:dev", "localhost:5000/app:dev"),
            ("127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b:latest"),
            ("[::1]:5000/app", "[::1]:5000/app:latest"),
            ("registry.example.com:443/my_app__x/a-b.c---d", "registry.example.com:443/my_app__x/a-b.c---d:latest"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(try ImageReference(parsing: input).description, expected, input)
        }
    }

    func testParts() throws {
        let r = try ImageReference(parsing: "localhost:5000/team/app:v1")
        XCTAssertEqual(r.registry, "localhost:5000")
        XCTAssertEqual(r.repository, "team/app")
        XCTAssertEqual(r.tag, "v1")
        XCTAssertNil(r.digest)
        XCTAssertEqual(r.name, "localhost:5000/team/app")
        XCTAssertEqual(r.apiHost, "localhost:5000")
        XCTAssertEqual(try ImageReference(parsing: "alpine").apiHost, "registry-1.docker.io")
    }

    func testDigests() throws {
        let pinned = try ImageReference(parsing: "alpine@sha256:\(hex)")
        XCTAssertNil(pinned.tag, "a digest-only reference gets no default tag")
        XCTAssertEqual(pinned.digest?.hex, hex)
        XCTAssertEqual(pinned.manifestReference, "sha256:\(hex)")
        XCTAssertEqual(pinned.description, "docker.io/library/alpine@sha256:\(hex)")

        let both = try ImageReference(parsing: "host:5000/app:v1@sha256:\(hex)")
        XCTAssertEqual(both.tag, "v1")
        XCTAssertEqual(both.registry, "host:5000")
        XCTAssertEqual(both.manifestReference, "sha256:\(hex)")

        let sha512 = try ImageReference(parsing: "app@sha512:\(String(repeating: "b", count: 128))")
        XCTAssertEqual(sha512.digest?.algorithm, .sha512)
    }

    func testInvalidReferencesSayWhy() {
        let cases: [(String, String)] = [
            ("", "empty"),
            ("Alpine", "lowercase"),
            ("docker.io/Library/alpine", "lowercase"),
            ("app:", "invalid tag"),
            ("app:-bad", "invalid tag"),
            ("app:\(String(repeating: "t", count: 129))", "invalid tag"),
            ("app@sha256:short", "invalid digest"),
            ("app@md5:abc", "invalid digest"),
            ("a//b", "path component"),
            ("a/b_", "path component"),
            ("a/.b", "path component"),
            ("a/b...c", "path component"),
            ("host:99999/app", "registry host"),
            ("-host.com/app", "registry host"),
            ("app name", "whitespace"),
            ("localhost:5000/", "missing repository"),
            ("\(String(repeating: "a", count: 256))", "longer than 255"),
        ]
        for (input, reason) in cases {
            XCTAssertThrowsError(try ImageReference(parsing: input), input) { error in
                guard case RegistryError.invalidReference(let text, let why) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(text, input)
                XCTAssertTrue(why.contains(reason), "\(input): \(why)")
                XCTAssertTrue("\(error)".hasPrefix("invalid image reference '"), "\(error)")
            }
        }
    }

    func testWithTagAndDigest() throws {
        let r = try ImageReference(parsing: "ghcr.io/o/app:v1")
        let d = try Digest(parsing: "sha256:\(hex)")
        XCTAssertEqual(r.with(tag: "v2").description, "ghcr.io/o/app:v2")
        XCTAssertEqual(r.with(tag: "v1", digest: d).description, "ghcr.io/o/app:v1@sha256:\(hex)")
    }
}
