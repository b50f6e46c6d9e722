import Foundation
import HTTP

/// The registry client retries whole protocol steps (a HEAD, a manifest PUT, an upload from a
/// new session) rather than single requests: a lost upload session or a wrong
/// `Docker-Content-Digest` needs the step started over, and progress output names the step.
/// It uses the shared `RetryPolicy` loop on an unwrapped transport, so retries never nest.
extension RetryPolicy {
    /// Runs `body` until it succeeds, fails with a non-retryable error, or retries run out.
    func run<T>(_ what: String, onRetry: (@Sendable (_ attempt: Int, _ delay: TimeInterval, _ error: RegistryError) -> Void)?,
                _ body: () async throws -> T) async throws -> T {
        try await run(body, classify: { error -> Failure<RegistryError>? in
            switch error {
            case let failure as RetryableFailure:
                return Failure(failure.error, retryable: failure.forced || failure.error.isRetryable, retryAfter: failure.retryAfter)
            case let error as RegistryError:
                return Failure(error, retryable: error.isRetryable)
            case let error as HTTPError:
                let translated = RegistryError(error)
                return Failure(translated, retryable: translated.isRetryable)
            case is CancellationError:
                return Failure(.cancelled, retryable: false)
            default:
                return nil
            }
        }, onRetry: onRetry)
    }
}

/// A registry error plus the server's `Retry-After`, carried only inside the retry loop.
struct RetryableFailure: Error {
    var error: RegistryError
    var retryAfter: TimeInterval?
    /// Retried even though `error` on its own is not (a `Docker-Content-Digest` that does not
    /// match what was sent: never accepted, but the request is sent again and re-verified).
    var forced = false
}
