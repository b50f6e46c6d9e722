import Foundation
import TestSupport
import XCTest

/// Cross-account promotion: `copy DEV…/app@sha256:… PROD…/app:1.4.0` reads with the dev role and
/// writes with the prod role. moto derives each assumed role's account from its ARN, and the ECR
/// proxy serves both accounts' registry hosts (each with its own repositories and login); the
/// AWS recorder shows who signed each call, the proxy log which host each request went to.
final class CrossAccountPromotionTests: XCTestCase {
    let dev = "111122223333"
    let prod = "444455556666"
    var devHost: String { "\(dev).dkr.ecr.us-east-1.amazonaws.com" }
    var prodHost: String { "\(prod).dkr.ecr.us-east-1.amazonaws.com" }
    var moto: TestMoto!
    var work = ""
    var env: [String: String] = [:]
    var recorder: AWSRecorder!

    override func setUpWithError() throws {
        moto = try TestMoto.require()
        work = try Run.temporaryDirectory()
        recorder = try AWSRecorder(moto: moto, directory: work)
        // CI's own identity (environment keys, the default account), and two profiles that
        // assume roles in the dev and prod accounts from a base profile.
        try Run.write([
            "aws/config": """
            [profile base]
            region = us-east-1

            [profile dev]
            role_arn = arn:aws:iam::\(dev):role/dev-reader
            source_profile = base

            [profile prod]
            role_arn = arn:aws:iam::\(prod):role/prod-admin
            source_profile = base

            """,
            "aws/credentials": "[base]\naws_access_key_id = AKIDBASEPROFILE\naws_secret_access_key = base-secret\n",
        ], under: work)
        env = moto.slipwayEnvironment(home: work).merging([
            "AWS_ACCESS_KEY_ID": "AKIDCIRUNNER", "AWS_SECRET_ACCESS_KEY": "ci-secret", "AWS_ENDPOINT_URL": recorder.endpoint,
            "XDG_CONFIG_HOME": work + "/config",
            "SLIPWAY_CONNECT_TO": "\(devHost):443:\(moto.registry),\(prodHost):443:\(moto.registry)",
        ]) { _, n in n }
    }

    override func tearDownWithError() throws {
        recorder?.stop()
        try? FileManager.default.removeItem(atPath: work)
    }

    private func slipway(_ arguments: [String], extra: [String: String] = [:]) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env.merging(extra) { _, n in n })
    }

    @discardableResult
    private func mustSlipway(_ arguments: [String], extra: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let out = try slipway(arguments, extra: extra)
        XCTAssertEqual(out.status, 0, "slipway \(arguments.joined(separator: " ")): \(out.stderr)", file: file, line: line)
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func writeConfig(_ json: String) throws {
        try Run.write(["config/slipway/config.json": json], under: work)
    }

    /// The access key an AssumeRole into `role` handed out (from the recorder).
    private func issuedKey(_ role: String, in calls: [AWSRecorder.Call]) throws -> String {
        try XCTUnwrap(calls.first { $0.action == "AssumeRole" && $0.roleARN == role }?.issuedKey, "no AssumeRole into \(role): \(calls)")
    }

    /// A dev repository with an image built and pushed by the dev role (the config file maps the
    /// dev account to profile dev, so `build --push` uses it with no flag); returns the digest.
    private func devImage(_ repo: String) throws -> String {
        try mustSlipway(["ecr", "create-repository", repo, "--profile", "dev"])
        let ctx = work + "/ctx"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "release \(UUID())\n"], under: ctx)
        try recorder.clear()
        let pushed = try mustSlipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", "\(devHost)/\(repo):v1", "--push", "--progress", "quiet", ctx])
        let calls = try recorder.calls()
        let devKey = try issuedKey("arn:aws:iam::\(dev):role/dev-reader", in: calls)
        let ecr = calls.filter { $0.service == "ecr" }
        XCTAssertFalse(ecr.isEmpty)
        XCTAssertTrue(ecr.allSatisfy { $0.accessKeyID == devKey }, "build --push to the dev registry signed with another identity: \(ecr)")
        // The push's concurrent requests share one login (a fresh cache: no token on disk yet).
        let logins = ecr.filter { $0.action == "GetAuthorizationToken" }
        XCTAssertEqual(logins.count, 1, "GetAuthorizationToken calls for one build --push: \(logins)")
        return String(pushed.split(separator: "\n").last?.split(separator: "@").last ?? "")
    }

    func testCopyReadsWithTheDevRoleAndWritesWithTheProdRole() throws {
        try writeConfig(#"{"registries": {"\#(dev)": {"profile": "dev"}}}"#)
        let source = uniqueName("promo/app-dev")
        let target = uniqueName("promo/app")
        let digest = try devImage(source)
        try mustSlipway(["ecr", "create-repository", target, "--image-tag-mutability", "IMMUTABLE", "--profile", "prod"])
        // Each account sees its own repositories only.
        XCTAssertNotEqual(try slipway(["ecr", "describe-images", source, "--profile", "prod"]).status, 0)

        try recorder.clear()
        let proxy = ECRProxyLog(moto: moto)
        let promoteRole = "arn:aws:iam::\(prod):role/promote"
        // A fresh cache, as on the promotion runner: every byte is read from dev.
        let out = try mustSlipway(["copy", "\(devHost)/\(source)@\(digest)", "\(prodHost)/\(target):1.4.0",
                                   "--src-profile", "dev", "--dest-profile", promoteRole, "--progress", "plain"],
                                  extra: ["XDG_CACHE_HOME": work + "/cache-promote"])
        XCTAssertEqual(out, "\(prodHost)/\(target):1.4.0@\(digest)")

        let calls = try recorder.calls()
        let devKey = try issuedKey("arn:aws:iam::\(dev):role/dev-reader", in: calls)
        let prodKey = try issuedKey(promoteRole, in: calls)
        XCTAssertNotEqual(devKey, prodKey)
        // The dev role came from the base profile, the promote role from the runner's own keys.
        XCTAssertEqual(calls.first { $0.roleARN == promoteRole }?.accessKeyID, "AKIDCIRUNNER")
        XCTAssertEqual(calls.first { $0.roleARN?.hasSuffix("dev-reader") == true }?.accessKeyID, "AKIDBASEPROFILE")
        let ecr = calls.filter { $0.service == "ecr" }
        for call in ecr {
            switch call.registryIDs.first {
            case dev?: XCTAssertEqual(call.accessKeyID, devKey, "a call for the dev registry was not signed by the dev role: \(call)")
            case prod?: XCTAssertEqual(call.accessKeyID, prodKey, "a call for the prod registry was not signed by the prod role: \(call)")
            default: XCTFail("an ECR call naming no registry: \(call)")
            }
        }
        XCTAssertTrue(ecr.contains { $0.action == "GetAuthorizationToken" && $0.registryIDs == [dev] && $0.accessKeyID == devKey })
        XCTAssertTrue(ecr.contains { $0.action == "GetAuthorizationToken" && $0.registryIDs == [prod] && $0.accessKeyID == prodKey })
        // One login per account for the whole copy, however many requests run at once.
        let logins = ecr.filter { $0.action == "GetAuthorizationToken" }
        XCTAssertEqual(logins.map(\.registryIDs).sorted { $0.description < $1.description }, [[dev], [prod]],
                       "GetAuthorizationToken calls for one copy between two accounts: \(logins)")

        // Reads went to dev only, writes to prod only.
        let requests = try proxy.requests().filter { $0.path != "/v2/" }
        let reads = requests.filter { $0.method == "GET" && !$0.path.hasPrefix("/_s3/") && $0.path.contains("/\(source)/") }
        let writes = requests.filter { ["POST", "PUT", "PATCH"].contains($0.method) }
        XCTAssertTrue(reads.contains { $0.path.contains("/manifests/") } && reads.contains { $0.path.contains("/blobs/") }, "\(requests)")
        XCTAssertTrue(reads.allSatisfy { $0.host == devHost }, "\(reads)")
        XCTAssertFalse(writes.isEmpty)
        XCTAssertTrue(writes.allSatisfy { $0.host == prodHost && $0.path.contains("/\(target)/") }, "\(writes)")
        XCTAssertFalse(requests.contains { $0.host == devHost && $0.method != "GET" && $0.method != "HEAD" }, "something was written to dev: \(requests)")

        // moto's prod account holds the image under the release tag; dev has no such repository.
        XCTAssertEqual(try mustSlipway(["ecr", "describe-images", target, "--tag", "1.4.0", "--profile", "prod"]), digest)
        XCTAssertNotEqual(try slipway(["ecr", "describe-images", target, "--profile", "dev"]).status, 0)

        // The promotion documents: the dev role used only ReadSource, the prod role only
        // WriteDestination, the runner only sts:AssumeRole on the two roles.
        let substitutions = ["REGION": "us-east-1", "SOURCE_ACCOUNT_ID": dev, "SOURCE_REPOSITORY": source, "DEST_ACCOUNT_ID": prod,
                             "DEST_REPOSITORY": target, "SOURCE_ROLE": "dev-reader", "DEST_ROLE": "promote"]
        let promotion = try IAMPolicyDocument("promotion-role.json", substitutions: substitutions)
        let assume = try IAMPolicyDocument("promotion-assume-roles.json", substitutions: substitutions)
        func sids(_ permission: Permission, _ document: IAMPolicyDocument) -> Set<String> { Set(document.allowing(permission).map(\.sid)) }
        for call in calls {
            for permission in try ECRPermissionMap.permissions(call) {
                if call.accessKeyID == devKey {
                    XCTAssertFalse(sids(permission, promotion).isDisjoint(with: ["ECRLogin", "ReadSource"]), "dev role used \(permission)")
                } else if call.accessKeyID == prodKey {
                    XCTAssertFalse(sids(permission, promotion).isDisjoint(with: ["ECRLogin", "WriteDestination"]), "prod role used \(permission)")
                } else {
                    XCTAssertFalse(assume.allowing(permission).isEmpty, "the runner used \(permission)")
                }
            }
        }
        for request in requests {
            for permission in try ECRPermissionMap.permissions(request) {
                let expected = request.host == devHost ? "ReadSource" : "WriteDestination"
                XCTAssertTrue(sids(permission, promotion).contains(expected), "\(request.method) \(request.path) on \(request.host) needs \(permission)")
            }
        }
    }

    /// `--registry-profile` and the config file pick the identity of push and build --push by
    /// registry host or account; the command line wins; a bad config file is named.
    func testPushUsesThePerRegistryRuleAndTheFlagBeatsTheConfigFile() throws {
        try writeConfig(#"{"registries": {"\#(prodHost)": {"roleArn": "arn:aws:iam::\#(prod):role/prod-pusher"}, "\#(dev)": {"profile": "dev"}}}"#)
        let repo = uniqueName("promo/pushed")
        try mustSlipway(["ecr", "create-repository", repo, "--profile", "prod"])
        let ctx = work + "/ctx-push"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": "push \(UUID())\n"], under: ctx)
        try mustSlipway(["build", "--output", "type=oci,dest=\(work)/image.tar", "--progress", "quiet", ctx])

        try recorder.clear()
        try mustSlipway(["push", work + "/image.tar", "\(prodHost)/\(repo):1", "--progress", "quiet"])
        var calls = try recorder.calls()
        let pusherKey = try issuedKey("arn:aws:iam::\(prod):role/prod-pusher", in: calls)
        XCTAssertTrue(calls.filter { $0.service == "ecr" }.allSatisfy { $0.accessKeyID == pusherKey }, "\(calls)")
        XCTAssertEqual(calls.first { $0.action == "AssumeRole" }?.accessKeyID, "AKIDCIRUNNER", "a role without profile is assumed from the default chain")

        try recorder.clear()
        try mustSlipway(["push", work + "/image.tar", "\(prodHost)/\(repo):2", "--progress", "quiet", "--registry-profile", "\(prod)=prod"])
        calls = try recorder.calls()
        let adminKey = try issuedKey("arn:aws:iam::\(prod):role/prod-admin", in: calls)
        XCTAssertFalse(calls.contains { $0.roleARN?.hasSuffix("prod-pusher") == true }, "the config file's rule beat --registry-profile")
        XCTAssertTrue(calls.filter { $0.service == "ecr" }.allSatisfy { $0.accessKeyID == adminKey }, "\(calls)")

        try writeConfig(#"{"registries": {"\#(prod)": {"profil": "prod"}}}"#)
        let bad = try slipway(["push", work + "/image.tar", "\(prodHost)/\(repo):3"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("config/slipway/config.json: registries.\(prod): unknown key 'profil'"), bad.stderr)

        try writeConfig("{}")
        let same = try slipway(["copy", "\(prodHost)/\(repo):1", "\(prodHost)/\(repo):4", "--src-profile", "dev", "--dest-profile", "prod"])
        XCTAssertEqual(same.status, 64, same.stderr)
        XCTAssertTrue(same.stderr.contains("different identities for the same registry \(prodHost)"), same.stderr)
    }
}
