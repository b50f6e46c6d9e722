import Foundation
import XCTest
@testable import Publish

/// `--cache-from` / `--cache-to` in buildx's syntax: what is accepted, and the errors (naming
/// the known types and keys) for what is not.
final class CacheSpecTests: XCTestCase {
    func testAcceptedSpellings() throws {
        let rows: [(String, CacheSpec.Direction, CacheSpec)] = [
            ("type=registry,ref=registry.example.com/app:buildcache", .from, .registry(ref: "registry.example.com/app:buildcache", options: .init())),
            ("registry.example.com/app:buildcache", .from, .registry(ref: "registry.example.com/app:buildcache", options: .init())),
            ("type=registry,ref=registry.example.com/app:buildcache,mode=max,image-manifest=true,oci-mediatypes=true", .to,
             .registry(ref: "registry.example.com/app:buildcache", options: .init())),
            ("type=registry,ref=registry.example.com/app:c,ignore-error=true", .to, .registry(ref: "registry.example.com/app:c", options: .init(ignoreError: true))),
            ("type=local,src=/tmp/cache", .from, .local(directory: "/tmp/cache", options: .init())),
            ("type=local,dest=/tmp/cache,mode=min", .to, .local(directory: "/tmp/cache", options: .init())),
            ("type=local,dest=/tmp/cache,tag=api-1.2_x", .to, .local(directory: "/tmp/cache", options: .init(tag: "api-1.2_x"))),
            ("type=local,src=/tmp/cache,tag=web", .from, .local(directory: "/tmp/cache", options: .init(tag: "web"))),
            ("type=inline", .to, .inline),
        ]
        for (text, direction, expected) in rows {
            XCTAssertEqual(try CacheSpec.parse(text, direction), expected, text)
        }
    }

    func testRefusalsNameWhatIsKnown() {
        let rows: [(String, CacheSpec.Direction, String)] = [
            ("type=gha", .to, "--cache-to type=gha is not supported; slipway knows type=registry,ref=REPO:TAG, type=local,src|dest=DIR or type=inline (in GitHub Actions, restore a directory with actions/cache and use type=local)"),
            ("type=s3,bucket=b", .from, "--cache-from type=s3 is not supported; slipway knows type=registry,ref=REPO:TAG, type=local,src|dest=DIR or type=inline"),
            ("type=inline", .from, "--cache-from type=inline is not a source: import an inline cache with --cache-from type=registry,ref=IMAGE"),
            ("type=registry,ref=r.example.com/a:c,compression=zstd", .to, "--cache-to type=registry: unknown key 'compression'; known keys: type, ref, mode, ignore-error, image-manifest, oci-mediatypes"),
            ("type=registry,ref=r.example.com/a:c,mode=all", .to, "--cache-to mode=all: use mode=min or mode=max"),
            ("type=registry", .to, "--cache-to type=registry needs ref=REPO:TAG, e.g. type=registry,ref=registry.example.com/app:buildcache"),
            ("type=local,dest=/x", .from, "--cache-from type=local: unknown key 'dest'; known keys: type, src, tag"),
            ("type=local,dest=/x,tag=../up", .to, "--cache-to tag=../up: use letters, digits, '.', '_' and '-' (at most 128)"),
            ("type=local,src=/x,tag=a/b", .from, "--cache-from tag=a/b: use letters, digits, '.', '_' and '-' (at most 128)"),
            ("type=local", .to, "--cache-to type=local needs dest=DIR"),
            ("type=local,dest=/x,ignore-error=maybe", .to, "--cache-to ignore-error=maybe: use true or false"),
            ("ref=r.example.com/a:c", .from, "--cache-from 'ref=r.example.com/a:c': missing type=; slipway knows type=registry,ref=REPO:TAG, type=local,src|dest=DIR or type=inline"),
            ("registry.example.com/app:c", .to, "--cache-to 'registry.example.com/app:c': expected key=value pairs such as type=registry,ref=REPO:TAG, type=local,src|dest=DIR or type=inline"),
        ]
        for (text, direction, message) in rows {
            XCTAssertThrowsError(try CacheSpec.parse(text, direction), text) { error in
                XCTAssertEqual("\(error)", message, text)
            }
        }
        XCTAssertThrowsError(try CacheSpec.parse("type=registry,ref=UPPER/Case:x", .from)) { error in
            XCTAssertTrue("\(error)".hasPrefix("--cache-from ref 'UPPER/Case:x': "), "\(error)")
        }
    }
}
