import ArgumentParser
import Foundation
import Publish

/// `slipway ecr scan-findings`: an image's scan results, waited for, with a severity gate.
struct ECRScanFindings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan-findings",
        abstract: "Show an image's scan findings by severity; fail at a threshold.",
        usage: "slipway ecr scan-findings [<options>] <name>",
        discussion: """
        For an index (multi-platform image) each platform manifest is reported: ECR
        scans those. --wait polls DescribeImageScanFindings with backoff (1 s doubling
        to 15 s) while the scan is IN_PROGRESS or PENDING, and while ECR has no scan
        yet although one is coming (scan on push, an enhanced-scanning rule, or
        --start-scan); a scan that will not come is reported as missing (NOT_FOUND).

        With --fail-on the exit status is 1 when any image has a finding at or above
        that severity, or has no finished scan to judge (missing, FAILED,
        UNSUPPORTED_IMAGE, …).

        Examples:
          slipway ecr scan-findings app --tag 1.4.0 --wait --timeout 10m --fail-on HIGH
          slipway ecr scan-findings app --digest sha256:… --start-scan --wait \\
              --format json
        """
    )

    @Argument(help: "The repository name.")
    var name: String

    @Option(help: "The image's tag.")
    var tag: String?

    @Option(help: "The image's digest (sha256:…).")
    var digest: String?

    @Flag(help: "Wait until the scan is finished.")
    var wait = false

    @Option(help: "How long --wait waits (90s, 10m, 1h).")
    var timeout: String = "10m"

    @Option(name: .customLong("fail-on"), help: "Exit 1 at or above this severity: CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL.")
    var failOn: String?

    @Flag(name: .customLong("start-scan"), help: "Start a (basic, manual) scan first with StartImageScan.")
    var startScan = false

    @OptionGroup var registry: ECRRegistryIDOption
    @OptionGroup var output: ECRFormatOption
    @OptionGroup var aws: AWSOptions

    func options() throws -> ECRScanOptions {
        try validating {
            ECRScanOptions(threshold: try failOn.map { try ECRSeverity.threshold($0, flag: "--fail-on") }, wait: wait,
                           timeout: try ECRScanOptions.duration(timeout, flag: "--timeout"), startScan: startScan)
        }
    }

    func validate() throws {
        if (tag == nil) == (digest == nil) { throw ValidationError("give --tag or --digest (one of them)") }
        _ = try options()
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let renderer = ScanReportRenderer(console: console)
            let reports = try await aws.tasks(console: console).scanFindings(name, tag: tag, digest: digest, options: try options(),
                                                                              registryID: registry.registryID) { renderer.progress($0) }
            if output.isJSON {
                struct Out: Encodable { var images: [ECRScanReport]; var passed: Bool }
                try console.json(Out(images: reports, passed: reports.allSatisfy { $0.gateFailure == nil }))
            } else {
                ScanReportRenderer.lines(reports).forEach(console.result)
            }
            let failures = reports.compactMap(\.gateFailure)
            if !failures.isEmpty {
                failures.forEach { console.error($0) }
                throw ExitCode.failure
            }
        }
    }
}
