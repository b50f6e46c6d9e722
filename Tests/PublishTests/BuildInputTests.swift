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

    func testSymlinksLeavingTheirDirectoryAreRefusedForTheDockerfileAndIgnoreFiles() throws {
        try write("secret", "do-not-show\n")
        try write("ctx/deploy/Dockerfile", "FROM scratch\n")
        // The Dockerfile (read through Builder's `ContainedFile`).
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/Dockerfile", withDestinationPath: "../secret")
        XCTAssertThrowsError(try DockerfileSource.read(file: nil, contextDirectory: work + "/ctx")) { error in
            XCTAssertTrue("\(error)".contains("refusing Dockerfile") && "\(error)".contains("outside"), "\(error)")
            XCTAssertFalse("\(error)".contains("do-not-show"), "\(error)")
        }
        // The context's .dockerignore.
        try FileManager.default.removeItem(atPath: work + "/ctx/Dockerfile")
        try write("ctx/Dockerfile", "FROM scratch\n")
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/.dockerignore", withDestinationPath: "../secret")
        XCTAssertThrowsError(try DockerfileSource.read(file: nil, contextDirectory: work + "/ctx")) { error in
            XCTAssertTrue("\(error)".contains("refusing .dockerignore") && "\(error)".contains("outside"), "\(error)")
            XCTAssertFalse("\(error)".contains("do-not-show"), "\(error)")
        }
        // The ignore file beside a -f Dockerfile.
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/deploy/Dockerfile.dockerignore", withDestinationPath: "/etc/passwd")
        XCTAssertThrowsError(try DockerfileSource.read(file: work + "/ctx/deploy/Dockerfile", contextDirectory: work + "/ctx")) { error in
            XCTAssertTrue("\(error)".contains("refusing .dockerignore"), "\(error)")
        }
        // A link that stays in its directory is followed.
        try FileManager.default.removeItem(atPath: work + "/ctx/.dockerignore")
        try write("ctx/ignore-rules", "linked-rule\n")
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/.dockerignore", withDestinationPath: "ignore-rules")
        XCTAssertEqual(try DockerfileSource.read(file: nil, contextDirectory: work + "/ctx").ignorePatterns, ["linked-rule"])
    }

    func testOutputAndContextSyntax() throws {
        XCTAssertEqual(try OutputSpec.parse("type=oci,dest=a.tar").output, .oci(destination: "a.tar", tar: true))
        XCTAssertEqual(try OutputSpec.parse("type=oci,dest=out,tar=false").output, .oci(destination: "out", tar: false))
        XCTAssertEqual(try OutputSpec.parse("dist").output, .local(destination: "dist"))
        XCTAssertEqual(try OutputSpec.parse("-").output, .oci(destination: "-", tar: true))
        let registry = try OutputSpec.parse("type=registry")
        XCTAssertNil(registry.output)
        XCTAssertTrue(registry.push)
        XCTAssertTrue(try OutputSpec.parse("type=image,push=true").push)
        XCTAssertEqual(try OutputSpec.parse("type=tar,dest=x").output, .tar(destination: "x"))
        XCTAssertThrowsError(try OutputSpec.parse("type=tar")) { error in
            guard case .invalidArgument? = error as? PublishError else { return XCTFail("\(error)") }
        }
        let (name, context) = try NamedContextSpec.parse("base=oci-layout://./layout:1.0", workingDirectory: "/work/here")
        XCTAssertEqual(name, "base")
        XCTAssertEqual(context, .ociLayout(path: "/work/here/layout", reference: "1.0"))
        XCTAssertEqual(try NamedContextSpec.parse("src=../src", workingDirectory: "/work/here").1, .directory("/work/src"),
                       "relative to the current directory, as buildx resolves them")
        XCTAssertEqual(try NamedContextSpec.parse("src=/abs/src", workingDirectory: "/work/here").1, .directory("/abs/src"))
        XCTAssertEqual(try NamedContextSpec.parse("busybox=docker-image://alpine:3.20").1, .dockerImage("alpine:3.20"),
                       "as buildx: the image FROM busybox then uses")
        XCTAssertThrowsError(try NamedContextSpec.parse("busybox=docker-image://"))
        XCTAssertThrowsError(try NamedContextSpec.parse("src=https://example.com/src.tar"))
    }

    func testBuildxImageExporterKeys() throws {
        let spec = try OutputSpec.parse("type=oci,dest=a.tar,compression=zstd,compression-level=5,force-compression=true,oci-mediatypes=true,name=reg.example/app:1,annotation.a=1,annotation-index.b=2,annotation-manifest.c=3,annotation-manifest[linux/arm64].d=4")
        XCTAssertEqual(spec.output, .oci(destination: "a.tar", tar: true))
        XCTAssertEqual(spec.compression, "zstd")
        XCTAssertEqual(spec.compressionLevel, 5)
        XCTAssertTrue(spec.forceCompression)
        XCTAssertEqual(spec.names, ["reg.example/app:1"])
        XCTAssertEqual(spec.annotations, ["a=1", "index:b=2", "manifest:c=3", "manifest[linux/arm64]:d=4"])
        XCTAssertFalse(spec.push)
        let image = try OutputSpec.parse("type=image,name=reg.example/app:2,push=true")
        XCTAssertEqual(image.names, ["reg.example/app:2"])
        XCTAssertTrue(image.push)
        XCTAssertNil(image.output)
    }

    func testUnknownOrUnsupportedOutputKeysAreRefused() {
        func message(_ text: String) -> String {
            do { _ = try OutputSpec.parse(text); return "accepted" } catch { return "\(error)" }
        }
        let bogus = message("type=oci,dest=a.tar,bogus=1")
        XCTAssertTrue(bogus.contains("unknown key 'bogus'") && bogus.contains("known keys: type, dest, tar, name, compression"), bogus)
        XCTAssertTrue(message("type=local,dest=d,compression=zstd").contains("known keys: type, dest"), "local writes files, not layers")
        XCTAssertTrue(message("type=oci,dest=a.tar,compression=brotli").contains("gzip, zstd or uncompressed"))
        XCTAssertTrue(message("type=oci,dest=a.tar,oci-mediatypes=no").contains("expected true or false"))
        XCTAssertTrue(message("type=oci,dest=a.tar,force-compression=maybe").contains("expected true or false"))
        XCTAssertTrue(message("type=registry,push=false").contains("image store"))
        XCTAssertTrue(message("type=oci,dest=-,tar=false").contains("standard output"))
        XCTAssertTrue(message("type=oci,dest=a.tar,annotation=x").contains("annotation.KEY"))
    }

    func testOutputsAgreeOnCompressionAndAnnotationsNeedAnIndex() throws {
        let job = BuildJob(compression: "gzip")
        let zstd = try OutputSpec.parse("type=oci,dest=a.tar,compression=zstd")
        XCTAssertEqual(try job.parseCompression(outputs: [zstd]), .zstd(level: 3), "the output's key wins over --compression")
        XCTAssertEqual(try job.parseCompression(outputs: []), .gzip(level: 6))
        let gzip = try OutputSpec.parse("type=docker,dest=b.tar,compression=gzip")
        XCTAssertThrowsError(try job.parseCompression(outputs: [zstd, gzip]))
        let one = [try Platform(parsing: "linux/amd64")]
        XCTAssertThrowsError(try BuildJob.checkIndexAnnotations(["index:a=1"], platforms: one + one)) { error in
            XCTAssertTrue("\(error)".contains("single-platform"), "\(error)")
        }
        XCTAssertNoThrow(try BuildJob.checkIndexAnnotations(["manifest:a=1", "a=2"], platforms: one))
        XCTAssertNoThrow(try BuildJob.checkIndexAnnotations(["index:a=1"], platforms: one + [try Platform(parsing: "linux/arm64")]))
        XCTAssertThrowsError(try BuildJob.checkStandardOutput([try OutputSpec.parse("-"), try OutputSpec.parse("type=docker,dest=-")]))
        XCTAssertTrue(BuildJob(outputs: ["type=docker,dest=-"]).writesToStandardOutput)
        XCTAssertFalse(BuildJob(outputs: ["type=docker,dest=x.tar"]).writesToStandardOutput)
        XCTAssertEqual(try BuildJob(platforms: ["local"]).parsePlatforms(), [Platform.host])
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
        job.sourceDateEpoch = nil
        job.environment = [:]
        XCTAssertNil(try job.parseSourceDateEpoch(), "unset: the build arg or the Dockerfile's ARG SOURCE_DATE_EPOCH decides")
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
