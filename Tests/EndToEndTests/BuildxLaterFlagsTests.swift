import Foundation
import TestSupport
import XCTest

/// buildx's newer build flags (`--policy`, `--resource`) and the hidden `docker build` ones it
/// keeps (`-m`, `--cpu-*`, `--compress`, `--isolation`, `--security-opt`, `--squash`, `--rm`,
/// `--force-rm`): a buildx command line with them parses; each is ignored with a note where
/// buildx ignores it too, or refused with the reason, and nothing is written.
final class BuildxLaterFlagsTests: XCTestCase {
    var work = ""
    var context = ""

    override func setUpWithError() throws {
        work = try Run.temporaryDirectory()
        context = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "A"], under: context)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func build(_ arguments: [String]) throws -> Run.Output {
        try Run.command(Run.slipway, ["build"] + arguments)
    }

    func testDockerBuildFlagsBuildxIgnoresAreIgnoredWithOneNote() throws {
        let plain = try build(["--progress", "quiet", "-o", "type=oci,dest=\(work)/plain.tar", context])
        let result = try build(["--progress", "quiet", "--compress", "--isolation", "default", "--security-opt", "seccomp=unconfined",
                                "--squash", "--rm", "--force-rm", "-o", "type=oci,dest=\(work)/n.tar", context])
        XCTAssertEqual(result.status, 0, result.stderr)
        let notes = result.stderr.split(separator: "\n").filter { $0.hasPrefix("note: ") }
        XCTAssertEqual(notes, ["note: --compress, --isolation, --security-opt, --squash, --rm, --force-rm: docker build flags that buildx ignores too (ignored)"], result.stderr)
        XCTAssertEqual(result.stdout, plain.stdout, "the same image as without them")
    }

    func testPolicyAndResourceLimitsAreRefusedWithTheReason() throws {
        let cases: [([String], String)] = [
            (["--policy", "filename=policy.rego"], "--policy: slipway has no source policy engine"),
            (["--resource", "memory=2g"], "--resource: resource limits configure RUN"),
            (["-m", "2g", "--cpu-shares", "512"], "--memory/--cpu-shares: resource limits configure RUN"),
            (["--cpuset-cpus", "0-1"], "--cpuset-cpus: resource limits configure RUN"),
        ]
        for (flags, message) in cases {
            let output = try build(flags + ["-o", "type=oci,dest=\(work)/r.tar", context])
            XCTAssertNotEqual(output.status, 0, flags.joined(separator: " "))
            XCTAssertTrue(output.stderr.contains(message), output.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: work + "/r.tar"))
        }
    }

    func testProgressNoneIsBuildxsNameForNoProgress() throws {
        let quiet = try build(["--progress", "quiet", "-o", "type=oci,dest=\(work)/q.tar", context])
        let none = try build(["--progress", "none", "-o", "type=oci,dest=\(work)/n.tar", context])
        XCTAssertEqual(none.status, 0, none.stderr)
        XCTAssertEqual(none.stdout, quiet.stdout)
        XCTAssertEqual(none.stderr, "", "no progress display")
        let bogus = try build(["--progress", "fancy", "-o", "type=oci,dest=\(work)/b.tar", context])
        XCTAssertTrue(bogus.stderr.contains("auto, plain, tty, quiet or none"), bogus.stderr)
    }
}
