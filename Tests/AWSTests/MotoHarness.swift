import Foundation
import XCTest

/// moto_server (ECR, STS), the IMDSv2/ECS metadata server and the ECR-named test registry of
/// scripts/test-moto, started once per test process unless the test script already did
/// (SLIPWAY_TEST_MOTO_ENDPOINT set). Without moto_server the tests skip, unless
/// SLIPWAY_TEST_REQUIRE_REGISTRY=1.
enum MotoHarness {
    struct Settings {
        var moto: String
        var metadata: String
        var ecsToken: String
        var state: String
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static let settings: Result<Settings, Error> = Result {
        var env = ProcessInfo.processInfo.environment
        if env["SLIPWAY_TEST_MOTO_ENDPOINT"] == nil {
            let state = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-aws-moto-\(getpid())").path
            let script = repositoryRoot.path + "/scripts/test-moto/start"
            let status = system("bash '\(script)' '\(state)' > '\(state).env' 2> '\(state).err' < /dev/null")
            guard status == 0 else {
                let err = (try? String(contentsOfFile: state + ".err", encoding: .utf8)) ?? ""
                throw NSError(domain: "moto", code: 1, userInfo: [NSLocalizedDescriptionKey: "scripts/test-moto/start failed: \(err)"])
            }
            atexit {
                let state = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-aws-moto-\(getpid())").path
                _ = system("bash '\(MotoHarness.repositoryRoot.path)/scripts/test-moto/stop' '\(state)' >/dev/null 2>&1 < /dev/null")
                unlink(state + ".env")
                unlink(state + ".err")
            }
            let text = (try? String(contentsOfFile: state + ".env", encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                let pair = line.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { env[pair[0]] = pair[1] }
            }
        }
        guard let moto = env["SLIPWAY_TEST_MOTO_ENDPOINT"], let metadata = env["SLIPWAY_TEST_METADATA_ENDPOINT"],
              let token = env["SLIPWAY_TEST_ECS_TOKEN"], let state = env["SLIPWAY_TEST_MOTO_DIR"] else {
            throw NSError(domain: "moto", code: 2, userInfo: [NSLocalizedDescriptionKey: "moto settings missing"])
        }
        return Settings(moto: moto, metadata: metadata, ecsToken: token, state: state)
    }

    /// The settings, or a skip when moto is not installed (a failure when it is required).
    static func require() throws -> Settings {
        let required = ProcessInfo.processInfo.environment["SLIPWAY_TEST_REQUIRE_REGISTRY"] == "1"
        if !required && ProcessInfo.processInfo.environment["SLIPWAY_TEST_MOTO_ENDPOINT"] == nil && system("command -v moto_server >/dev/null 2>&1") != 0 {
            throw XCTSkip("moto_server is not installed (pip install 'moto[server]')")
        }
        return try settings.get()
    }
}
