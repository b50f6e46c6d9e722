import Foundation
import TestSupport
import XCTest

/// The `slipway ecr` commands and pushes to an ECR host name, against moto and a registry
/// reached through SLIPWAY_CONNECT_TO; and no secret ever reaches the output.
final class ECRTests: XCTestCase {
    var work = ""
    var moto: TestMoto!
    var env: [String: String] = [:]
    let secretKey = "e2eSECRETkey/\(UUID().uuidString)"
    let sessionToken = "e2eSESSIONtoken-\(UUID().uuidString)"

    override func setUpWithError() throws {
        moto = try TestMoto.require()
        work = try Run.temporaryDirectory()
        env = moto.slipwayEnvironment(home: work).merging(
            ["AWS_ACCESS_KEY_ID": "AKIDE2EEXAMPLE", "AWS_SECRET_ACCESS_KEY": secretKey, "AWS_SESSION_TOKEN": sessionToken]) { _, new in new }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String], extra: [String: String] = [:]) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env.merging(extra) { _, n in n })
    }

    func testRepositoryCommandsAgainstMoto() throws {
        let repo = uniqueName("team/app")
        var out = try slipway(["ecr", "create-repository", repo, "--image-tag-mutability", "IMMUTABLE", "--scan-on-push", "--tag", "team=core"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.stdout, "\(moto.host)/\(repo)\n")
        out = try slipway(["ecr", "create-repository", repo])
        XCTAssertEqual(out.status, 1)
        XCTAssertTrue(out.stderr.contains("RepositoryAlreadyExistsException"), out.stderr)
        out = try slipway(["ecr", "create-repository", repo, "--if-not-exists"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.stdout, "\(moto.host)/\(repo)\n")
        out = try slipway(["ecr", "create-repository", repo, "--encryption", "AES256", "--kms-key", "k"])
        XCTAssertNotEqual(out.status, 0)
        XCTAssertTrue(out.stderr.contains("--kms-key needs --encryption KMS"), out.stderr)

        out = try slipway(["ecr", "registry"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.stdout, "\(moto.host)\n")
        out = try slipway(["ecr", "registry", "--region", "eu-west-1"], extra: ["AWS_USE_FIPS_ENDPOINT": "true"])
        XCTAssertEqual(out.stdout, "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com\n", out.stderr)
        out = try slipway(["ecr", "get-login-password"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertFalse(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)

        out = try slipway(["ecr", "describe-images", repo, "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual((try Run.json(out.stdout)["imageDetails"] as? [Any])?.count, 0)
        out = try slipway(["ecr", "describe-images", uniqueName("missing"), "--tag", "1.0"])
        XCTAssertEqual(out.status, 1)
        XCTAssertTrue(out.stderr.contains("RepositoryNotFoundException"), out.stderr)
        out = try slipway(["ecr", "describe-images", repo, "--tag", "1", "--digest", "sha256:00"])
        XCTAssertNotEqual(out.status, 0)

        // No credentials anywhere: every source is listed.
        out = try slipway(["ecr", "registry"], extra: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": ""])
        XCTAssertEqual(out.status, 1)
        for source in ["environment variables", "shared profile 'default'", "web identity", "ECS container", "EC2 instance metadata"] {
            XCTAssertTrue(out.stderr.contains(source), out.stderr)
        }
    }

    func testBuildPushToAnECRHostCreatesTheRepositoryAndLogsInFromGetAuthorizationToken() throws {
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "ecr \(UUID())\n"], under: work + "/ctx")
        let repo = uniqueName("release/app")
        let reference = "\(moto.host)/\(repo):1.0"
        var out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", reference, "--push", "--create-repository=IMMUTABLE,scan-on-push",
                               "--progress", "plain", work + "/ctx"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("created ECR repository \(moto.host)/\(repo)"), out.stderr)
        let pushedLine = try XCTUnwrap(out.stdout.split(separator: "\n").last.map(String.init))
        XCTAssertTrue(pushedLine.hasPrefix(reference + "@sha256:"), out.stdout)
        let describe = try slipway(["ecr", "create-repository", repo, "--if-not-exists"])
        XCTAssertEqual(describe.status, 0, describe.stderr)

        // What the registry holds, read with skopeo as user AWS with the token's password.
        let password = try slipway(["ecr", "get-login-password"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let raw = try Run.tool("skopeo", ["inspect", "--raw", "--cert-dir", moto.certsDir + "/" + moto.registry, "--creds", "AWS:\(password)",
                                          "docker://\(moto.registry)/\(repo):1.0"])
        XCTAssertEqual(try Run.json(raw)["mediaType"] as? String, "application/vnd.oci.image.index.v1+json")

        // `push` with a bare --create-repository into an existing repository, from the layout.
        out = try slipway(["build", "-t", "x:1", "--output", "type=oci,dest=\(work)/layout,tar=false", work + "/ctx"])
        XCTAssertEqual(out.status, 0, out.stderr)
        out = try slipway(["push", work + "/layout", "\(moto.host)/\(repo):1.1", "--create-repository", "--progress", "plain"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertFalse(out.stderr.contains("created ECR repository"), out.stderr)

        // A docker config entry for the host wins over the AWS login (here: a wrong one).
        try FileManager.default.createDirectory(atPath: work + "/docker", withIntermediateDirectories: true)
        let auth = Data("AWS:not-the-password".utf8).base64EncodedString()
        try Data(#"{"auths":{"\#(moto.host)":{"auth":"\#(auth)"}}}"#.utf8).write(to: URL(fileURLWithPath: work + "/docker/config.json"))
        out = try slipway(["push", work + "/layout", "\(moto.host)/\(repo):1.2"])
        XCTAssertNotEqual(out.status, 0)
        XCTAssertTrue(out.stderr.contains("authentication failed") || out.stderr.contains("401"), out.stderr)
    }

    func testSecretsNeverAppearInOutput() throws {
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "secret test\n"], under: work + "/ctx")
        try Data("oidc-\(UUID().uuidString)-token".utf8).write(to: URL(fileURLWithPath: work + "/oidc"))
        let oidc = try String(contentsOfFile: work + "/oidc", encoding: .utf8)
        let ecrPassword = try slipway(["ecr", "get-login-password"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertFalse(ecrPassword.isEmpty)
        let repo = uniqueName("secret/app")
        let runs: [([String], [String: String])] = [
            (["ecr", "registry", "--debug"], [:]),
            (["ecr", "create-repository", repo, "--debug"], [:]),
            (["ecr", "create-repository", repo, "--debug"], [:]),                       // fails: exists
            (["ecr", "describe-images", uniqueName("missing"), "--debug"], [:]),              // fails: missing
            (["ecr", "registry", "--debug"], ["AWS_ENDPOINT_URL": "http://127.0.0.1:9"]),  // fails: unreachable
            (["ecr", "registry", "--debug"], ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
                                              "AWS_WEB_IDENTITY_TOKEN_FILE": work + "/oidc", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/gha"]),
            (["build", "-t", "\(moto.host)/\(repo):1", "--push", "--debug", "--progress", "plain", work + "/ctx"], [:]),
            (["build", "-t", "\(moto.host)/\(repo):2", "--push", "--debug", "--progress", "plain", work + "/ctx"],
             ["AWS_ENDPOINT_URL": "http://127.0.0.1:9"]),                                                              // fails: no token
        ]
        for (arguments, extra) in runs {
            let out = try slipway(arguments, extra: extra)
            for secret in [secretKey, sessionToken, ecrPassword, oidc] {
                XCTAssertFalse(out.stdout.contains(secret), "\(arguments) printed a secret on stdout")
                XCTAssertFalse(out.stderr.contains(secret), "\(arguments) printed a secret on stderr:\n\(out.stderr)")
            }
            XCTAssertFalse(out.stderr.contains("Signature=") && !out.stderr.contains("Authorization: AWS4-HMAC-SHA256 ***"),
                           "\(arguments) printed a signature:\n\(out.stderr)")
        }
    }
}
