import Foundation
import TestSupport
import XCTest

/// The README's ECR release workflow, end to end, through scripts/test-moto's ECR proxy (201
/// PATCHes with a lagging Range, NAME_UNKNOWN, TAG_INVALID, declined mounts, S3-style blob
/// redirects): create-repository, build --push, describe-images, pull by digest with skopeo,
/// copy by digest; once per AWS credential source.
final class ECRWorkflowTests: XCTestCase {
    var work = ""
    var moto: TestMoto!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        moto = try TestMoto.require()
        work = try Run.temporaryDirectory()
        // No credentials of any kind: each test adds one source.
        env = moto.slipwayEnvironment(home: work)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String], extra: [String: String] = [:]) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env.merging(extra) { _, n in n })
    }

    private func context(_ content: String, big: Bool = false) throws -> String {
        let dir = work + "/ctx-\(UUID().uuidString.prefix(8))"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n" + (big ? "COPY big.bin /big.bin\n" : ""), "a.txt": content], under: dir)
        if big {
            // Incompressible and over two 5 MiB parts: PATCHes answered 201 with a lagging Range.
            let random = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
            defer { try? random.close() }
            try XCTUnwrap(try random.read(upToCount: 11 << 20)).write(to: URL(fileURLWithPath: dir + "/big.bin"))
        }
        return dir
    }

    private func repository(_ repo: String) throws -> [String: Any]? { try moto.describeRepository(repo) }

    private func proxyLog() -> String { (try? String(contentsOfFile: moto.dir + "/ecr-proxy.log", encoding: .utf8)) ?? "" }

    /// create-repository → registry → build --push → describe-images → skopeo by digest → copy by digest.
    private func workflow(_ source: String, extra: [String: String] = [:], big: Bool = false,
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let repo = uniqueName("\(source)/student-rest")
        var out = try slipway(["ecr", "create-repository", repo, "--image-tag-mutability", "IMMUTABLE", "--scan-on-push", "--if-not-exists"], extra: extra)
        XCTAssertEqual(out.status, 0, "\(source): \(out.stderr)", file: file, line: line)
        out = try slipway(["ecr", "registry"], extra: extra)
        XCTAssertEqual(out.status, 0, "\(source): \(out.stderr)", file: file, line: line)
        let registry = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(registry, moto.host, file: file, line: line)

        let ctx = try context("\(source) \(UUID())\n", big: big)
        let reference = "\(registry)/\(repo):v1"
        var build = ["build", "--platform", "linux/amd64,linux/arm64", "-t", reference, "--push", "--progress", "plain", ctx]
        if big { build += ["--chunk-size", "5MiB"] }
        out = try slipway(build, extra: extra)
        XCTAssertEqual(out.status, 0, "\(source): \(out.stderr)", file: file, line: line)
        let pushed = out.stdout.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(pushed.hasPrefix(reference + "@sha256:"), "\(source): \(out.stdout)", file: file, line: line)

        out = try slipway(["ecr", "describe-images", repo, "--tag", "v1"], extra: extra)
        XCTAssertEqual(out.status, 0, "\(source): \(out.stderr)", file: file, line: line)
        let digest = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(reference + "@" + digest, pushed, "\(source): describe-images disagrees with the push", file: file, line: line)

        // Pull by digest as another client would (user AWS, the login password), through the proxy.
        let password = try slipway(["ecr", "get-login-password"], extra: extra).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let skopeo = ["--cert-dir", moto.certsDir + "/" + moto.registry, "--creds", "AWS:\(password)", "docker://\(moto.registry)/\(repo)@\(digest)"]
        let raw = try Run.tool("skopeo", ["inspect", "--raw"] + skopeo, file: file, line: line)
        XCTAssertEqual(try Run.json(raw)["mediaType"] as? String, "application/vnd.oci.image.index.v1+json", file: file, line: line)
        let inspected = try Run.tool("skopeo", ["inspect", "--override-os", "linux", "--override-arch", "arm64"] + skopeo, file: file, line: line)
        XCTAssertEqual(try Run.json(inspected)["Architecture"] as? String, "arm64", file: file, line: line)

        // Promote by digest to another repository (created on the way): declined mounts, so
        // the blobs are downloaded from the source (S3-style redirects; a cache of its own, as
        // on another runner) and uploaded.
        let prod = uniqueName("\(source)/prod")
        out = try slipway(["copy", "\(registry)/\(repo)@\(digest)", "\(registry)/\(prod):v1", "--create-repository=IMMUTABLE", "--progress", "plain"],
                          extra: extra.merging(["XDG_CACHE_HOME": work + "/cache-copy"]) { _, n in n })
        XCTAssertEqual(out.status, 0, "\(source): \(out.stderr)", file: file, line: line)
        XCTAssertTrue(out.stderr.contains("created ECR repository \(registry)/\(prod)"), "\(source): \(out.stderr)", file: file, line: line)
        XCTAssertEqual(out.stdout, "\(registry)/\(prod):v1@\(digest)\n", "\(source): \(out.stderr)", file: file, line: line)
        out = try slipway(["ecr", "describe-images", prod, "--tag", "v1"], extra: extra)
        XCTAssertEqual(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines), digest, "\(source): \(out.stderr)", file: file, line: line)
    }

    func testWorkflowWithEnvironmentCredentials() throws {
        try workflow("env", extra: ["AWS_ACCESS_KEY_ID": "AKIDWORKFLOWENV", "AWS_SECRET_ACCESS_KEY": "workflow-secret"], big: true)
        let log = proxyLog()
        XCTAssertTrue(log.contains("PATCH /v2/env/student-rest-"), "no chunked upload went through the proxy")
        XCTAssertTrue(log.contains("POST /v2/env/prod-") && log.contains("mount=sha256:"), "copy did not try a mount")
        XCTAssertTrue(log.range(of: #"GET /_s3/env/student-rest-[^ ]+ auth=no"#, options: .regularExpression) != nil, "no S3-style blob download")
        XCTAssertFalse(log.range(of: #"/_s3/[^ ]+ auth=yes"#, options: .regularExpression) != nil, "Authorization was sent to the S3 host")
    }

    func testWorkflowWithWebIdentity() throws {
        try Data("oidc-\(UUID().uuidString)".utf8).write(to: URL(fileURLWithPath: work + "/oidc-token"))
        try workflow("oidc", extra: ["AWS_WEB_IDENTITY_TOKEN_FILE": work + "/oidc-token",
                                     "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/github-actions", "AWS_ROLE_SESSION_NAME": "gha"])
    }

    func testWorkflowWithAProfileThatAssumesARole() throws {
        try Run.write(["aws/config": "[profile base]\nregion = us-east-1\n\n[profile release]\nrole_arn = arn:aws:iam::123456789012:role/release\nsource_profile = base\n",
                       "aws/credentials": "[base]\naws_access_key_id = AKIDBASEPROFILE\naws_secret_access_key = base-secret\n"], under: work)
        try workflow("profile", extra: ["AWS_PROFILE": "release"])
    }

    func testWorkflowWithInstanceMetadataCredentials() throws {
        try workflow("imds", extra: ["AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": moto.metadata])
        let log = (try? String(contentsOfFile: moto.dir + "/metadata.log", encoding: .utf8)) ?? ""
        XCTAssertTrue(log.contains("PUT /latest/api/token") && log.contains("GET /latest/meta-data/iam/security-credentials/slipway-role"), log)
    }

    /// A release job run twice, then a different image for the same tag; a missing repository
    /// without and with --create-repository.
    func testImmutableRerunConflictAndMissingRepository() throws {
        env["AWS_ACCESS_KEY_ID"] = "AKIDRERUN"
        env["AWS_SECRET_ACCESS_KEY"] = "rerun-secret"
        let repo = uniqueName("release/app")
        let reference = "\(moto.host)/\(repo):1.0"
        let ctx = try context("release \(UUID())\n")

        // Missing, no flag: NAME_UNKNOWN, and a hint at the way out.
        var out = try slipway(["build", "-t", reference, "--push", "--progress", "plain", ctx])
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("NAME_UNKNOWN"), out.stderr)
        XCTAssertTrue(out.stderr.contains("push with --create-repository"), out.stderr)
        XCTAssertNil(try repository(repo))

        // With the flag: created IMMUTABLE with scan-on-push, then pushed.
        out = try slipway(["build", "-t", reference, "--push", "--create-repository=IMMUTABLE,scan-on-push", "--progress", "plain", ctx])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("created ECR repository \(moto.host)/\(repo)"), out.stderr)
        let created = try XCTUnwrap(try repository(repo))
        XCTAssertEqual(created["imageTagMutability"] as? String, "IMMUTABLE")
        XCTAssertEqual((created["imageScanningConfiguration"] as? [String: Any])?["scanOnPush"] as? Bool, true)
        let first = out.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let digest = String(first.split(separator: "@").last ?? "")
        XCTAssertEqual(first, "\(reference)@\(digest)")

        // The same job again (the repository exists now; the flag stays): success, nothing new.
        out = try slipway(["build", "-t", reference, "--push", "--create-repository=IMMUTABLE,scan-on-push", "--progress", "plain", ctx])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("\(reference) already published at \(digest) (immutable tag): nothing to do"), out.stderr)
        XCTAssertFalse(out.stderr.contains("created ECR repository"), out.stderr)
        XCTAssertEqual(out.stdout.split(separator: "\n").last.map(String.init), first)
        XCTAssertTrue(proxyLog().contains("PUT /v2/\(repo)/manifests/1.0"))

        // A different image for the same tag: refused, with the digest the tag keeps.
        let other = try context("another build \(UUID())\n")
        out = try slipway(["build", "-t", reference, "--push", "--progress", "plain", other])
        XCTAssertNotEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("tag '1.0' already exists in immutable repository '\(moto.host)/\(repo)' at \(digest); push a new tag"), out.stderr)
        out = try slipway(["ecr", "describe-images", repo, "--tag", "1.0"])
        XCTAssertEqual(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines), digest, out.stderr)

        // copy re-run onto the immutable tag: already published, too; and copy into a missing repository.
        out = try slipway(["copy", "\(moto.host)/\(repo)@\(digest)", reference, "--progress", "plain"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("already published at \(digest) (immutable tag)"), out.stderr)
        out = try slipway(["copy", "\(moto.host)/\(repo)@\(digest)", "\(moto.host)/\(uniqueName("missing/app")):1.0"])
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("NAME_UNKNOWN") && out.stderr.contains("--create-repository"), out.stderr)
    }
}
