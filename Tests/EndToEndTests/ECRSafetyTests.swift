import Foundation
import TestSupport
import XCTest

/// Issue 10 ("never harm the user"), the ECR items, against moto and its data-plane proxy: a
/// refused release leaves no untagged image behind (13), and `--if-not-exists` never passes a
/// repository whose settings differ from the ones asked for (14).
final class ECRSafetyTests: XCTestCase {
    var work = ""
    var moto: TestMoto!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        moto = try TestMoto.require()
        work = try Run.temporaryDirectory()
        env = moto.slipwayEnvironment(home: work).merging(["AWS_ACCESS_KEY_ID": "AKIDSAFETY", "AWS_SECRET_ACCESS_KEY": "safety-secret"]) { _, n in n }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String]) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env)
    }

    private func context(_ content: String) throws -> String {
        let dir = work + "/ctx-\(UUID().uuidString.prefix(8))"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": content], under: dir)
        return dir
    }

    /// Every image of the repository as `describe-images` lists it: digest → tags.
    private func images(_ repo: String) throws -> [String: [String]] {
        let out = try slipway(["ecr", "describe-images", repo, "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        var result: [String: [String]] = [:]
        for detail in try Run.json(out.stdout)["imageDetails"] as? [[String: Any]] ?? [] {
            result[detail["imageDigest"] as? String ?? "?"] = detail["imageTags"] as? [String] ?? []
        }
        return result
    }

    /// Item 13: a different image for an immutable tag is refused before any manifest goes
    /// up, with the same words as before; the repository holds only the first image.
    func testRefusedImmutableTagLeavesNoUntaggedImage() throws {
        let repo = uniqueName("safety/immutable")
        var out = try slipway(["ecr", "create-repository", repo, "--image-tag-mutability", "IMMUTABLE"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let reference = "\(moto.host)/\(repo):v1"
        out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", reference, "--push", "--progress", "plain", try context("v1 \(UUID())\n")])
        XCTAssertEqual(out.status, 0, out.stderr)
        let digest = String(out.stdout.split(separator: "\n").last?.split(separator: "@").last ?? "")
        // The index under its tag, and its two platform manifests (untagged, as ECR lists them).
        let before = try images(repo)
        XCTAssertEqual(before[digest], ["v1"])
        XCTAssertEqual(before.count, 3, "\(before)")

        // Another image (two platforms: an index and two manifests that would go up first).
        out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", reference, "--push", "--progress", "plain", try context("other \(UUID())\n")])
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("error: tag 'v1' already exists in immutable repository '\(moto.host)/\(repo)' at \(digest); push a new tag"), out.stderr)
        XCTAssertEqual(try images(repo), before, "the refused push left images behind")

        // The same image again is still "already published", and a new tag still goes up.
        let layout = work + "/layout"
        out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "--output", "type=oci,dest=\(layout),tar=false", try context("v2 \(UUID())\n")])
        XCTAssertEqual(out.status, 0, out.stderr)
        out = try slipway(["push", layout, "\(moto.host)/\(repo):v2", "--progress", "plain"])
        XCTAssertEqual(out.status, 0, out.stderr)
        out = try slipway(["push", layout, "\(moto.host)/\(repo):v2", "--progress", "plain"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("already published at"), out.stderr)
        let published = try images(repo)
        out = try slipway(["push", layout, "\(moto.host)/\(repo):v1", "--progress", "plain"])
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("tag 'v1' already exists in immutable repository"), out.stderr)
        XCTAssertEqual(try images(repo), published, "the refused push left images behind")
    }

    /// Item 14: `--if-not-exists` on a repository with other settings lists each difference
    /// and fails; `--update` applies them; encryption cannot be changed; a push's implicit
    /// `--create-repository` warns and leaves the repository alone.
    func testIfNotExistsReportsDifferentSettingsAndUpdateAppliesThem() throws {
        let repo = uniqueName("safety/settings")
        var out = try slipway(["ecr", "create-repository", repo])
        XCTAssertEqual(out.status, 0, out.stderr)

        out = try slipway(["ecr", "create-repository", repo, "--image-tag-mutability", "IMMUTABLE", "--scan-on-push", "--if-not-exists"])
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertEqual(out.stdout, "")
        XCTAssertTrue(out.stderr.contains("repository \(repo) already exists with other settings than requested"), out.stderr)
        XCTAssertTrue(out.stderr.contains("image tag mutability is MUTABLE, requested IMMUTABLE"), out.stderr)
        XCTAssertTrue(out.stderr.contains("scan on push is off, requested on"), out.stderr)
        XCTAssertTrue(out.stderr.contains("--update"), out.stderr)
        var described = try XCTUnwrap(try moto.describeRepository(repo))
        XCTAssertEqual(described["imageTagMutability"] as? String, "MUTABLE")

        // A push asking for an immutable repository: warned, pushed, left alone.
        out = try slipway(["build", "-t", "\(moto.host)/\(repo):1", "--push", "--create-repository=IMMUTABLE", "--progress", "plain", try context("a\n")])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("warning: --create-repository: ECR repository \(moto.host)/\(repo) already exists and is left as it is: image tag mutability is MUTABLE, requested IMMUTABLE"), out.stderr)
        XCTAssertEqual(try XCTUnwrap(try moto.describeRepository(repo))["imageTagMutability"] as? String, "MUTABLE")

        out = try slipway(["ecr", "create-repository", repo, "--image-tag-mutability", "IMMUTABLE", "--scan-on-push", "--if-not-exists", "--update"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.stdout, "\(moto.host)/\(repo)\n")
        XCTAssertTrue(out.stderr.contains("updated repository \(repo): image tag mutability MUTABLE -> IMMUTABLE"), out.stderr)
        described = try XCTUnwrap(try moto.describeRepository(repo))
        XCTAssertEqual(described["imageTagMutability"] as? String, "IMMUTABLE")
        XCTAssertEqual((described["imageScanningConfiguration"] as? [String: Any])?["scanOnPush"] as? Bool, true)

        // Now it matches: plain --if-not-exists succeeds; unrequested settings are not compared.
        out = try slipway(["ecr", "create-repository", repo, "--image-tag-mutability", "IMMUTABLE", "--scan-on-push", "--if-not-exists"])
        XCTAssertEqual(out.status, 0, out.stderr)
        out = try slipway(["ecr", "create-repository", repo, "--if-not-exists"])
        XCTAssertEqual(out.status, 0, out.stderr)

        out = try slipway(["ecr", "create-repository", repo, "--encryption", "KMS", "--if-not-exists", "--update"])
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("encryption is AES256, requested KMS (encryption cannot be changed after a repository is created)"), out.stderr)
        out = try slipway(["ecr", "create-repository", repo, "--update"])
        XCTAssertNotEqual(out.status, 0)
        XCTAssertTrue(out.stderr.contains("--update needs --if-not-exists"), out.stderr)
    }
}
