import AWS
import Foundation
import XCTest
@testable import Publish

/// The values the command line hands the workflows: the one cache directory, sizes, and the
/// flags whose mistakes must read as usage errors.
final class SettingsTests: XCTestCase {
    func testCacheDirectoryIsTheOptionElseXDGElseHome() {
        let xdg = ["XDG_CACHE_HOME": "/xdg"]
        XCTAssertEqual(CacheLocation("/given", environment: xdg).path, "/given")
        XCTAssertEqual(CacheLocation(nil, environment: xdg).path, "/xdg/slipway")
        XCTAssertEqual(CacheLocation("", environment: xdg).path, "/xdg/slipway", "an empty --cache-dir means the default")
        XCTAssertEqual(CacheLocation(nil, environment: ["XDG_CACHE_HOME": ""]).path, NSHomeDirectory() + "/.cache/slipway")
        XCTAssertEqual(CacheLocation("/given").storeDirectory.path, "/given/store")
    }

    func testTheECRTokenCacheFollowsTheCacheDirectory() throws {
        var settings = RegistrySettings()
        settings.cache = CacheLocation("/somewhere/cache")
        let credentials = try settings.credentials(transport: settings.transport())
        XCTAssertEqual(credentials.authorizations.cacheDirectory?.path, "/somewhere/cache")
    }

    func testPruneOfAMissingCacheIsNil() throws {
        let location = CacheLocation(NSTemporaryDirectory() + "slipway-absent-\(UUID().uuidString)")
        XCTAssertNil(try location.prune(.all))
        XCTAssertFalse(FileManager.default.fileExists(atPath: location.path), "pruning creates nothing")
    }

    func testSizes() throws {
        XCTAssertEqual(try CacheLocation.parseSize("10GiB"), 10 << 30)
        XCTAssertEqual(try CacheLocation.parseSize("1.5k"), 1536)
        XCTAssertEqual(try CacheLocation.parseSize("2048"), 2048)
        XCTAssertThrowsError(try CacheLocation.parseSize("lots")) { error in
            XCTAssertEqual(error as? PublishError, .invalidArgument("'lots' is not a size: use e.g. 10GiB, 500MB or a number of bytes"))
        }
        XCTAssertEqual(try RegistrySettings.parseChunkSize("64MiB"), 64 << 20)
        XCTAssertEqual(try RegistrySettings.parseChunkSize("16M"), 16 << 20)
        XCTAssertEqual(try RegistrySettings.parseChunkSize("5242880"), 5 << 20)
        XCTAssertThrowsError(try RegistrySettings.parseChunkSize("4MiB")) { error in
            XCTAssertEqual(error as? PublishError, .invalidArgument("--chunk-size must be at least 5MiB (registries such as ECR reject smaller parts)"))
        }
        XCTAssertThrowsError(try RegistrySettings.parseChunkSize("big")) { error in
            XCTAssertEqual(error as? PublishError, .invalidArgument("--chunk-size 'big': use a size such as 5MiB or 16M"))
        }
    }

    func testRepositorySettings() throws {
        XCTAssertEqual(try RegistrySettings.parseRepositorySettings("IMMUTABLE,scan-on-push"),
                       ECRRepositorySettings(mutability: .immutable, scanOnPush: true))
        XCTAssertThrowsError(try RegistrySettings.parseRepositorySettings("sideways")) { error in
            guard case .invalidArgument(let message)? = error as? PublishError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("--create-repository: "), message)
        }
        let flags = try ECRTasks.repositorySettings(mutability: "immutable", scanOnPush: false, encryption: "kms", kmsKey: "k", tags: ["team=core"])
        XCTAssertEqual(flags, ECRRepositorySettings(mutability: .immutable, encryption: .kms(key: "k"), tags: [("team", "core")]))
        XCTAssertThrowsError(try ECRTasks.repositorySettings(mutability: nil, scanOnPush: false, encryption: nil, kmsKey: "k", tags: [])) { error in
            XCTAssertEqual(error as? PublishError, .invalidArgument("--kms-key needs --encryption KMS"))
        }
    }

    func testReferencesAndCopyDestinations() throws {
        XCTAssertThrowsError(try Publisher.references(["no spaces/allowed here"])) { error in
            guard case .invalidArgument? = error as? PublishError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try CopyWorkflow.destination("r.example/app", sourceTag: "1.2").description, "r.example/app:1.2")
        XCTAssertEqual(try CopyWorkflow.destination("r.example/app", sourceTag: nil).description, "r.example/app")
        XCTAssertEqual(try CopyWorkflow.destination("r.example:5000/app:9", sourceTag: "1.2").description, "r.example:5000/app:9")
        XCTAssertEqual(try BuildWorkflow.pushTargets([], pushing: false), [])
        XCTAssertThrowsError(try BuildWorkflow.pushTargets([], pushing: true)) { error in
            guard case .invalidArgument(let message)? = error as? PublishError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix("--push needs at least one -t/--tag"), message)
        }
    }
}
