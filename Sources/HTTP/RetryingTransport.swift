import Foundation

/// A transport that sends each request again after a transient failure (a retryable transport
/// error, or a 408/429/5xx answer), following a `RetryPolicy`. For callers whose unit of work is
/// one request (AWS APIs, `ADD` downloads); the registry client retries whole protocol steps
/// with the same policy instead, on an unwrapped transport, so retries never nest. When the
/// retries run out on a transient answer, that answer is returned for the caller to judge.
public struct RetryingTransport: HTTPTransport {
    public let base: any HTTPTransport
    public let policy: RetryPolicy
    /// Called before each retry with the request, the attempt number, the pause and why.
    public let onRetry: (@Sendable (_ request: HTTPRequest, _ attempt: Int, _ delay: TimeInterval, _ reason: String) -> Void)?

    public init(_ base: any HTTPTransport, policy: RetryPolicy = RetryPolicy(),
                onRetry: (@Sendable (_ request: HTTPRequest, _ attempt: Int, _ delay: TimeInterval, _ reason: String) -> Void)? = nil) {
        self.base = base
        self.policy = policy
        self.onRetry = onRetry
    }

    /// A transient answer, carried through the retry loop.
    private struct TransientAnswer: Error, CustomStringConvertible {
        var response: HTTPResponse
        var description: String { "\(response.url.hostAndPort) answered HTTP \(response.status)" }
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let base = self.base
        do {
            return try await policy.run({
                let response = try await base.send(request)
                if RetryPolicy.isTransient(status: response.status) { throw TransientAnswer(response: response) }
                return response
            }, classify: { error -> RetryPolicy.Failure<any Error>? in
                switch error {
                case let answer as TransientAnswer:
                    return .init(answer, retryable: true, retryAfter: RetryPolicy.parseRetryAfter(answer.response.headers["Retry-After"]))
                case let failure as HTTPError:
                    return .init(failure, retryable: failure.isRetryable, unreachable: failure.isUnreachable)
                default:
                    return nil
                }
            }, onRetry: onRetry.map { report in { attempt, delay, error in report(request, attempt, delay, "\(error)") } })
        } catch let answer as TransientAnswer {
            return answer.response
        }
    }

    public func allowsPlainHTTP(host: String) -> Bool { base.allowsPlainHTTP(host: host) }
}
