import Foundation
import Publish

/// The severity summary of ECR scans: one table row per image, then the findings at or
/// above the threshold (all findings without one), at most 50 per image.
struct ScanReportRenderer {
    let console: Console
    static let columns = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED", "UNTRIAGED"]

    static func lines(_ reports: [ECRScanReport]) -> [String] {
        var rows = [["IMAGE", "STATUS"] + columns]
        for r in reports {
            let image = (r.platform.map { $0 + " " } ?? "") + String(r.digest.prefix(19))
            rows.append([image, r.status] + columns.map { String(r.severityCounts[$0] ?? 0) })
        }
        let widths = (0..<rows[0].count).map { i in rows.map { $0[i].count }.max() ?? 0 }
        var out = rows.map { row in row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            .trimmingCharacters(in: .whitespaces) }
        for r in reports {
            if let description = r.statusDescription, !r.isComplete { out.append("\(r.platform ?? r.digest): \(description)") }
            guard !r.findings.isEmpty else { continue }
            out.append("\(r.platform ?? r.digest): \(r.threshold.map { "findings at or above \($0)" } ?? "findings"):")
            for f in r.findings.prefix(50) {
                out.append("  \(f.severity.padding(toLength: 13, withPad: " ", startingAt: 0)) \(f.name)\(f.package.map { "  " + $0 } ?? "")  (\(f.source))")
            }
            if r.findings.count > 50 { out.append("  … and \(r.findings.count - 50) more (--format json lists them all)") }
        }
        return out
    }

    /// Progress of waiting, on stderr.
    func progress(_ event: ECRScanProgress) {
        switch event {
        case .started(let image, let already):
            console.step(already ? "\(image) was scanned today already (StartImageScan: LimitExceededException): reading that scan"
                                 : "started an image scan of \(image) (StartImageScan)")
        case .waiting(let image, let status, let delay):
            console.step("scan of \(image): \(status == "NOT_FOUND" ? "not there yet" : status); asking again in \(Int(delay.rounded()))s")
        }
    }

    /// `--scan-gate` on build/push: everything on stderr (stdout carries the pushed references).
    func gate(_ event: ECRScanGateEvent) {
        switch event {
        case .progress(let progress): self.progress(progress)
        case .skipped(let message): console.warn(message)
        case .report(let report):
            for line in Self.lines([report]) { console.step("scan gate: \(line)") }
        }
    }
}
