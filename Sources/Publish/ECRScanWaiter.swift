import AWS
import Foundation

/// What a scan gate or `ecr scan-findings` asks for.
public struct ECRScanOptions: Sendable, Hashable {
    /// Fail at or above this severity (nil: report only).
    public var threshold: String?
    /// Poll until the scan is finished (or `timeout` passes).
    public var wait: Bool
    public var timeout: TimeInterval
    /// Call StartImageScan first (a basic, manual scan: scan on push off, or a rescan).
    public var startScan: Bool

    public init(threshold: String? = nil, wait: Bool = true, timeout: TimeInterval = 600, startScan: Bool = false) {
        self.threshold = threshold
        self.wait = wait
        self.timeout = timeout
        self.startScan = startScan
    }

    /// `10m`, `90s`, `1h`, `2d` or plain seconds.
    public static func duration(_ text: String, flag: String) throws -> TimeInterval {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var number = text.lowercased()
        var factor = 1.0
        if let last = number.last, let unit = units[last] { factor = unit; number.removeLast() }
        guard let value = Double(number), value > 0, value.isFinite else {
            throw PublishError.invalidArgument("\(flag) must be a duration such as 90s, 10m, 1h or 7d, not '\(text)'")
        }
        return value * factor
    }
}

/// What the waiting reports: each poll that found the scan not finished.
public enum ECRScanProgress: Sendable {
    case waiting(image: String, status: String, retryIn: TimeInterval)
    /// StartImageScan was called; `alreadyScanned`: ECR refused a second manual scan today
    /// (LimitExceededException), so the existing one is read.
    case started(image: String, alreadyScanned: Bool)
}

/// Polls DescribeImageScanFindings until the scan of one image is finished: IN_PROGRESS and
/// PENDING are waited for with backoff (1 s doubling to 15 s), so is ScanNotFoundException
/// while a scan is expected (scan on push on the repository, an enhanced-scanning rule for
/// it, or StartImageScan just called); without one a missing scan is reported as such.
struct ECRScanWaiter {
    let client: ECRClient
    let credentials: AWSCredentials
    let registryID: String?
    let options: ECRScanOptions
    let onProgress: @Sendable (ECRScanProgress) -> Void
    /// One deadline for every image this waiter reports on: `--timeout` bounds the whole wait.
    let deadline: Date

    init(client: ECRClient, credentials: AWSCredentials, registryID: String?, options: ECRScanOptions,
         deadline: Date? = nil, onProgress: @escaping @Sendable (ECRScanProgress) -> Void) {
        self.client = client
        self.credentials = credentials
        self.registryID = registryID
        self.options = options
        self.onProgress = onProgress
        self.deadline = deadline ?? Date().addingTimeInterval(options.timeout)
    }

    static let pending: Set<String> = ["IN_PROGRESS", "PENDING"]

    func report(_ repository: String, digest: String, platform: String?) async throws -> ECRScanReport {
        let image = "\(repository)@\(digest)"
        var delay: TimeInterval = 1
        var started = false
        var expected: Bool?
        if options.startScan {
            onProgress(.started(image: image, alreadyScanned: !(try await start(repository, digest: digest))))
            started = true
        }
        while true {
            var status: String
            do {
                let first = try await client.describeImageScanFindings(repository, digest: digest, registryID: registryID, credentials: credentials)
                status = first.imageScanStatus?.status?.uppercased() ?? "UNKNOWN"
                if !Self.pending.contains(status) || !options.wait {
                    return ECRScanReport.from(pages: try await rest(after: first, repository, digest: digest), repository: repository, digest: digest,
                                              platform: platform, threshold: options.threshold)
                }
            } catch let error as AWSError where error.code == "ScanNotFoundException" {
                if expected == nil { expected = started ? true : await scanExpected(repository) }
                guard options.wait, expected == true else {
                    let why = expected == true ? "ECR has no scan of it yet (one is expected: use --wait to wait for it)" :
                        "ECR has no scan of it (scan on push is off for \(repository) and no scanning rule covers it): use --start-scan, or turn scan on push on"
                    return ECRScanReport.notFound(repository: repository, digest: digest, platform: platform, threshold: options.threshold, why: why)
                }
                status = "NOT_FOUND"
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                throw PublishError.failed("the scan of \(image) is still \(status == "NOT_FOUND" ? "not there (ScanNotFoundException)" : status) after \(Self.format(options.timeout)); "
                                          + "wait longer with --timeout (--scan-timeout on build/push)")
            }
            let pause = min(delay, remaining)
            onProgress(.waiting(image: image, status: status, retryIn: pause))
            try await Task.sleep(nanoseconds: UInt64(pause * 1_000_000_000))
            delay = min(delay * 2, 15)
        }
    }

    /// StartImageScan; LimitExceededException (ECR allows one manual scan a day) means a scan
    /// of the image exists already, which is read instead.
    private func start(_ repository: String, digest: String) async throws -> Bool {
        do {
            _ = try await client.startImageScan(repository, digest: digest, registryID: registryID, credentials: credentials)
            return true
        } catch let error as AWSError where error.code == "LimitExceededException" {
            return false
        }
    }

    /// The further pages of findings (bounded: 20 pages of 1,000).
    private func rest(after first: ECRScanFindings, _ repository: String, digest: String) async throws -> [ECRScanFindings] {
        var pages = [first]
        var token = first.nextToken
        while let next = token, !next.isEmpty, pages.count < 20 {
            let page = try await client.describeImageScanFindings(repository, digest: digest, nextToken: next, registryID: registryID, credentials: credentials)
            pages.append(page)
            token = page.nextToken
        }
        return pages
    }

    /// Whether ECR will scan the image by itself: scan on push on the repository, or an
    /// enhanced-scanning rule for it. Unknown (no permission to ask) counts as expected.
    private func scanExpected(_ repository: String) async -> Bool {
        if let found = try? await client.describeRepositories([repository], registryID: registryID, credentials: credentials).first,
           found.imageScanningConfiguration?.scanOnPush == true {
            return true
        }
        guard let registry = try? await client.getRegistryScanningConfiguration(credentials: credentials) else { return true }
        // Registry rules apply to basic scanning too (SCAN_ON_PUSH filters) and to enhanced.
        if let frequency = registry.frequency(for: repository), frequency != "MANUAL" { return true }
        return false
    }

    static func format(_ seconds: TimeInterval) -> String {
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        return "\(Int(seconds.rounded()))s"
    }
}
