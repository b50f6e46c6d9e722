import Foundation
import HTTP

/// The registry client retries whole protocol steps (a HEAD, a manifest PUT, a ping with the
/// token fetch it leads to) rather than single requests: a wrong `Docker-Content-Digest` needs
/// the step sent again, and progress output names the step. This is the one retry layer of
/// registry traffic: the transport under it does not retry, nothing inside a step retries on
/// its own (not the `/v2/` ping, not a token fetch), and callers above it (the puller, the
/// pusher) never retry a step that failed. Chunked uploads are the one step with a loop of
/// their own (`BlobUpload`), spending the same kind of budget.
extension RetryPolicy {
    /// Runs `body` until it succeeds, fails with a non-retryable error, or retries run out.
    func run<T>(_ what: String, onRetry: (@Sendable (_ attempt: Int, _ delay: TimeInterval, _ error: RegistryError) -> Void)?,
                _ body: () async throws -> T) async throws -> T {
        try await run(body, classify: Self.classify, onRetry: onRetry)
    }

    /// How the registry's retry loops judge a failure.
    static func classify(_ error: any Error) -> Failure<RegistryError>? {
        switch error {
        case let failure as RetryableFailure:
            return Failure(failure.error, retryable: failure.forced || failure.error.isRetryable, retryAfter: failure.retryAfter,
                           unreachable: failure.error.isUnreachable)
        case let error as RegistryError:
            return Failure(error, retryable: error.isRetryable, unreachable: error.isUnreachable)
        case let error as HTTPError:
            let translated = RegistryError(error)
            return Failure(translated, retryable: translated.isRetryable, unreachable: translated.isUnreachable)
        case is CancellationError:
            return Failure(.cancelled, retryable: false)
        default:
            return nil
        }
    }
}

extension RegistryError {
    /// Whether the host could not be reached at all (see `unreachable`).
    public var isUnreachable: Bool {
        if case .unreachable = self { return true }
        return false
    }
}

/// A registry error plus the server's `Retry-After`, carried only inside the retry loop.
struct RetryableFailure: Error {
    var error: RegistryError
    var retryAfter: TimeInterval?
    /// Retried even though `error` on its own is not (a `Docker-Content-Digest` that does not
    /// match what was sent: never accepted, but the request is sent again and re-verified).
    var forced = false
    /// An upload must start over with a new session (the registry lost this one, or the digest
    /// it reported does not match).
    var restart = false
}
