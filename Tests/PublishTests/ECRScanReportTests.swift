import AWS
import Foundation
@testable import Publish
import XCTest

/// How a scan gate reads DescribeImageScanFindings: basic and enhanced findings alike,
/// ECR's totals over the page's list, suppressed findings left out, and failing closed.
final class ECRScanReportTests: XCTestCase {
    private func page(_ json: String) throws -> ECRScanFindings {
        try JSONDecoder().decode(ECRScanFindings.self, from: Data(json.utf8))
    }

    private func report(_ pages: [ECRScanFindings], threshold: String?) -> ECRScanReport {
        ECRScanReport.from(pages: pages, repository: "app", digest: "sha256:" + String(repeating: "a", count: 64), platform: "linux/arm64", threshold: threshold)
    }

    func testEnhancedAndBasicFindingsCountTheSame() throws {
        let enhanced = try page(#"{"imageScanStatus":{"status":"ACTIVE"},"imageScanFindings":{"enhancedFindings":[{"severity":"HIGH","status":"ACTIVE","packageVulnerabilityDetails":{"vulnerabilityId":"CVE-1","vulnerablePackages":[{"name":"zlib","version":"1.2"}]}},{"severity":"CRITICAL","status":"SUPPRESSED","packageVulnerabilityDetails":{"vulnerabilityId":"CVE-2"}},{"severity":"UNTRIAGED","status":"ACTIVE","title":"T"}]}}"#)
        let r = report([enhanced], threshold: "HIGH")
        XCTAssertEqual(r.severityCounts, ["HIGH": 1, "UNTRIAGED": 1], "counted from the list when ECR sends no totals; suppressed left out")
        XCTAssertTrue(r.isComplete, "ACTIVE (continuous scanning) is a finished scan")
        XCTAssertEqual(r.findings.map(\.name), ["CVE-1"])
        XCTAssertEqual(r.findings.first?.package, "zlib 1.2")
        XCTAssertEqual(r.findings.first?.source, "enhanced")
        XCTAssertEqual(r.gateFailure?.hasSuffix("has findings at or above HIGH: 1 HIGH"), true)
        XCTAssertNil(report([enhanced], threshold: "CRITICAL").gateFailure, "UNTRIAGED and suppressed meet no threshold")
    }

    func testTotalsWinOverTheListedPageAndLowerSeveritiesPass() throws {
        let basic = try page(#"{"imageScanStatus":{"status":"COMPLETE"},"imageScanFindings":{"findingSeverityCounts":{"MEDIUM":1500,"LOW":2},"findings":[{"name":"CVE-3","severity":"MEDIUM"}]},"nextToken":"t"}"#)
        let r = report([basic], threshold: "MEDIUM")
        XCTAssertEqual(r.severityCounts["MEDIUM"], 1500)
        XCTAssertTrue(r.failsThreshold)
        XCTAssertNil(report([basic], threshold: "HIGH").gateFailure)
    }

    func testAGateFailsClosedWithoutAFinishedScan() throws {
        for status in ["FAILED", "UNSUPPORTED_IMAGE", "IN_PROGRESS", "FINDINGS_UNAVAILABLE"] {
            let r = report([try page(#"{"imageScanStatus":{"status":"\#(status)"}}"#)], threshold: "CRITICAL")
            XCTAssertEqual(r.gateFailure?.contains("the scan is \(status)"), true, status)
        }
        let missing = ECRScanReport.notFound(repository: "app", digest: "sha256:b", platform: nil, threshold: "HIGH", why: "no scan")
        XCTAssertEqual(missing.gateFailure, "app@sha256:b has no scan: no scan")
        XCTAssertNil(report([try page(#"{"imageScanStatus":{"status":"FAILED"}}"#)], threshold: nil).gateFailure, "no threshold: report only")
    }

    func testThresholdsAndDurations() throws {
        XCTAssertEqual(try ECRSeverity.threshold("high", flag: "--fail-on"), "HIGH")
        XCTAssertThrowsError(try ECRSeverity.threshold("UNTRIAGED", flag: "--fail-on"))
        XCTAssertEqual(try ECRScanOptions.duration("10m", flag: "--timeout"), 600)
        XCTAssertEqual(try ECRScanOptions.duration("7d", flag: "--timeout"), 604_800)
        XCTAssertEqual(try ECRScanOptions.duration("45", flag: "--timeout"), 45)
        for bad in ["", "m", "-1s", "10x", "0"] { XCTAssertThrowsError(try ECRScanOptions.duration(bad, flag: "--timeout"), bad) }
    }
}
