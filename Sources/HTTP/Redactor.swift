import Foundation

/// Masks secrets in anything that may reach a terminal, a log or an error message: header values
/// of `Authorization`-like headers, bearer/basic credentials, token and password fields in JSON
/// and query strings, URL user-info, and every secret the process has loaded (registered here by
/// the credential code), so a registry echoing a token back cannot leak it either.
public enum Redactor {
    static let mask = "***"
    private static let secrets = Locked<Set<String>>([])

    /// Remembers a secret so `redact` masks it wherever it appears. Short strings are ignored:
    /// masking every "a" would make messages unreadable and protects nothing.
    public static func register(_ secret: String) {
        guard secret.utf8.count >= 6 else { return }
        secrets.withLock { _ = $0.insert(secret) }
    }

    /// Headers whose values are credentials.
    static let sensitiveHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie", "x-amz-security-token"]

    /// A header value safe to print: the auth scheme stays, the credential goes.
    public static func redactHeader(name: String, value: String) -> String {
        guard sensitiveHeaders.contains(name.lowercased()) else { return redact(value) }
        if let space = value.firstIndex(of: " ") { return "\(value[..<space]) \(mask)" }
        return mask
    }

    private static let patterns: [NSRegularExpression] = {
        let sources = [
            // Authorization schemes followed by a credential.
            #"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"#,
            // JSON string fields that hold secrets.
            #"(?i)("(?:token|access_token|refresh_token|identitytoken|password|secret|auth|registrytoken)"\s*:\s*")[^"]*(")"#,
            // Form/query parameters that hold secrets.
            #"(?i)\b((?:password|refresh_token|access_token|token|client_secret)=)[^&\s"]+"#,
            // user:password@ in URLs.
            #"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@/\s]+(@)"#,
        ]
        return sources.map { try! NSRegularExpression(pattern: $0) }
    }()

    /// Returns `text` with every recognisable secret replaced by `***`.
    public static func redact(_ text: String) -> String {
        var result = text
        for secret in secrets.withLock({ $0 }) where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: mask)
        }
        for (i, regex) in patterns.enumerated() {
            let range = NSRange(result.startIndex..., in: result)
            let template: String
            switch i {
            case 0: template = "$1 \(mask)"
            case 1: template = "$1\(mask)$2"
            case 2: template = "$1\(mask)"
            default: template = "$1\(mask)$2"
            }
            result = regex.stringByReplacingMatches(in: result, range: range, withTemplate: template)
        }
        return result
    }
}
