import Foundation
import TestSupport
import XCTest

/// The README cannot drift (issue 12, section 3): `scripts/test-readme` runs every shell
/// block of README.md against the test registries and moto, and refuses blocks that are
/// neither run nor marked `<!-- not run: REASON -->`.
final class ReadmeTests: XCTestCase {
    private func environment() throws -> [String: String] {
        let registry = try TestRegistries.get()
        let moto = try TestMoto.require()
        return ["SLIPWAY_BIN": Run.slipway,
                "SLIPWAY_TEST_BASIC_REGISTRY": registry.basic, "SLIPWAY_TEST_TOKEN_REGISTRY": registry.token,
                "SLIPWAY_TEST_CA": registry.ca, "SLIPWAY_TEST_USER": registry.user, "SLIPWAY_TEST_PASSWORD": registry.password,
                "SLIPWAY_TEST_MOTO_ENDPOINT": moto.moto, "SLIPWAY_TEST_ECR_HOST": moto.host,
                "SLIPWAY_TEST_ECR_REGISTRY": moto.registry, "SLIPWAY_TEST_ECR_CA": moto.ca]
    }

    private var script: String { Run.repositoryRoot.path + "/scripts/test-readme" }

    func testEveryShellBlockOfTheReadmeRuns() throws {
        let output = try Run.command("python3", [script], environment: try environment())
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertTrue(output.stderr.contains("test-readme: every command block ran"), output.stderr)
        let counted = try XCTUnwrap(output.stderr.range(of: #"(\d+) command blocks to run"#, options: .regularExpression).map { output.stderr[$0] })
        XCTAssertFalse(counted.hasPrefix("0 "), "the README has command blocks: \(counted)")
    }

    func testABlockMustRunOrSayWhyNot() throws {
        let work = try Run.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        func check(_ markdown: String) throws -> Run.Output {
            try Run.write(["doc.md": markdown], under: work)
            return try Run.command("python3", [script, "--list", work + "/doc.md"], environment: ["SLIPWAY_BIN": Run.slipway])
        }
        let untagged = try check("Text\n\n```\nslipway build .\n```\n")
        XCTAssertEqual(untagged.status, 1)
        XCTAssertTrue(untagged.stderr.contains("doc.md:3: an untagged block with slipway commands"), untagged.stderr)

        let noReason = try check("<!-- not run: -->\n```sh\nslipway build .\n```\n")
        XCTAssertEqual(noReason.status, 1)
        XCTAssertTrue(noReason.stderr.contains("needs a reason"), noReason.stderr)

        let unclosed = try check("```sh\nslipway build .\n")
        XCTAssertNotEqual(unclosed.status, 0)
        XCTAssertTrue(unclosed.stderr.contains("doc.md:1: this fence is never closed"), unclosed.stderr)

        let marked = try check("<!-- not run: needs a real AWS account -->\n\n```sh\naws sts get-caller-identity\n```\n\n<!-- before: X=1 -->\n```bash\necho $X\n```\n\n```yaml\nslipway: not a command\n```\n")
        XCTAssertEqual(marked.status, 0, marked.stderr)
        XCTAssertTrue(marked.stderr.contains("doc.md:3: not run: needs a real AWS account"), marked.stderr)
        XCTAssertTrue(marked.stderr.contains("1 command blocks to run, 1 marked not run"), marked.stderr)
        XCTAssertTrue(marked.stdout.contains("X=1\necho $X"), "the hidden set-up runs before its block: \(marked.stdout)")
        XCTAssertFalse(marked.stdout.contains("aws sts"), marked.stdout)

        // The migration table may only name commands and flags that exist.
        let migration = try check("## Coming from crane\n\n| you run | with slipway |\n|---|---|\n| `crane tag IMG T` | `slipway tag IMG T` |\n"
                                  + "| `crane copy --all A B` | `slipway copy --all A B` |\n| `crane copy A B` | `slipway copy --platform linux/arm64 A B` |\n")
        XCTAssertEqual(migration.status, 1)
        XCTAssertTrue(migration.stderr.contains("doc.md:5: `slipway tag IMG T` is not a slipway command"), migration.stderr)
        XCTAssertTrue(migration.stderr.contains("doc.md:6: `slipway copy --all A B`: no --all in `slipway copy --help`"), migration.stderr)
        XCTAssertFalse(migration.stderr.contains("doc.md:7"), migration.stderr)

        // A failing block fails the run and names its line.
        let env = try environment()
        try Run.write(["bad.md": "```sh\ntrue\n```\n\n```sh\nslipway build --no-such-flag .\n```\n"], under: work)
        let failing = try Run.command("python3", [script, work + "/bad.md"], environment: env)
        XCTAssertEqual(failing.status, 1, failing.stderr)
        XCTAssertTrue(failing.stderr.contains("test-readme: bad.md:5: failed at: slipway build --no-such-flag ."), failing.stderr)
    }
}
