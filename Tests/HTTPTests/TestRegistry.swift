import Foundation
import XCTest

struct TestServerError: Error, CustomStringConvertible { var description: String }

/// The TLS test registry of `scripts/test-registry/start`, as `scripts/test` exports it
/// (`SLIPWAY_TEST_BASIC_REGISTRY`, `SLIPWAY_TEST_CERTS_DIR`): here only a TLS server with its
/// own CA. Without those variables the tests that need it skip, unless
/// `SLIPWAY_TEST_REQUIRE_REGISTRY=1` (CI), where they fail.
struct TestRegistry {
    /// `127.0.0.1:PORT`, serving TLS with the CA in `certsDirectory/basic/ca.crt`.
    let basic: String
    let certsDirectory: String

    static func get() throws -> TestRegistry {
        let env = ProcessInfo.processInfo.environment
        if let basic = env["SLIPWAY_TEST_BASIC_REGISTRY"], !basic.isEmpty, let certs = env["SLIPWAY_TEST_CERTS_DIR"], !certs.isEmpty {
            return TestRegistry(basic: basic, certsDirectory: certs)
        }
        let missing = TestServerError(description: "SLIPWAY_TEST_BASIC_REGISTRY and SLIPWAY_TEST_CERTS_DIR are not set (run scripts/test-registry/start)")
        if env["SLIPWAY_TEST_REQUIRE_REGISTRY"] == "1" { throw missing }
        throw XCTSkip("test registry unavailable: \(missing)")
    }
}
