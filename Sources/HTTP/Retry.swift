import Foundation

/// How often and how patiently to retry a failed request: 408/429/5xx answers, connection
/// resets and timeouts are retried with exponential backoff and full jitter (so many parallel
/// uploads do not retry in lockstep), `Retry-After` is honoured, and the number of retries is
/// bounded so a broken server fails the command instead of hanging it. A host that cannot be
/// reached at all (no DNS answer, connection refused) is retried once, within a second, whatever
/// `maxRetries` says: an offline machine or a typo fails in seconds. One policy serves the
/// registry client, the AWS APIs and `ADD` downloads (`--retries`), and each request is retried
/// by exactly one loop spending one `Attempts` budget: loops never run inside loops.
public struct RetryPolicy: Sendable, Hashable {
    /// Retries after the first attempt (`--retries`); 0 disables retrying.
    public var maxRetries: Int
    public var initialDelay: TimeInterval
    public var maxDelay: TimeInterval

    public init(maxRetries: Int = 4, initialDelay: TimeInterval = 0.5, maxDelay: TimeInterval = 30) {
        self.maxRetries = maxRetries
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    public static let none = RetryPolicy(maxRetries: 0)

    /// The pause before retry number `attempt` (1-based): a random point in [d/2, d] with
    /// d = initialDelay·2^(attempt-1) capped at maxDelay, or the server's `Retry-After` if larger.
    public func delay(attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
        let exponential = min(maxDelay, initialDelay * pow(2, Double(max(0, attempt - 1))))
        let jittered = exponential / 2 + Double.random(in: 0...(exponential / 2))
        if let retryAfter { return min(max(retryAfter, jittered), max(maxDelay, 1) * 4) }
        return jittered
    }

    /// Whether an answer with this status is worth asking for again (408, 429, 5xx).
    public static func isTransient(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }

    /// `Retry-After` as seconds or an HTTP date.
    public static func parseRetryAfter(_ value: String?) -> TimeInterval? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = TimeInterval(value) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }

    /// One failed attempt as the retry loop sees it: what to report (and finally throw),
    /// whether another attempt may help, the server's `Retry-After`, and whether the host was
    /// unreachable (no DNS answer, connection refused: retried once, quickly).
    public struct Failure<Reported: Error> {
        public var error: Reported
        public var retryable: Bool
        public var retryAfter: TimeInterval?
        public var unreachable: Bool

        public init(_ error: Reported, retryable: Bool, retryAfter: TimeInterval? = nil, unreachable: Bool = false) {
            self.error = error
            self.retryable = retryable
            self.retryAfter = retryAfter
            self.unreachable = unreachable
        }
    }

    /// The retry budget of one unit of work: `maxRetries` failures in a row, counted afresh
    /// whenever the work makes progress (a chunked upload that moves on), and at most one quick
    /// retry for an unreachable host. Every retry loop (`run`, the registry's chunked uploads)
    /// spends one of these, so whatever the loop, a request is retried by exactly one layer.
    public struct Attempts: Sendable {
        public let policy: RetryPolicy
        /// Failures since the start or the last progress.
        public private(set) var failures = 0
        private var unreachableRetried = false

        public init(_ policy: RetryPolicy) { self.policy = policy }

        /// After a failure: the pause before the next attempt, or nil when there is none.
        public mutating func next<Reported>(after failure: Failure<Reported>) -> TimeInterval? {
            failures += 1
            guard failure.retryable, failures <= policy.maxRetries else { return nil }
            if failure.unreachable {
                guard !unreachableRetried else { return nil }
                unreachableRetried = true
                return min(policy.delay(attempt: 1, retryAfter: nil), RetryPolicy.unreachablePause)
            }
            return policy.delay(attempt: failures, retryAfter: failure.retryAfter)
        }

        /// The work got further than ever before: the count starts over.
        public mutating func progressed() {
            failures = 0
            unreachableRetried = false
        }
    }

    /// The longest pause before the one retry of an unreachable host.
    public static let unreachablePause: TimeInterval = 1

    /// Runs `body` until it succeeds, fails with an error `classify` does not retry, or the
    /// retries run out (then the classified error is thrown). Errors `classify` maps to nil
    /// pass through untouched. `onRetry` hears of each retry before its pause.
    public func run<T, Reported: Error>(_ body: () async throws -> T,
                                        classify: (any Error) -> Failure<Reported>?,
                                        onRetry: ((_ attempt: Int, _ delay: TimeInterval, _ error: Reported) -> Void)? = nil) async throws -> T {
        var attempts = Attempts(self)
        while true {
            do {
                return try await body()
            } catch {
                guard let failure = classify(error) else { throw error }
                guard let pause = attempts.next(after: failure) else { throw failure.error }
                onRetry?(attempts.failures, pause, failure.error)
                try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
            }
        }
    }
}
