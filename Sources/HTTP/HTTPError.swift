import Foundation

/// What the HTTP client fails with before there is an answer to hand back. Callers with their
/// own error vocabulary (the registry client, the AWS clients) translate these at their seam;
/// the descriptions are the ones users have always seen, and never hold a secret.
public enum HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request never got an HTTP answer (TLS, reset, timeout).
    case transport(host: String, message: String, retryable: Bool)
    /// Nothing could be asked at all: the name did not resolve, or the connection was refused.
    /// Retried once, quickly (a registry restarting, a DNS hiccup), never with backoff: an
    /// offline machine or a mistyped host must fail in seconds, not after minutes of retries.
    case unreachable(host: String, message: String)
    /// Plain HTTP was needed but the host is not in the insecure set.
    case insecureNotAllowed(host: String)
    /// An exchange HTTP does not allow here (too many redirects, an unsupported scheme).
    case protocolViolation(host: String, detail: String)
    /// The body outgrew the bound its sink set (`request` is `METHOD path`).
    case bodyTooLarge(host: String, request: String, limit: Int64)
    /// A local file (request body or response sink) could not be read or written.
    case io(String)
    case cancelled

    public var description: String {
        switch self {
        case .transport(let host, let message, _), .unreachable(let host, let message):
            return "cannot reach \(host): \(Redactor.redact(message))"
        case .insecureNotAllowed(let host):
            return "\(host) does not speak HTTPS; allow plain HTTP with --insecure-registry \(host)"
        case .protocolViolation(let host, let detail):
            return "\(host): unexpected response: \(Redactor.redact(detail))"
        case .bodyTooLarge(let host, let request, let limit):
            return "\(host): unexpected response: \(Redactor.redact("response to \(request) is larger than \(limit) bytes"))"
        case .io(let message):
            return message
        case .cancelled:
            return "cancelled"
        }
    }

    /// Whether sending the same request again may succeed (resets, timeouts, refused connects).
    public var isRetryable: Bool {
        switch self {
        case .transport(_, _, let retryable): return retryable
        case .unreachable: return true
        default: return false
        }
    }

    /// Whether the host could not be reached at all (see `unreachable`).
    public var isUnreachable: Bool {
        if case .unreachable = self { return true }
        return false
    }
}

extension HTTPError: LocalizedError {
    public var errorDescription: String? { description }
}
