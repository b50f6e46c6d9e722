import Foundation
import TestSupport
import XCTest

/// Issue 13's repository controls against moto, the ECR proxy and its registry: tag
/// mutability with exclusions (and what push does with them), lifecycle policies,
/// housekeeping, describe-repositories, registry scanning and replication. Results are read
/// back from moto directly, not through slipway.
final class ECRControlsTests: XCTestCase {
    var work = ""
    var moto: TestMoto!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        moto = try TestMoto.require()
        work = try Run.temporaryDirectory()
        env = moto.slipwayEnvironment(home: work)
        env["AWS_ACCESS_KEY_ID"] = "AKIDCONTROLS"
        env["AWS_SECRET_ACCESS_KEY"] = "controls-secret"
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String], extra: [String: String] = [:]) throws -> Run.Output {
        try Run.command(Run.slipway, arguments, environment: env.merging(extra) { _, n in n })
    }

    private func context(_ content: String) throws -> String {
        let dir = work + "/ctx-\(UUID().uuidString.prefix(8))"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": content], under: dir)
        return dir
    }

    /// Builds and pushes a two-platform image; its index digest.
    private func push(_ tags: [String], repository: String, content: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "--push", "--progress", "plain", try context(content)]
                              + tags.flatMap { ["-t", "\(moto.host)/\(repository):\($0)"] })
        XCTAssertEqual(out.status, 0, out.stderr, file: file, line: line)
        return out.stdout.split(separator: "\n").first { $0.hasPrefix("index ") }.map { String($0.dropFirst(6)) } ?? ""
    }

    /// moto's images of the repository: digest -> tags.
    private func images(_ repository: String) throws -> [String: [String]] {
        let details = try moto.ecrAPI("DescribeImages", ["repositoryName": repository])["imageDetails"] as? [[String: Any]] ?? []
        return Dictionary(details.map { ($0["imageDigest"] as? String ?? "", ($0["imageTags"] as? [String] ?? []).sorted()) }, uniquingKeysWith: { a, _ in a })
    }

    func testImmutableRepositoryWithAMutableLatest() throws {
        let repo = uniqueName("controls/release")
        var out = try slipway(["ecr", "create-repository", repo, "--image-tag-mutability", "IMMUTABLE", "--mutable-tag", "latest", "--mutable-tag", "dev-*", "--if-not-exists"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let record = try XCTUnwrap(try moto.describeRepository(repo))
        XCTAssertEqual(record["imageTagMutability"] as? String, "IMMUTABLE_WITH_EXCLUSION")
        let filters = (record["imageTagMutabilityExclusionFilters"] as? [[String: String]] ?? []).map { [$0["filterType"] ?? "", $0["filter"] ?? ""] }
        XCTAssertEqual(filters, [["WILDCARD", "latest"], ["WILDCARD", "dev-*"]])

        // Idempotent; other exclusions are a difference that --update applies.
        out = try slipway(["ecr", "create-repository", repo, "--mutable-tag", "latest", "--mutable-tag", "dev-*", "--if-not-exists", "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(try Run.json(out.stdout)["existed"] as? Bool, true)
        out = try slipway(["ecr", "create-repository", repo, "--mutable-tag", "latest", "--if-not-exists"])
        XCTAssertEqual(out.status, 1)
        XCTAssertTrue(out.stderr.contains("image tag mutability is IMMUTABLE_WITH_EXCLUSION (mutable: latest, dev-*), requested IMMUTABLE_WITH_EXCLUSION (mutable: latest)"), out.stderr)

        // Release 1.0 and latest; then a new build moves latest and dev-7, while 1.0 stays refused.
        let firstContent = "one \(UUID())"
        let first = try push(["1.0", "latest"], repository: repo, content: firstContent)
        let second = try push(["latest", "dev-7"], repository: repo, content: "two \(UUID())")
        XCTAssertNotEqual(first, second)
        var now = try images(repo)
        XCTAssertEqual(now[first], ["1.0"], "latest left the first image")
        XCTAssertEqual(now[second], ["dev-7", "latest"])
        let third = try context("three \(UUID())")
        out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", "\(moto.host)/\(repo):1.0", "-t", "\(moto.host)/\(repo):latest", "--push", "--progress", "plain", third])
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("tag '1.0' already exists in immutable repository '\(moto.host)/\(repo)' at \(first)"), out.stderr)
        XCTAssertEqual(try images(repo).count, now.count, "refused before any manifest went up: no new untagged images")
        // The same release again: 1.0 already published, latest moved back to it.
        out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", "\(moto.host)/\(repo):1.0", "-t", "\(moto.host)/\(repo):latest",
                           "--push", "--progress", "plain", try context(firstContent)])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("\(moto.host)/\(repo):1.0 already published at \(first)"), out.stderr)
        now = try images(repo)
        XCTAssertEqual(now[first], ["1.0", "latest"])
        XCTAssertEqual(now[second], ["dev-7"])

        // put-image-tag-mutability: idempotent, JSON, and the exclusions change what moves.
        out = try slipway(["ecr", "put-image-tag-mutability", repo, "--mutable-tag", "latest", "--mutable-tag", "dev-*", "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(try Run.json(out.stdout)["changed"] as? Bool, false)
        out = try slipway(["ecr", "put-image-tag-mutability", repo, "--image-tag-mutability", "IMMUTABLE"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains("-> IMMUTABLE"), out.stdout)
        XCTAssertEqual(try moto.describeRepository(repo)?["imageTagMutability"] as? String, "IMMUTABLE")
        out = try slipway(["build", "-t", "\(moto.host)/\(repo):latest", "--platform", "linux/amd64,linux/arm64", "--push", "--progress", "plain", try context("four \(UUID())")])
        XCTAssertEqual(out.status, 1, "latest is immutable now: \(out.stderr)")
        XCTAssertTrue(out.stderr.contains("tag 'latest' already exists in immutable repository"), out.stderr)
        out = try slipway(["ecr", "put-image-tag-mutability", repo, "--immutable-tag", "v*"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(try moto.describeRepository(repo)?["imageTagMutability"] as? String, "MUTABLE_WITH_EXCLUSION")
        out = try slipway(["ecr", "put-image-tag-mutability", repo, "--image-tag-mutability", "MUTABLE", "--mutable-tag", "x"])
        XCTAssertEqual(out.status, 64, "a usage error: \(out.stderr)")
    }

    func testLifecyclePolicyFromPresetsAndFromAFile() throws {
        let repo = uniqueName("controls/lifecycle")
        XCTAssertEqual(try slipway(["ecr", "create-repository", repo]).status, 0)
        let presets = ["--keep-last", "30", "--tag-prefix", "release-", "--expire-tag-prefix", "feature-", "--after-days", "14",
                       "--expire-untagged-after-days", "1", "--expire-tag-prefix", "cache-", "--keep-last", "5"]
        // --dry-run needs no credentials and sends nothing.
        var out = try slipway(["ecr", "put-lifecycle-policy", repo, "--dry-run"] + presets, extra: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""])
        XCTAssertEqual(out.status, 0, out.stderr)
        let shown = try Run.json(out.stdout)
        XCTAssertEqual((shown["rules"] as? [[String: Any]])?.count, 4)
        XCTAssertEqual(try moto.ecrAPI("GetLifecyclePolicy", ["repositoryName": repo])["__type"] as? String, "LifecyclePolicyNotFoundException")

        out = try slipway(["ecr", "put-lifecycle-policy", repo] + presets)
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual(out.stdout, "\(repo): lifecycle policy set\n")
        let stored = try XCTUnwrap(try moto.ecrAPI("GetLifecyclePolicy", ["repositoryName": repo])["lifecyclePolicyText"] as? String)
        let storedRules = try XCTUnwrap(try Run.json(stored)["rules"] as? [[String: Any]])
        XCTAssertEqual(storedRules.map { $0["rulePriority"] as? Int }, [1, 2, 3, 4])
        XCTAssertEqual(storedRules.map { ($0["selection"] as? [String: Any])?["tagPrefixList"] as? [String] }, [["release-"], ["feature-"], nil, ["cache-"]])
        XCTAssertEqual(try Run.json(stored)["rules"] as? NSArray, shown["rules"] as? NSArray, "what --dry-run showed is what was sent")
        out = try slipway(["ecr", "put-lifecycle-policy", repo] + presets)
        XCTAssertEqual(out.stdout, "\(repo): lifecycle policy already as given: unchanged\n", out.stderr)

        // get-lifecycle-policy, then the same document from a file (key order differs): unchanged.
        out = try slipway(["ecr", "get-lifecycle-policy", repo, "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual((try Run.json(out.stdout)["lifecyclePolicy"] as? [String: Any])?["rules"] as? NSArray, shown["rules"] as? NSArray)
        out = try slipway(["ecr", "get-lifecycle-policy", repo])
        try Data(out.stdout.utf8).write(to: URL(fileURLWithPath: work + "/policy.json"))
        out = try slipway(["ecr", "put-lifecycle-policy", repo, "--policy-file", work + "/policy.json"])
        XCTAssertTrue(out.stdout.contains("unchanged"), out.stdout + out.stderr)

        // A bad file: refused before anything is sent, naming the rule.
        try Data(#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}"#.utf8)
            .write(to: URL(fileURLWithPath: work + "/bad.json"))
        out = try slipway(["ecr", "put-lifecycle-policy", repo, "--policy-file", work + "/bad.json"])
        XCTAssertEqual(out.status, 1)
        XCTAssertTrue(out.stderr.contains("bad.json: rule 1: a tagged rule needs tagPrefixList or tagPatternList"), out.stderr)
        XCTAssertEqual(try moto.ecrAPI("GetLifecyclePolicy", ["repositoryName": repo])["lifecyclePolicyText"] as? String, stored)

        out = try slipway(["ecr", "get-lifecycle-policy", uniqueName("controls/none")])
        XCTAssertEqual(out.status, 1)
        out = try slipway(["ecr", "put-lifecycle-policy", repo, "--tag-prefix", "x"])
        XCTAssertEqual(out.status, 64, out.stderr)
        XCTAssertTrue(out.stderr.contains("needs --keep-last N or --after-days D"), out.stderr)
    }

    func testHousekeepingNeverBreaksAnImageThatStays() throws {
        let repo = uniqueName("controls/housekeeping")
        XCTAssertEqual(try slipway(["ecr", "create-repository", repo]).status, 0)
        let kept = try push(["release-1"], repository: repo, content: "kept \(UUID())")
        let gone = try push(["feature-x"], repository: repo, content: "gone \(UUID())")
        XCTAssertEqual(try images(repo).count, 6, "two indexes and their four platform manifests")

        var out = try slipway(["ecr", "list-images", repo, "--untagged", "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertEqual((try Run.json(out.stdout)["imageDetails"] as? [[String: Any]])?.count, 4)
        out = try slipway(["ecr", "list-images", repo, "--tag-prefix", "feature-"])
        XCTAssertEqual(out.stdout.split(separator: "\n").map { String($0.split(separator: "\t")[0]) }, [gone])

        // A signature of the kept image, stored untagged as an OCI referrer (subject: the index).
        let signature = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.cosign.artifact.sig.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}],"subject":{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"\#(kept)","size":1}}"#
        let put = try moto.ecrAPI("PutImage", ["repositoryName": repo, "imageManifest": signature, "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json"])
        let referrer = try XCTUnwrap(((put["image"] as? [String: Any])?["imageId"] as? [String: Any])?["imageDigest"] as? String, "\(put)")

        // Every untagged image is a child or a referrer of a tagged index: nothing goes.
        sleep(1)
        out = try slipway(["ecr", "delete-images", repo, "--untagged-older-than", "1s", "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        var result = try Run.json(out.stdout)
        XCTAssertEqual((result["digests"] as? [String])?.count, 0)
        XCTAssertEqual((result["kept"] as? [[String: Any]])?.count, 5)
        XCTAssertTrue((result["kept"] as? [[String: Any]] ?? []).contains { $0["imageDigest"] as? String == referrer && ($0["reason"] as? String)?.contains("a referrer of \(kept)") == true })
        XCTAssertEqual(try images(repo).count, 7)

        // The feature image loses its only tag; then its children are untagged orphans and go.
        out = try slipway(["ecr", "delete-images", repo, "--tag", "feature-x"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertNil(try images(repo)[gone])
        out = try slipway(["ecr", "delete-images", repo, "--untagged-older-than", "1s", "--dry-run", "--format", "json"])
        result = try Run.json(out.stdout)
        XCTAssertEqual((result["digests"] as? [String])?.count, 2)
        XCTAssertEqual(try images(repo).count, 6, "a dry run deletes nothing")
        out = try slipway(["ecr", "delete-images", repo, "--untagged-older-than", "1s"])
        XCTAssertEqual(out.status, 0, out.stderr)
        var left = try images(repo)
        XCTAssertEqual(left.count, 4, "the kept index, its two platform manifests and its signature")
        XCTAssertEqual(left[kept], ["release-1"])
        // The signature asked for by digest goes; a platform manifest of the kept index asked
        // for by digest is kept, with the reason.
        out = try slipway(["ecr", "delete-images", repo, "--digest", referrer])
        XCTAssertEqual(out.status, 0, out.stderr)
        left = try images(repo)
        XCTAssertNil(left[referrer])
        let child = try XCTUnwrap(left.keys.first { $0 != kept })
        out = try slipway(["ecr", "delete-images", repo, "--digest", child])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains("kept \(child): referenced by index \(kept), which stays"), out.stdout)
        XCTAssertEqual(try images(repo).count, 3)
        // Already gone: reported, not an error (a re-run succeeds).
        out = try slipway(["ecr", "delete-images", repo, "--tag", "feature-x"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains("not found (already gone): feature-x"), out.stdout)
    }

    func testDescribeRepositoriesRegistryScanningAndReplication() throws {
        let repo = uniqueName("prod/reporting")
        XCTAssertEqual(try slipway(["ecr", "create-repository", repo, "--mutable-tag", "latest", "--scan-on-push", "--encryption", "KMS"]).status, 0)
        XCTAssertEqual(try slipway(["ecr", "put-lifecycle-policy", repo, "--expire-untagged-after-days", "3"]).status, 0)
        defer { _ = try? slipway(["ecr", "put-registry-scanning-configuration", "--basic"]) }
        var out = try slipway(["ecr", "put-registry-scanning-configuration", "--enhanced", "--continuous", "prod/*", "--on-push", "*"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let scanning = try XCTUnwrap(try moto.ecrAPI("GetRegistryScanningConfiguration", [:])["scanningConfiguration"] as? [String: Any])
        XCTAssertEqual(scanning["scanType"] as? String, "ENHANCED")
        XCTAssertEqual((scanning["rules"] as? [[String: Any]])?.map { $0["scanFrequency"] as? String }, ["CONTINUOUS_SCAN", "SCAN_ON_PUSH"])
        out = try slipway(["ecr", "put-registry-scanning-configuration", "--enhanced", "--on-push", "*", "--continuous", "prod/*"])
        XCTAssertTrue(out.stdout.contains("unchanged"), out.stdout)
        out = try slipway(["ecr", "get-registry-scanning-configuration", "--format", "json"])
        XCTAssertEqual((try Run.json(out.stdout)["scanningConfiguration"] as? [String: Any])?["scanType"] as? String, "ENHANCED")

        out = try slipway(["ecr", "describe-repositories", repo, "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let report = try XCTUnwrap((try Run.json(out.stdout)["repositories"] as? [[String: Any]])?.first)
        XCTAssertEqual(report["imageTagMutability"] as? String, "IMMUTABLE_WITH_EXCLUSION")
        XCTAssertEqual(report["imageTagMutabilityExclusionFilters"] as? [String], ["latest"])
        XCTAssertEqual(report["scanOnPush"] as? Bool, true)
        XCTAssertEqual(report["registryScanType"] as? String, "ENHANCED")
        XCTAssertEqual(report["registryScanFrequency"] as? String, "CONTINUOUS_SCAN")
        XCTAssertEqual(report["encryptionType"] as? String, "KMS")
        let key = try XCTUnwrap(try moto.describeRepository(repo)?["encryptionConfiguration"] as? [String: Any])["kmsKey"] as? String
        XCTAssertEqual(report["kmsKey"] as? String, key)
        XCTAssertEqual(report["lifecyclePolicyRules"] as? Int, 1)
        out = try slipway(["ecr", "describe-repositories", repo])
        XCTAssertTrue(out.stdout.contains("mutability: IMMUTABLE_WITH_EXCLUSION (mutable: latest)"), out.stdout)
        XCTAssertTrue(out.stdout.contains("lifecycle:  policy with 1 rule"), out.stdout)
        out = try slipway(["ecr", "describe-repositories", "--format", "json"])
        XCTAssertTrue((try Run.json(out.stdout)["repositories"] as? [[String: Any]] ?? []).contains { $0["repositoryName"] as? String == repo }, "all repositories")

        out = try slipway(["ecr", "put-replication-configuration", "--to-region", "eu-west-1", "--to-account", "210987654321", "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let replication = try XCTUnwrap(try moto.ecrAPI("DescribeRegistry", [:])["replicationConfiguration"] as? [String: Any])
        let destinations = ((replication["rules"] as? [[String: Any]])?.first?["destinations"] as? [[String: String]]) ?? []
        XCTAssertEqual(destinations, [["region": "eu-west-1", "registryId": "210987654321"]])
        out = try slipway(["ecr", "put-replication-configuration", "--to-region", "eu-west-1", "--to-account", "210987654321", "--format", "json"])
        XCTAssertEqual(try Run.json(out.stdout)["changed"] as? Bool, false, out.stderr)
        out = try slipway(["ecr", "put-replication-configuration", "--to-region", "eu-west-1", "--to-account", "12"])
        XCTAssertEqual(out.status, 64, out.stderr)
    }
}
