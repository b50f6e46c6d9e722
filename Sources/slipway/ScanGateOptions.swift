import ArgumentParser
import Foundation
import Publish

/// `--scan-gate SEVERITY` of `build --push` and `push`: ECR's scan of every pushed platform
/// manifest must finish without findings at or above SEVERITY before the command succeeds.
struct ScanGateOptions: ParsableArguments {
    @Option(name: .customLong("scan-gate"), help: ArgumentHelp("After pushing to ECR, wait for each platform manifest's scan and fail at or above this severity (CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL).", valueName: "severity"))
    var scanGate: String?

    @Option(name: .customLong("scan-timeout"), help: "How long --scan-gate waits for the scans.")
    var scanTimeout: String = "10m"

    @Flag(name: .customLong("scan-start"), help: "With --scan-gate: start each scan with StartImageScan (for repositories without scan on push).")
    var scanStart = false

    func policy() throws -> ECRScanGatePolicy? {
        guard let scanGate else {
            if scanStart { throw ValidationError("--scan-start needs --scan-gate SEVERITY") }
            return nil
        }
        return try validating {
            ECRScanGatePolicy(threshold: try ECRSeverity.threshold(scanGate, flag: "--scan-gate"),
                              timeout: try ECRScanOptions.duration(scanTimeout, flag: "--scan-timeout"), startScan: scanStart)
        }
    }

    func validate() throws { _ = try policy() }

    /// `settings` with the gate added.
    func apply(to settings: RegistrySettings) throws -> RegistrySettings {
        var settings = settings
        settings.scanGate = try policy()
        return settings
    }
}
