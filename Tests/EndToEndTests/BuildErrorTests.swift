import Foundation
import TestSupport
import XCTest

/// Bad input gets a clear error naming file:line, and a failed build leaves no output.
final class BuildErrorTests: XCTestCase {
    var work = ""

    override func setUpWithError() throws { work = try Run.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func failingBuild(_ dockerfile: String, files: [String: String] = [:], extra: [String] = []) throws -> String {
        let context = work + "/ctx"
        try Run.write(files.merging(["Dockerfile": dockerfile]) { a, _ in a }, under: context)
        let output = try Run.command(Run.slipway, ["build", "--progress", "plain", "--output", "type=oci,dest=\(work)/out.tar"] + extra + [context])
        XCTAssertNotEqual(output.status, 0, "expected the build to fail")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: work).filter { $0 != "ctx" && $0 != "outside" }
        XCTAssertEqual(leftovers, [], "a failed build leaves nothing behind")
        XCTAssertFalse(output.stderr.contains("Fatal error"), output.stderr)
        return output.stderr
    }

    func testRunIsRefusedBeforeAnyWorkWithItsLine() throws {
        let stderr = try failingBuild("FROM scratch\nCOPY a /a\nRUN make\n", files: ["a": "x"])
        XCTAssertTrue(stderr.contains("Dockerfile:3: cannot execute \"/bin/sh\": the stage has no such file"), stderr)
    }

    func testRunInAStageTheTargetDoesNotNeedIsIgnored() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch AS tools\nRUN make\n\nFROM scratch\nCOPY a /a\n", "a": "x"], under: context)
        try Run.slipway(["build", "--progress", "quiet", context])
    }

    func testMissingSourceNamesLineAndFile() throws {
        let stderr = try failingBuild("FROM scratch\n\nCOPY missing.txt /app/\n")
        XCTAssertTrue(stderr.contains("Dockerfile:3:") && stderr.contains("missing.txt"), stderr)
    }

    func testSourceOutsideTheContextIsRefused() throws {
        try Run.write(["secret": "s"], under: work + "/outside")
        let stderr = try failingBuild("FROM scratch\nCOPY ../outside/secret /s\n")
        XCTAssertTrue(stderr.contains("outside the build context"), stderr)
    }

    func testSymlinkLeavingTheContextIsRefused() throws {
        try Run.write(["secret": "s"], under: work + "/outside")
        try FileManager.default.createDirectory(atPath: work + "/ctx", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/link", withDestinationPath: "../outside/secret")
        try FileManager.default.createSymbolicLink(atPath: work + "/ctx/chain", withDestinationPath: "link")
        let stderr = try failingBuild("FROM scratch\nCOPY chain /s\n")
        XCTAssertTrue(stderr.contains("outside the build context"), stderr)
    }

    func testUnknownInstructionAndBadFlag() throws {
        var stderr = try failingBuild("FROM scratch\nFROBNICATE x\n")
        XCTAssertTrue(stderr.contains("Dockerfile:2:"), stderr)
        stderr = try failingBuild("FROM scratch\nCOPY --bogus=1 a /a\n", files: ["a": "x"])
        XCTAssertTrue(stderr.contains("Dockerfile:2:") && stderr.contains("bogus"), stderr)
    }

    func testUnreachableRegistryBaseNamesTheLineAndTheImage() throws {
        let stderr = try failingBuild("FROM 127.0.0.1:9/nothing/here:1\nCOPY a /a\n", files: ["a": "x"], extra: ["--retries", "0"])
        XCTAssertTrue(stderr.contains("Dockerfile:1:") && stderr.contains("127.0.0.1:9"), stderr)
    }

    func testUnknownTarget() throws {
        let stderr = try failingBuild("FROM scratch AS one\nCOPY a /a\n", files: ["a": "x"], extra: ["--target", "two"])
        XCTAssertTrue(stderr.contains("target stage 'two' not found") && stderr.contains("one"), stderr)
    }

    func testFIFOInContextIsRefusedUnlessIgnored() throws {
        let context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY . /app\n", "a": "x"], under: context)
        XCTAssertEqual(mkfifo(context + "/pipe", 0o644), 0)
        let stderr = try failingBuild("FROM scratch\nCOPY . /app\n")
        XCTAssertTrue(stderr.contains("pipe") && stderr.contains("FIFO"), stderr)
        try Run.write([".dockerignore": "pipe\n"], under: context)
        try Run.slipway(["build", "--progress", "quiet", context])
    }

    func testMultipleSourcesNeedADirectoryDestination() throws {
        let stderr = try failingBuild("FROM scratch\nCOPY a b /dest\n", files: ["a": "1", "b": "2"])
        XCTAssertTrue(stderr.contains("Dockerfile:2:") && stderr.contains("must be a directory"), stderr)
    }
}
