import Builder
import Layers
import Foundation
import OCI
import XCTest
@testable import Publish

/// What a build reads before it starts: the Dockerfile and its ignore file as BuildKit finds
/// them, `--output` and `--build-context` syntax, and the typed flag values.
final class BuildInputTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws {
        work = NSTemporaryDirectory() + "slipway-publish-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work + "/ctx/deploy", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: work + "/" + path))
    }

    func testIgnoreFileBesideTheDockerfileWinsOverTheContexts() throws {
        try write("ctx/Dockerfile", "FROM scratch\n")
        try write("ctx/.dockerignore", "context-rule\n")
        try write("ctx/deploy/Dockerfile", "FROM scratch\nCOPY . /\n")
        try write("ctx/deploy/Dockerfile.dockerignore", "beside-rule\n")
        let plain = try DockerfileSource.read(file: nil, contextDirectory: work + "/ctx")
        XCTAssertEqual(plain.name, "Dockerfile")
        XCTAssertEqual(plain.ignorePatterns, ["context-rule"])
        let deploy = try DockerfileSource.read(file: work + "/ctx/deploy/Dockerfile", contextDirectory: work + "/ctx")
        XCTAssertEqual(deploy.name, work + "/ctx/deploy/Dockerfile")
        XCTAssertEqual(deploy.ignorePatterns, ["beside-rule"])
        let stdin = try DockerfileSource.read(file: "-", contextDirectory: work + "/ctx", standardInput: { Data("FROM scratch\n".utf8) })
        XCTAssertEqual(stdin.name, "-")
        XCTAssertEqual(stdin.ignorePatterns, ["context-rule"], "a Dockerfile on stdin uses the context's ignore file")
    }

    func testMissingDockerfileSaysWhatToDo() {
        XCTAssertThrowsError(try DockerfileSource.read(file: nil, contextDirectory: work + "/none")) { error in
            XCTAssertEqual("\(error)", "cannot read Dockerfile '\(work)/none/Dockerfile': no such file; pass one with -f")
        }
    }

    func testOutputAndContextSyntax() throws {
        XCTAssertEqual(try OutputSpec.parse("type=oci,dest=a.tar"), .oci(destination: "a.tar", tar: true))
        XCTAssertEqual(try OutputSpec.parse("type=oci,dest=out,tar=false"), .oci(destination: "out", tar: false))
        XCTAssertEqual(try OutputSpec.parse("dist"), .local(destination: "dist"))
        XCTAssertNil(try OutputSpec.parse("type=registry"), "nil means push")
        XCTAssertNil(try OutputSpec.parse("type=image,push=true"))
        XCTAssertThrowsError(try OutputSpec.parse("type=tar,dest=x")) { error in
            guard case .invalidArgument? = error as? PublishError else { return XCTFail("\(error)") }
        }
        let (name, context) = try NamedContextSpec.parse("base=oci-layout://./layout:1.0")
        XCTAssertEqual(name, "base")
        XCTAssertEqual(context, .ociLayout(path: "./layout", reference: "1.0"))
        XCTAssertEqual(try NamedContextSpec.parse("src=../src").1, .directory("../src"))
    }

    func testTypedFlagValues() throws {
        var job = BuildJob(platforms: ["linux/amd64, linux/arm64", "linux/arm/v7"], compression: "zstd")
        XCTAssertEqual(try job.parsePlatforms().map(\.description), ["linux/amd64", "linux/arm64", "linux/arm/v7"])
        XCTAssertEqual(try job.parseCompression(), .zstd(level: 3))
        job.compressionLevel = 20
        XCTAssertThrowsError(try job.parseCompression())
        job.environment = ["SOURCE_DATE_EPOCH": "1700000000"]
        XCTAssertEqual(try job.parseSourceDateEpoch(), 1_700_000_000)
        job.sourceDateEpoch = 5
        XCTAssertEqual(try job.parseSourceDateEpoch(), 5, "the flag wins over the environment")
        job = BuildJob()
        job.environment = ["SOURCE_DATE_EPOCH": "yesterday"]
        XCTAssertThrowsError(try job.parseSourceDateEpoch()) { error in
            XCTAssertEqual("\(error)", "SOURCE_DATE_EPOCH='yesterday' is not a non-negative integer")
        }
        XCTAssertEqual(try BuildJob.keyValues(["A=1", "HOME", "UNSET"], flag: "--build-arg", environment: ["HOME": "/h"]), ["A": "1", "HOME": "/h"])
        XCTAssertThrowsError(try BuildJob.keyValues(["A"], flag: "--label", environment: nil)) { error in
            XCTAssertEqual("\(error)", "--label 'A': expected KEY=VALUE")
        }
    }
}
