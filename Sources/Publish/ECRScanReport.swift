import AWS
import Foundation

/// Severities as ECR names them, worst first; basic and enhanced (Inspector) findings use the
/// same names (enhanced adds UNTRIAGED, which no threshold counts).
public enum ECRSeverity {
    public static let ordered = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED", "UNTRIAGED"]
    public static let thresholds = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]

    /// `--fail-on`/`--scan-gate` as typed (any case); an unknown value is an invalid argument.
    public static func threshold(_ text: String, flag: String) throws -> String {
        let upper = text.uppercased()
        guard thresholds.contains(upper) else { throw PublishError.invalidArgument("\(flag) must be one of \(thresholds.joined(separator: ", ")), not '\(text)'") }
        return upper
    }

    /// The severities at or above `threshold`.
    static func atOrAbove(_ threshold: String) -> ArraySlice<String> {
        guard let index = thresholds.firstIndex(of: threshold) else { return [] }
        return ordered[...index]
    }
}

/// One image's scan as a gate sees it: the status, counts per severity (basic and enhanced
/// together) and the findings at or above the threshold.
public struct ECRScanReport: Sendable, Hashable, Encodable {
    public struct Finding: Sendable, Hashable, Encodable {
        public var severity: String
        public var name: String
        public var package: String?
        /// `basic` or `enhanced`.
        public var source: String
    }

    public var repository: String
    public var digest: String
    public var platform: String?
    /// ECR's scan status (COMPLETE, ACTIVE, IN_PROGRESS, FAILED, UNSUPPORTED_IMAGE, …), or
    /// `NOT_FOUND` when ECR has no scan of the image (ScanNotFoundException).
    public var status: String
    public var statusDescription: String?
    public var severityCounts: [String: Int]
    public var findings: [Finding]
    /// The threshold applied (nil: none), and whether the image fails it.
    public var threshold: String?
    public var failsThreshold: Bool

    /// Whether ECR finished the scan and its findings can be judged.
    public var isComplete: Bool { ["COMPLETE", "ACTIVE"].contains(status) }

    /// Counts from ECR's `findingSeverityCounts` when it sends them (totals over all pages),
    /// else from the findings listed; findings of every page are kept for the listing.
    static func from(pages: [ECRScanFindings], repository: String, digest: String, platform: String?, threshold: String?) -> ECRScanReport {
        let first = pages.first
        let status = first?.imageScanStatus?.status?.uppercased() ?? "UNKNOWN"
        var listed: [Finding] = []
        for page in pages {
            for f in page.imageScanFindings?.findings ?? [] {
                let package = f.attributes?.first { $0.key == "package_name" }?.value
                let version = f.attributes?.first { $0.key == "package_version" }?.value
                listed.append(Finding(severity: (f.severity ?? "UNDEFINED").uppercased(), name: f.name ?? "-",
                                      package: package.map { p in version.map { "\(p) \($0)" } ?? p }, source: "basic"))
            }
            for f in page.imageScanFindings?.enhancedFindings ?? [] where !["SUPPRESSED", "CLOSED"].contains((f.status ?? "").uppercased()) {
                let p = f.packageVulnerabilityDetails?.vulnerablePackages?.first
                listed.append(Finding(severity: (f.severity ?? "UNDEFINED").uppercased(),
                                      name: f.packageVulnerabilityDetails?.vulnerabilityId ?? f.title ?? "-",
                                      package: p?.name.map { n in p?.version.map { "\(n) \($0)" } ?? n }, source: "enhanced"))
            }
        }
        var counts: [String: Int] = [:]
        if let given = first?.imageScanFindings?.findingSeverityCounts, !given.isEmpty {
            for (k, v) in given { counts[k.uppercased(), default: 0] += v }
        } else {
            for f in listed { counts[f.severity, default: 0] += 1 }
        }
        var report = ECRScanReport(repository: repository, digest: digest, platform: platform, status: status,
                                   statusDescription: first?.imageScanStatus?.description, severityCounts: counts, findings: [],
                                   threshold: threshold, failsThreshold: false)
        if let threshold {
            let failing = Set(ECRSeverity.atOrAbove(threshold))
            report.failsThreshold = failing.contains { (counts[$0] ?? 0) > 0 }
            report.findings = listed.filter { failing.contains($0.severity) }
                .sorted { (ECRSeverity.ordered.firstIndex(of: $0.severity) ?? 99, $0.name) < (ECRSeverity.ordered.firstIndex(of: $1.severity) ?? 99, $1.name) }
        } else {
            report.findings = listed
        }
        return report
    }

    static func notFound(repository: String, digest: String, platform: String?, threshold: String?, why: String) -> ECRScanReport {
        ECRScanReport(repository: repository, digest: digest, platform: platform, status: "NOT_FOUND", statusDescription: why,
                      severityCounts: [:], findings: [], threshold: threshold, failsThreshold: false)
    }

    /// Why the gate does not pass, or nil when it does: a finding at or above the threshold,
    /// or no finished scan to judge (a gate fails closed).
    public var gateFailure: String? {
        guard let threshold else { return nil }
        let image = "\(repository)@\(digest)\(platform.map { " (\($0))" } ?? "")"
        if status == "NOT_FOUND" { return "\(image) has no scan: \(statusDescription ?? "ScanNotFoundException")" }
        if !isComplete { return "\(image): the scan is \(status)\(statusDescription.map { " (\($0))" } ?? ""), so it cannot pass --fail-on \(threshold)" }
        if failsThreshold {
            let worst = ECRSeverity.atOrAbove(threshold).compactMap { s in (severityCounts[s] ?? 0) > 0 ? "\(severityCounts[s] ?? 0) \(s)" : nil }
            return "\(image) has findings at or above \(threshold): \(worst.joined(separator: ", "))"
        }
        return nil
    }
}
