import Foundation

/// How often and how patiently to retry a failed registry operation: 408/429/5xx answers,
/// connection resets and timeouts are retried with exponential backoff and full jitter (so many
/// parallel uploads do not retry in lockstep), `Retry-After` is honoured, and the number of
/// retries is bounded so a broken registry fails the push instead of hanging it.
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
    func delay(attempt: Int, retryAfter: TimeInterval?) -> TimeInterval {
        let exponential = min(maxDelay, initialDelay * pow(2, Double(max(0, attempt - 1))))
        let jittered = exponential / 2 + Double.random(in: 0...(exponential / 2))
        if let retryAfter { return min(max(retryAfter, jittered), max(maxDelay, 1) * 4) }
        return jittered
    }

    /// Runs `body` until it succeeds, fails with a non-retryable error, or retries run out.
    func run<T>(_ what: String, onRetry: (@Sendable (_ attempt: Int, _ delay: TimeInterval, _ error: RegistryError) -> Void)?,
                _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch let failure as RetryableFailure {
                attempt += 1
                guard attempt <= maxRetries, failure.forced || failure.error.isRetryable else { throw failure.error }
                let pause = delay(attempt: attempt, retryAfter: failure.retryAfter)
                onRetry?(attempt, pause, failure.error)
                try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
            } catch let error as RegistryError {
                attempt += 1
                guard attempt <= maxRetries, error.isRetryable else { throw error }
                let pause = delay(attempt: attempt, retryAfter: nil)
                onRetry?(attempt, pause, error)
                try await Task.sleep(nanoseconds: UInt64(pause * 1e9))
            } catch is CancellationError {
                throw RegistryError.cancelled
            }
        }
    }
}

/// A registry error plus the server's `Retry-After`, carried only inside the retry loop.
struct RetryableFailure: Error {
    var error: RegistryError
    var retryAfter: TimeInterval?
    /// Retried even though `error` on its own is not (a `Docker-Content-Digest` that does not
    /// match what was sent: never accepted, but the request is sent again and re-verified).
    var forced = false

    /// `Retry-After` as seconds or an HTTP date.
    static func parseRetryAfter(_ value: String?) -> TimeInterval? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = TimeInterval(value) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }
}
