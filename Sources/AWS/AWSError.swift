import Foundation
import HTTP

/// Everything the AWS code fails with. Messages never hold a secret: they pass through
/// `Redactor`, and every secret the AWS code loads is registered there first.
public enum AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No source in the chain had credentials; one line per source tried, saying why not.
    case noCredentials(tried: [String])
    /// A source was configured but failed (bad profile file, process exit status, STS error, …).
    case credentials(source: String, message: String)
    /// No region could be determined.
    case noRegion(String)
    /// An AWS API answered with an error (`code` is the exception name, e.g. `RepositoryNotFoundException`).
    case service(service: String, operation: String, status: Int, code: String, message: String)
    /// The request never got an answer.
    case transport(service: String, message: String)
    /// An answer that could not be understood.
    case invalidResponse(service: String, operation: String, detail: String)
    /// A request or setting that cannot be used (bad endpoint URL, bad option).
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .noCredentials(let tried):
            return "no AWS credentials found; tried, in order:\n" + tried.map { "  - " + Redactor.redact($0) }.joined(separator: "\n")
        case .credentials(let source, let message):
            return Redactor.redact("AWS credentials from \(source): \(message)")
        case .noRegion(let hint):
            return "no AWS region: \(hint)"
        case .service(let service, let operation, let status, let code, let message):
            return Redactor.redact("\(service) \(operation) failed (HTTP \(status)) \(code)\(message.isEmpty ? "" : ": " + message)")
        case .transport(let service, let message):
            return Redactor.redact("cannot reach \(service): \(message)")
        case .invalidResponse(let service, let operation, let detail):
            return Redactor.redact("\(service) \(operation): unexpected answer: \(detail)")
        case .invalidRequest(let message):
            return Redactor.redact(message)
        }
    }

    /// The service's exception name, when the failure is an API error.
    public var code: String? {
        if case .service(_, _, _, let code, _) = self { return code }
        return nil
    }
}

extension AWSError: LocalizedError {
    public var errorDescription: String? { description }
}
