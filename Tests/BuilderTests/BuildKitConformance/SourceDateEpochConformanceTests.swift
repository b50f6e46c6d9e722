import Builder
import Foundation
import TestSupport
import XCTest

/// Ports of moby/buildkit `dockerfile_source_date_epoch_test.go`'s Dockerfile-default tests.
/// BuildKit's `buildkit/rewritten-timestamp` layer annotation (the epoch the exporter
/// rewrote to) becomes the epoch the build used: the image's `created` and the result's
/// `sourceDateEpoch`, which slipway's exporters write file times with.
final class SourceDateEpochConformanceTests: XCTestCase {
    /// 2015-10-21T07:28:00Z, BuildKit's test time.
    private let epoch: Int64 = 1_445_412_480

    func testSourceDateEpochDockerfileDefault() async throws {
        let fixture = try BuildFixture(files: ["Dockerfile": "x"])
        let image = try await fixture.build("ARG SOURCE_DATE_EPOCH=\(epoch)\nFROM scratch\nCOPY Dockerfile .\n")
        XCTAssertEqual(try image.manifest().layers.count, 1)
        XCTAssertEqual(image.result.sourceDateEpoch, epoch)
        XCTAssertEqual(try image.config().created, "2015-10-21T07:28:00Z")
    }

    func testSourceDateEpochDockerfileDefaultOverride() async throws {
        let fixture = try BuildFixture(files: ["Dockerfile": "x"])
        let image = try await fixture.build("ARG SOURCE_DATE_EPOCH=1700000001\nFROM scratch\nCOPY Dockerfile .\n") {
            $0.buildArgs = ["SOURCE_DATE_EPOCH": "1700000002"]
        }
        XCTAssertEqual(image.result.sourceDateEpoch, 1_700_000_002)
        XCTAssertEqual(try image.config().created, "2023-11-14T22:13:22Z")
    }

    /// BuildKit resets with the exporter's `source-date-epoch=`; slipway's exporters use the
    /// build's one epoch, so the reset is an explicit epoch (`--source-date-epoch 0`), which
    /// the Dockerfile default must not override.
    func testSourceDateEpochDockerfileDefaultReset() async throws {
        let fixture = try BuildFixture(files: ["Dockerfile": "x"])
        let image = try await fixture.build("ARG SOURCE_DATE_EPOCH=\(epoch)\nFROM scratch\nCOPY Dockerfile .\n") {
            $0.sourceDateEpoch = 0
        }
        XCTAssertEqual(image.result.sourceDateEpoch, 0)
        XCTAssertEqual(try image.config().created, "1970-01-01T00:00:00Z")
    }

    func testSourceDateEpochDockerfileDefaultInvalid() async throws {
        let fixture = try BuildFixture(files: ["Dockerfile": "x"])
        let error = await fixture.failure("ARG SOURCE_DATE_EPOCH=not-a-timestamp\nFROM scratch\nCOPY Dockerfile .\n")
        XCTAssertTrue(error?.description.contains("invalid SOURCE_DATE_EPOCH: not-a-timestamp") == true, "\(String(describing: error))")
    }

    /// `SOURCE_DATE_EPOCH=context` with a local directory context: no time to take, so the
    /// epoch stays unset (slipway's default, 0).
    func testSourceDateEpochContextLocalUnset() async throws {
        let fixture = try BuildFixture(files: ["Dockerfile": "x"])
        let image = try await fixture.build("FROM scratch\nCOPY Dockerfile /\n") { $0.buildArgs = ["SOURCE_DATE_EPOCH": "context"] }
        XCTAssertEqual(try image.manifest().layers.count, 1)
        XCTAssertEqual(image.result.sourceDateEpoch, 0)
        XCTAssertEqual(try image.config().created, "1970-01-01T00:00:00Z")
    }

    func testSourceDateEpochStageInvalid() async throws {
        let fixture = try BuildFixture(files: ["Dockerfile": "x"])
        let error = await fixture.failure("""
            ARG SOURCE_DATE_EPOCH=mysource
            FROM scratch AS mysource
            COPY Dockerfile /Dockerfile
            FROM scratch
            """)
        XCTAssertTrue(error?.description.contains("SOURCE_DATE_EPOCH stage does not meet source-only requirements") == true,
                      "\(String(describing: error))")
    }
}
