import Foundation
import HTTP
import OCI

/// One entry of a registry's error body (`{"errors":[{"code":"NAME_UNKNOWN","message":…}]}`),
/// kept so callers can react to the code (e.g. offer to create a missing ECR repository).
public struct RegistryErrorDetail: Sendable, Hashable, Codable, CustomStringConvertible {
    public var code: String
    public var message: String?

    public init(code: String, message: String? = nil) {
        self.code = code
        self.message = message
    }

    public var description: String {
        guard let message, !message.isEmpty else { return code }
        return "\(code): \(message)"
    }

    /// Decodes the distribution-spec error body; nil for anything else (HTML from a proxy, …).
    static func decode(_ body: Data) -> [RegistryErrorDetail]? {
        struct Body: Decodable {
            struct Entry: Decodable { var code: String?; var message: String? }
            var errors: [Entry]?
        }
        guard !body.isEmpty, let decoded = try? JSONDecoder().decode(Body.self, from: body), let errors = decoded.errors else { return nil }
        return errors.map { RegistryErrorDetail(code: $0.code ?? RegistryErrorCode.unknown, message: $0.message) }
    }
}

/// Everything the registry client can fail with. Messages name the registry and the operation,
/// and never contain a secret (they pass through `Redactor`).
public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text is not a valid image reference; the second value says why.
    case invalidReference(String, String)
    /// The request never got an HTTP answer (TLS, reset, timeout).
    case transport(host: String, message: String, retryable: Bool)
    /// The host's name did not resolve or its port refused the connection (retried once,
    /// quickly). `image` is the reference being pulled or pushed, once the caller has named it.
    case unreachable(host: String, message: String, image: String?)
    /// The registry answered with an unexpected status; `errors` holds its decoded error codes.
    case status(registry: String, operation: String, status: Int, errors: [RegistryErrorDetail])
    /// The registry (or its token service) rejected the credentials, or none were found.
    case unauthorized(registry: String, detail: String)
    /// Content came back with another digest than the one it was requested or pushed by.
    case digestMismatch(what: String, expected: Digest, actual: String)
    /// A response the protocol does not allow (missing Location, bad JSON).
    case protocolViolation(registry: String, detail: String)
    /// A body outgrew the bound its request set (`request` is `METHOD path`): reading stopped there.
    case bodyTooLarge(host: String, request: String, limit: Int64)
    /// Reading or writing credentials (docker config, credential helpers) failed.
    case credentials(String)
    /// Plain HTTP was needed but the host is not in the insecure set.
    case insecureNotAllowed(host: String)
    /// A local file (blob, config) could not be read.
    case io(String)
    /// The operation was cancelled.
    case cancelled
    /// An image (index) has no manifest for the wanted platform; `available` lists what it has.
    case platformNotFound(reference: String, wanted: String, available: [String])
    /// A tag of an immutable repository already points at another manifest.
    case immutableTag(repository: String, tag: String, existing: Digest)

    /// The registry's error codes, if it sent any (`NAME_UNKNOWN`, `TAG_INVALID`, …).
    public var codes: [String] {
        if case .status(_, _, _, let errors) = self { return errors.map(\.code) }
        return []
    }

    /// The HTTP status, when the failure was an HTTP answer.
    public var httpStatus: Int? {
        switch self {
        case .status(_, _, let status, _): return status
        case .unauthorized: return 401
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .invalidReference(let text, let reason):
            return "invalid image reference '\(Redactor.redact(text))': \(reason)"
        case .transport(let host, let message, _):
            return "cannot reach \(host): \(Redactor.redact(message))"
        case .unreachable(let host, let message, let image):
            return "cannot reach \(host)\(image.map { " for \(Redactor.redact($0))" } ?? ""): \(Redactor.redact(message))"
        case .status(let registry, let operation, let status, let errors):
            var s = "\(registry): \(operation) failed with HTTP \(status)"
            if !errors.isEmpty { s += ": " + errors.map(\.description).joined(separator: "; ") }
            return Redactor.redact(s)
        case .unauthorized(let registry, let detail):
            return "\(registry): authentication failed: \(Redactor.redact(detail))"
        case .digestMismatch(let what, let expected, let actual):
            return "\(what): content has digest \(actual), expected \(expected)"
        case .protocolViolation(let registry, let detail):
            return "\(registry): unexpected response: \(Redactor.redact(detail))"
        case .bodyTooLarge(let host, let request, let limit):
            return "\(host): unexpected response: \(Redactor.redact("response to \(request) is larger than \(limit) bytes"))"
        case .credentials(let message):
            return Redactor.redact(message)
        case .insecureNotAllowed(let host):
            return "\(host) does not speak HTTPS; allow plain HTTP with --insecure-registry \(host)"
        case .io(let message):
            return message
        case .cancelled:
            return "cancelled"
        case .platformNotFound(let reference, let wanted, let available):
            return "base image \(reference) has no \(wanted) manifest; it has: \(available.isEmpty ? "no platform manifests" : available.joined(separator: ", "))"
        case .immutableTag(let repository, let tag, let existing):
            return "tag '\(tag)' already exists in immutable repository '\(repository)' at \(existing); push a new tag"
        }
    }

    /// Whether trying again later may succeed (408/429/5xx, resets, timeouts).
    public var isRetryable: Bool {
        switch self {
        case .transport(_, _, let retryable): return retryable
        case .unreachable: return true
        case .status(_, _, let status, _): return RetryPolicy.isTransient(status: status)
        default: return false
        }
    }

    /// The same error naming the image it happened for (the host alone may say little:
    /// `registry-1.docker.io` for a `COPY --from=typo`). Only errors that do not name a
    /// repository already change.
    public func naming(_ image: String) -> RegistryError {
        if case .unreachable(let host, let message, nil) = self { return .unreachable(host: host, message: message, image: image) }
        return self
    }
}

extension RegistryError: LocalizedError {
    public var errorDescription: String? { description }
}

extension RegistryError {
    /// The registry's name for a failure of the HTTP layer (same text as the HTTP error's).
    public init(_ error: HTTPError) {
        switch error {
        case .transport(let host, let message, let retryable): self = .transport(host: host, message: message, retryable: retryable)
        case .unreachable(let host, let message): self = .unreachable(host: host, message: message, image: nil)
        case .insecureNotAllowed(let host): self = .insecureNotAllowed(host: host)
        case .protocolViolation(let host, let detail): self = .protocolViolation(registry: host, detail: detail)
        case .bodyTooLarge(let host, let request, let limit): self = .bodyTooLarge(host: host, request: request, limit: limit)
        case .io(let message): self = .io(message)
        case .cancelled: self = .cancelled
        }
    }
}

extension HTTPTransport {
    /// `send`, with the transport's own failures as `RegistryError`s: every registry caller
    /// (retries, the TLS fallback, error output) speaks that one vocabulary.
    func exchange(_ request: HTTPRequest) async throws -> HTTPResponse {
        do {
            return try await send(request)
        } catch let error as HTTPError {
            throw RegistryError(error)
        }
    }
}
