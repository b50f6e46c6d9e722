import Foundation
import TestSupport
import XCTest

/// Least privilege, proven: every AWS API call (through scripts/test-moto/aws-recorder.py) and
/// every registry request (the ECR proxy's log) slipway makes for a role's commands, mapped to
/// the IAM actions ECR requires (`ECRPermissionMap`, from AWS's documentation), must be exactly
/// what the role's document in docs/iam/ grants: no action missing, none unused, each on the
/// repository ARNs the statement names. And `ecr set-repository-policy` writes those actions.
final class IAMPolicyTests: XCTestCase {
    var moto: TestMoto!
    var work = ""
    var env: [String: String] = [:]
    var recorder: AWSRecorder!
    let account = ECRPermissionMap.defaultAccount

    override func setUpWithError() throws {
        moto = try TestMoto.require()
        work = try Run.temporaryDirectory()
        recorder = try AWSRecorder(moto: moto, directory: work)
        env = moto.slipwayEnvironment(home: work).merging([
            "AWS_ACCESS_KEY_ID": "AKIDIAMROLE", "AWS_SECRET_ACCESS_KEY": "iam-secret", "AWS_ENDPOINT_URL": recorder.endpoint,
        ]) { _, n in n }
    }

    override func tearDownWithError() throws {
        recorder?.stop()
        try? FileManager.default.removeItem(atPath: work)
    }

    @discardableResult
    private func slipway(_ arguments: [String], extra: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let out = try Run.command(Run.slipway, arguments, environment: env.merging(extra) { _, n in n })
        XCTAssertEqual(out.status, 0, "slipway \(arguments.joined(separator: " ")): \(out.stderr)", file: file, line: line)
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What the commands in `body` needed, API calls and registry requests together.
    private func permissionsUsed(_ body: () throws -> Void) throws -> Set<Permission> {
        try recorder.clear()
        let proxy = ECRProxyLog(moto: moto)
        try body()
        var used = Set<Permission>()
        for call in try recorder.calls() { used.formUnion(try ECRPermissionMap.permissions(call)) }
        for request in try proxy.requests() { used.formUnion(try ECRPermissionMap.permissions(request)) }
        return used
    }

    /// The document grants exactly `used`: every use allowed, every granted action of every
    /// statement used on that statement's resources; and IAM's grammar accepts it.
    private func assertDocument(_ name: String, _ substitutions: [String: String], grantsExactly used: Set<Permission>,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        try assertDocuments([name], substitutions, grantsExactly: used, file: file, line: line)
    }

    /// As `assertDocument`, for documents attached to one role together.
    private func assertDocuments(_ names: [String], _ substitutions: [String: String], grantsExactly used: Set<Permission>,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let parts = try names.map { try IAMPolicyDocument($0, substitutions: substitutions) }
        let document = IAMPolicyDocument(merging: parts)
        let name = names.joined(separator: " + ")
        XCTAssertEqual(document.actions, Set(used.map(\.action)), "\(name): granted actions ≠ used ones", file: file, line: line)
        for permission in used.sorted(by: { $0.description < $1.description }) where document.allowing(permission).isEmpty {
            XCTFail("\(name) does not grant \(permission), which slipway used", file: file, line: line)
        }
        for statement in document.statements {
            for action in statement.actions {
                let usedThere = used.contains { p in p.action == action && statement.resources.contains { IAMPolicyDocument.matches(pattern: $0, p.resource) } }
                XCTAssertTrue(usedThere, "\(name): statement \(statement.sid) grants \(action) on \(statement.resources), which slipway never used", file: file, line: line)
            }
        }
        for part in parts { try part.validateWithMoto(scratch: work, file: file, line: line) }
    }

    private func context(big: Bool) throws -> String {
        let dir = work + "/ctx-\(UUID().uuidString.prefix(8))"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n" + (big ? "COPY big.bin /big.bin\n" : ""), "a.txt": "iam \(UUID())\n"], under: dir)
        if big {
            let random = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
            defer { try? random.close() }
            try XCTUnwrap(try random.read(upToCount: 11 << 20)).write(to: URL(fileURLWithPath: dir + "/big.bin"))
        }
        return dir
    }

    /// A repository holding a two-platform image tagged v1; returns its digest.
    private func pushedImage(_ repo: String) throws -> String {
        try slipway(["ecr", "create-repository", repo])
        let pushed = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", "\(moto.host)/\(repo):v1", "--push", "--progress", "quiet", try context(big: false)])
        return String(pushed.split(separator: "\n").last?.split(separator: "@").last ?? "")
    }

    func testBuildRoleGrantsExactlyWhatBuildPushPushAndDescribeImagesUse() throws {
        let repo = uniqueName("iam/build")
        try slipway(["ecr", "create-repository", repo])
        let ctx = try context(big: true)
        try slipway(["build", "--platform", "linux/amd64,linux/arm64", "--output", "type=oci,dest=\(work)/image.tar", "--progress", "quiet", ctx])
        let used = try permissionsUsed {
            try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", "\(moto.host)/\(repo):v1", "--push", "--chunk-size", "5MiB", "--progress", "quiet", ctx],
                        extra: ["XDG_CACHE_HOME": work + "/cache-build"])
            try slipway(["push", work + "/image.tar", "\(moto.host)/\(repo):v2", "--progress", "quiet"], extra: ["XDG_CACHE_HOME": work + "/cache-push"])
            try slipway(["ecr", "describe-images", repo, "--tag", "v1"])
        }
        // The chunked upload really happened (UploadLayerPart through PATCH, not only a closing PUT).
        XCTAssertTrue(used.contains(Permission(action: "ecr:UploadLayerPart", resource: ECRPermissionMap.repositoryARN(account: account, repo))))
        try assertDocument("build-role.json", ["REGION": "us-east-1", "ACCOUNT_ID": account, "REPOSITORY": repo], grantsExactly: used)
    }

    /// `build --push --scan-gate` (the README's CI step): the build role plus scan-gate.json.
    func testScanGateNeedsExactlyTheBuildRoleAndScanGateJson() throws {
        let repo = uniqueName("iam/gated")
        try slipway(["ecr", "create-repository", repo])
        let used = try permissionsUsed {
            // moto: after StartImageScan, COMPLETE with one HIGH finding, so a CRITICAL gate passes.
            try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", "\(moto.host)/\(repo):v1", "--push", "--scan-gate", "CRITICAL", "--scan-start",
                         "--progress", "quiet", try context(big: false)])
            try slipway(["ecr", "describe-images", repo, "--tag", "v1"])
        }
        try assertDocuments(["build-role.json", "scan-gate.json"], ["REGION": "us-east-1", "ACCOUNT_ID": account, "REPOSITORY": repo], grantsExactly: used)
    }

    func testDeployRoleGrantsExactlyWhatInspectAndDescribeImagesUse() throws {
        let repo = uniqueName("iam/deploy")
        let digest = try pushedImage(repo)
        let used = try permissionsUsed {
            // A fresh cache, as on the machine that deploys.
            try slipway(["inspect", "\(moto.host)/\(repo):v1"], extra: ["XDG_CACHE_HOME": work + "/cache-deploy"])
            try slipway(["inspect", "--raw", "\(moto.host)/\(repo)@\(digest)"], extra: ["XDG_CACHE_HOME": work + "/cache-deploy-2"])
            XCTAssertEqual(try slipway(["ecr", "describe-images", repo, "--tag", "v1"]), digest)
        }
        try assertDocument("deploy-role.json", ["REGION": "us-east-1", "ACCOUNT_ID": account, "REPOSITORY": repo], grantsExactly: used)
    }

    func testPromotionRoleGrantsExactlyWhatCopyByDigestUses() throws {
        let source = uniqueName("iam/dev")
        let destination = uniqueName("iam/prod")
        let digest = try pushedImage(source)
        try slipway(["ecr", "create-repository", destination, "--image-tag-mutability", "IMMUTABLE"])
        let used = try permissionsUsed {
            let out = try slipway(["copy", "\(moto.host)/\(source)@\(digest)", "\(moto.host)/\(destination):1.4.0", "--progress", "quiet"],
                                  extra: ["XDG_CACHE_HOME": work + "/cache-promote"])
            XCTAssertEqual(out, "\(moto.host)/\(destination):1.4.0@\(digest)")
            XCTAssertEqual(try slipway(["ecr", "describe-images", destination, "--tag", "1.4.0"]), digest)
        }
        try assertDocument("promotion-role.json", ["REGION": "us-east-1", "SOURCE_ACCOUNT_ID": account, "SOURCE_REPOSITORY": source,
                                                   "DEST_ACCOUNT_ID": account, "DEST_REPOSITORY": destination], grantsExactly: used)
    }

    /// moto's stored policy of a repository (GetRepositoryPolicy straight to moto), nil when none.
    private func storedPolicy(_ repo: String) throws -> [String: Any]? {
        let out = try Run.command("curl", ["-s", "-X", "POST", moto.moto + "/",
                                           "-H", "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetRepositoryPolicy",
                                           "-H", "Content-Type: application/x-amz-json-1.1",
                                           "-H", "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=0",
                                           "-d", #"{"repositoryName":"\#(repo)"}"#])
        guard let text = try Run.json(out.stdout)["policyText"] as? String else { return nil }
        return try Run.json(text)
    }

    private func statement(_ policy: [String: Any]?, _ sid: String) -> [String: Any]? {
        (policy?["Statement"] as? [[String: Any]])?.first { $0["Sid"] as? String == sid }
    }

    func testSetRepositoryPolicyGrantsTheDocumentsActionsKeepsOtherStatementsAndIsIdempotent() throws {
        let repo = uniqueName("iam/policy")
        try slipway(["ecr", "create-repository", repo])
        // A statement someone else wrote, which slipway must keep.
        let foreign = #"{"Version":"2012-10-17","Statement":[{"Sid":"KeepMe","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":["ecr:ListImages"]}]}"#
        let payload = try JSONSerialization.data(withJSONObject: ["repositoryName": repo, "policyText": foreign])
        _ = try Run.command("curl", ["-s", "-X", "POST", moto.moto + "/", "-H", "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.SetRepositoryPolicy",
                                     "-H", "Content-Type: application/x-amz-json-1.1",
                                     "-H", "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=0",
                                     "-d", String(decoding: payload, as: UTF8.self)])
        XCTAssertNotNil(statement(try storedPolicy(repo), "KeepMe"))
        let grant = ["ecr", "set-repository-policy", repo, "--pull-principal", "444455556666", "--push-principal", "arn:aws:iam::\(account):role/ci-build", "--format", "json"]

        // --dry-run: the policy shown, nothing written.
        try recorder.clear()
        let dry = try Run.json(try slipway(grant + ["--dry-run"]))
        XCTAssertEqual(dry["changed"] as? Bool, true)
        XCTAssertEqual(dry["written"] as? Bool, false)
        XCTAssertFalse(try recorder.calls().contains { $0.action == "SetRepositoryPolicy" })
        XCTAssertNil(statement(try storedPolicy(repo), "SlipwayPull"))

        try recorder.clear()
        let written = try Run.json(try slipway(grant))
        XCTAssertEqual(written["written"] as? Bool, true)
        XCTAssertEqual(try recorder.calls().filter { $0.action == "SetRepositoryPolicy" }.count, 1)
        let stored = try storedPolicy(repo)
        XCTAssertEqual(try Run.json(String(decoding: try JSONSerialization.data(withJSONObject: dry["policy"] ?? [:]), as: UTF8.self)) as NSDictionary,
                       stored.map { $0 as NSDictionary }, "--dry-run showed another policy than the one written")
        XCTAssertNotNil(statement(stored, "KeepMe"), "a statement slipway did not write was dropped")
        let pull = try XCTUnwrap(statement(stored, "SlipwayPull"))
        let push = try XCTUnwrap(statement(stored, "SlipwayPush"))
        XCTAssertEqual((pull["Principal"] as? [String: Any])?["AWS"] as? [String], ["arn:aws:iam::444455556666:root"])
        XCTAssertEqual((push["Principal"] as? [String: Any])?["AWS"] as? [String], ["arn:aws:iam::\(account):role/ci-build"])
        // The repository side of docs/iam/: exactly the repository actions of the deploy and build roles.
        let substitutions = ["REGION": "us-east-1", "ACCOUNT_ID": account, "REPOSITORY": repo]
        let deploy = try IAMPolicyDocument("deploy-role.json", substitutions: substitutions)
        let build = try IAMPolicyDocument("build-role.json", substitutions: substitutions)
        XCTAssertEqual(Set(pull["Action"] as? [String] ?? []), Set(deploy.statements.first { $0.sid == "PullFromRepository" }?.actions ?? ["missing"]))
        XCTAssertEqual(Set(push["Action"] as? [String] ?? []), Set(build.statements.first { $0.sid == "PushToRepository" }?.actions ?? ["missing"]))

        // Read back as ECR stores it.
        let shown = try Run.json(try slipway(["ecr", "get-repository-policy", repo, "--format", "json"]))
        XCTAssertEqual((shown["policy"] as? [String: Any]).map { $0 as NSDictionary }, stored.map { $0 as NSDictionary })

        // Again: nothing to do, nothing written.
        try recorder.clear()
        let again = try Run.json(try slipway(grant))
        XCTAssertEqual(again["changed"] as? Bool, false)
        XCTAssertFalse(try recorder.calls().contains { $0.action == "SetRepositoryPolicy" })

        let bare = uniqueName("iam/nopolicy")
        try slipway(["ecr", "create-repository", bare])
        let none = try Run.command(Run.slipway, ["ecr", "get-repository-policy", bare], environment: env)
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.stderr.contains("has no repository policy"), none.stderr)

        let bad = try Run.command(Run.slipway, ["ecr", "set-repository-policy", repo, "--pull-principal", "prod-account"], environment: env)
        XCTAssertEqual(bad.status, 64, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("principal 'prod-account' is neither a 12-digit account id nor an IAM ARN"), bad.stderr)
    }
}
