import Foundation
import TestSupport
import XCTest

/// `ecr scan-findings` and `--scan-gate` on build --push / push: against moto (ScanNotFound
/// until StartImageScan, then COMPLETE with one HIGH finding) and against scripted answers of
/// the ECR proxy (IN_PROGRESS twice, then COMPLETE with enhanced findings), with the ECR API
/// reached through AWS_ENDPOINT_URL_ECR.
final class ECRScanGateTests: XCTestCase {
    var work = ""
    var moto: TestMoto!
    var env: [String: String] = [:]

    override func setUpWithError() throws {
        moto = try TestMoto.require()
        work = try Run.temporaryDirectory()
        env = moto.slipwayEnvironment(home: work)
        env["AWS_ACCESS_KEY_ID"] = "AKIDSCANGATE"
        env["AWS_SECRET_ACCESS_KEY"] = "scan-gate-secret"
        env["AWS_ENDPOINT_URL_ECR"] = moto.ecrAPIEndpoint
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String]) throws -> Run.Output { try Run.command(Run.slipway, arguments, environment: env) }

    private func context(_ content: String) throws -> String {
        let dir = work + "/ctx-\(UUID().uuidString.prefix(8))"
        try Run.write(["Dockerfile": "FROM scratch\nCOPY a.txt /a.txt\n", "a.txt": content], under: dir)
        return dir
    }

    private func platformDigests(_ stdout: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in stdout.split(separator: "\n") where line.hasPrefix("linux/") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { out[String(parts[0])] = String(parts[1]) }
        }
        return out
    }

    private func proxyLog() -> String { (try? String(contentsOfFile: moto.dir + "/ecr-proxy.log", encoding: .utf8)) ?? "" }

    func testScanFindingsAgainstMoto() throws {
        let repo = uniqueName("scan/findings")
        let reference = "\(moto.host)/\(repo):1.0"
        var out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", reference, "--push", "--create-repository", "--progress", "plain", try context("findings \(UUID())")])
        XCTAssertEqual(out.status, 0, out.stderr)
        let platforms = platformDigests(out.stdout)
        XCTAssertEqual(platforms.count, 2)

        // No scan on push, no scan: reported as missing; a gate fails closed.
        out = try slipway(["ecr", "scan-findings", repo, "--tag", "1.0", "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        var images = try XCTUnwrap(try Run.json(out.stdout)["images"] as? [[String: Any]])
        XCTAssertEqual(Set(images.compactMap { $0["digest"] as? String }), Set(platforms.values), "each platform manifest, not the index")
        XCTAssertEqual(images.map { $0["status"] as? String }, ["NOT_FOUND", "NOT_FOUND"])
        out = try slipway(["ecr", "scan-findings", repo, "--tag", "1.0", "--fail-on", "HIGH"])
        XCTAssertEqual(out.status, 1)
        XCTAssertTrue(out.stderr.contains("has no scan: ECR has no scan of it (scan on push is off for \(repo)"), out.stderr)

        // --start-scan: moto's COMPLETE with one HIGH finding per image.
        out = try slipway(["ecr", "scan-findings", repo, "--tag", "1.0", "--start-scan", "--wait", "--fail-on", "HIGH"])
        XCTAssertEqual(out.status, 1, out.stderr)
        let rows = out.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(rows.first?.split(separator: " ", omittingEmptySubsequences: true).map(String.init),
                       ["IMAGE", "STATUS", "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED", "UNTRIAGED"])
        for (platform, digest) in platforms {
            let row = try XCTUnwrap(rows.first { $0.hasPrefix(platform) }, out.stdout).split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            XCTAssertEqual(row, [platform, String(digest.prefix(19)), "COMPLETE", "0", "1", "0", "0", "0", "0", "0"])
            XCTAssertTrue(out.stderr.contains("\(repo)@\(digest) (\(platform)) has findings at or above HIGH: 1 HIGH"), out.stderr)
        }
        XCTAssertTrue(out.stdout.contains("HIGH          CVE-9999-9999  moto_fake 9.9.9  (basic)"), out.stdout)
        out = try slipway(["ecr", "scan-findings", repo, "--digest", try XCTUnwrap(platforms["linux/arm64"]), "--fail-on", "CRITICAL", "--format", "json"])
        XCTAssertEqual(out.status, 0, out.stderr)
        images = try XCTUnwrap(try Run.json(out.stdout)["images"] as? [[String: Any]])
        XCTAssertEqual((images.first?["severityCounts"] as? [String: Int])?["HIGH"], 1)
        XCTAssertEqual(try Run.json(out.stdout)["passed"] as? Bool, true)

        out = try slipway(["ecr", "scan-findings", repo, "--tag", "1.0", "--fail-on", "SEVERE"])
        XCTAssertEqual(out.status, 64, out.stderr)
    }

    func testBuildPushScanGateAgainstMoto() throws {
        let repo = uniqueName("scan/gate")
        let reference = "\(moto.host)/\(repo):1.0"
        let ctx = try context("gate \(UUID())")
        var out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", reference, "--push", "--create-repository=scan-on-push",
                               "--scan-gate", "HIGH", "--scan-start", "--progress", "plain", ctx])
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("scan gate (--scan-gate HIGH) failed"), out.stderr)
        XCTAssertFalse(out.stdout.contains(reference + "@"), "no success reported: \(out.stdout)")
        // The same push with a CRITICAL gate passes (the one finding is HIGH) and reports the reference.
        out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", reference, "--push", "--scan-gate", "critical", "--scan-start", "--progress", "plain", ctx])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains(reference + "@sha256:"), out.stdout)
        XCTAssertTrue(out.stderr.contains("scan gate: linux/amd64 sha256:"), out.stderr)
    }

    /// The proxy answers IN_PROGRESS twice, then COMPLETE with enhanced (Inspector) findings:
    /// `push --scan-gate` waits with backoff and judges the enhanced severities.
    func testPushScanGateWaitsForAScriptedScan() throws {
        let repo = uniqueName("scan/scripted")
        let layout = work + "/image.tar"
        var out = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "--output", "type=oci,dest=\(layout)", "--progress", "plain", try context("scripted \(UUID())")])
        XCTAssertEqual(out.status, 0, out.stderr)
        let platforms = platformDigests(out.stdout)
        XCTAssertEqual(try slipway(["ecr", "create-repository", repo, "--scan-on-push"]).status, 0)
        func enhanced(_ severity: String, _ id: String) -> [String: Any] {
            ["severity": severity, "status": "ACTIVE", "title": id, "type": "PACKAGE_VULNERABILITY",
             "packageVulnerabilityDetails": ["vulnerabilityId": id, "vulnerablePackages": [["name": "openssl", "version": "3.0.1"]]]]
        }
        for (platform, digest) in platforms {
            let inProgress: [String: Any] = ["repositoryName": repo, "imageId": ["imageDigest": digest], "imageScanStatus": ["status": "IN_PROGRESS"]]
            var complete: [String: Any] = ["repositoryName": repo, "imageId": ["imageDigest": digest],
                                           "imageScanStatus": ["status": "ACTIVE", "description": "Continuous scan is selected for image."]]
            complete["imageScanFindings"] = platform == "linux/arm64"
                ? ["findingSeverityCounts": ["CRITICAL": 1, "MEDIUM": 2], "enhancedFindings": [enhanced("CRITICAL", "CVE-2024-0001"), enhanced("MEDIUM", "CVE-2024-0002"), enhanced("MEDIUM", "CVE-2024-0003")]]
                : ["findingSeverityCounts": ["MEDIUM": 1], "enhancedFindings": [enhanced("MEDIUM", "CVE-2024-0002")]]
            try moto.scriptECRAPI("DescribeImageScanFindings", repository: repo, digest: digest, responses: [(200, inProgress), (200, inProgress), (200, complete)])
        }
        out = try slipway(["push", layout, "\(moto.host)/\(repo):1.0", "--scan-gate", "CRITICAL", "--progress", "plain"])
        XCTAssertEqual(out.status, 1, out.stderr)
        let arm = try XCTUnwrap(platforms["linux/arm64"]), amd = try XCTUnwrap(platforms["linux/amd64"])
        XCTAssertTrue(out.stderr.contains("scan of \(repo)@\(arm): IN_PROGRESS; asking again in 1s"), out.stderr)
        XCTAssertTrue(out.stderr.contains("scan of \(repo)@\(arm): IN_PROGRESS; asking again in 2s"), out.stderr)
        XCTAssertTrue(out.stderr.contains("CRITICAL      CVE-2024-0001  openssl 3.0.1  (enhanced)"), out.stderr)
        XCTAssertTrue(out.stderr.contains("\(repo)@\(arm) (linux/arm64) has findings at or above CRITICAL: 1 CRITICAL"), out.stderr)
        XCTAssertFalse(out.stderr.contains("\(repo)@\(amd) (linux/amd64) has findings"), out.stderr)
        XCTAssertFalse(out.stdout.contains("\(repo):1.0@"), out.stdout)
        let polls = proxyLog().components(separatedBy: "\n").filter { $0 == "API DescribeImageScanFindings \(repo) \(arm)" }.count
        XCTAssertEqual(polls, 3, "IN_PROGRESS, IN_PROGRESS, ACTIVE")

        // The same push with a gate the findings pass: success, the reference on stdout.
        out = try slipway(["push", layout, "\(moto.host)/\(repo):1.0", "--scan-gate", "CRITICAL", "--progress", "plain"])
        XCTAssertEqual(out.status, 1, "the scripted CRITICAL repeats: \(out.stderr)")
        try moto.scriptECRAPI("DescribeImageScanFindings", repository: repo, digest: arm, responses: [(200, [
            "repositoryName": repo, "imageScanStatus": ["status": "COMPLETE"], "imageScanFindings": ["findingSeverityCounts": ["LOW": 3]]])])
        out = try slipway(["push", layout, "\(moto.host)/\(repo):1.0", "--scan-gate", "HIGH", "--progress", "plain"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stdout.contains("\(moto.host)/\(repo):1.0@sha256:"), out.stdout)

        // Right after a push with scan on push, ECR may not know the scan yet: ScanNotFound is
        // waited for too when a scan is expected (the repository has scan on push).
        try moto.scriptECRAPI("DescribeImageScanFindings", repository: repo, digest: amd, responses: [
            (400, ["__type": "ScanNotFoundException", "message": "Image scan does not exist for the image"]),
            (200, ["repositoryName": repo, "imageScanStatus": ["status": "COMPLETE"], "imageScanFindings": ["findingSeverityCounts": ["INFORMATIONAL": 1]]])])
        out = try slipway(["ecr", "scan-findings", repo, "--digest", amd, "--wait", "--fail-on", "LOW"])
        XCTAssertEqual(out.status, 0, out.stderr)
        XCTAssertTrue(out.stderr.contains("scan of \(repo)@\(amd): not there yet; asking again in 1s"), out.stderr)
        XCTAssertTrue(out.stdout.contains("COMPLETE  0         0     0       0    1"), out.stdout)

        // A scan that stays IN_PROGRESS: the wait ends at --timeout with the status named.
        try moto.scriptECRAPI("DescribeImageScanFindings", repository: repo, digest: amd, responses: [
            (200, ["repositoryName": repo, "imageScanStatus": ["status": "IN_PROGRESS"]])])
        let started = Date()
        out = try slipway(["ecr", "scan-findings", repo, "--digest", amd, "--wait", "--timeout", "2s", "--fail-on", "HIGH"])
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("the scan of \(repo)@\(amd) is still IN_PROGRESS after 2s; wait longer with --timeout"), out.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "bounded by --timeout")

        // A scan that cannot finish fails the gate closed.
        try moto.scriptECRAPI("DescribeImageScanFindings", repository: repo, digest: arm, responses: [(200, [
            "repositoryName": repo, "imageScanStatus": ["status": "UNSUPPORTED_IMAGE", "description": "The operating system and/or package manager are not supported."]])])
        out = try slipway(["ecr", "scan-findings", repo, "--digest", arm, "--wait", "--fail-on", "HIGH"])
        XCTAssertEqual(out.status, 1, out.stderr)
        XCTAssertTrue(out.stderr.contains("the scan is UNSUPPORTED_IMAGE (The operating system and/or package manager are not supported.), so it cannot pass --fail-on HIGH"), out.stderr)
    }
}
