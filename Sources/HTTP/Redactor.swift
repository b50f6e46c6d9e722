import Foundation

/// Masks secrets in anything that may reach a terminal, a log or an error message. Secrets are
/// found by where they stand, whatever their length: values of credential headers, bearer/basic
/// credentials, password/token/signature fields in JSON and query strings (a presigned URL's
/// `X-Amz-Signature` and `X-Amz-Security-Token` among them), URL user-info. On top of that, every
/// secret the process has loaded (registered here by the credential code) is masked wherever it
/// appears, so a registry echoing a token back cannot leak it either.
public enum Redactor {
    static let mask = "***"
    private static let secrets = Locked<Set<String>>([])

    /// Remembers a secret so `redact` masks it wherever it appears, even where nothing marks it
    /// as one. Short strings are not searched for (masking every "a" in free text would make
    /// messages unreadable); where slipway puts a secret, it is masked by position instead.
    public static func register(_ secret: String) {
        guard secret.utf8.count >= 6 else { return }
        secrets.withLock { _ = $0.insert(secret) }
    }

    /// Headers whose values are credentials: these, and any whose name mentions one
    /// (`X-Amz-Security-Token`, `X-aws-ec2-metadata-token`, `X-Registry-Auth`, …).
    static let sensitiveHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]
    static let sensitiveHeaderWords = ["auth", "token", "secret", "password", "signature", "cookie", "api-key", "apikey", "credential"]

    static func isSensitiveHeader(_ name: String) -> Bool {
        let lower = name.lowercased()
        return sensitiveHeaders.contains(lower) || sensitiveHeaderWords.contains { lower.contains($0) }
    }

    /// A header value safe to print: the auth scheme stays, the credential goes.
    public static func redactHeader(name: String, value: String) -> String {
        guard isSensitiveHeader(name) else { return redact(value) }
        if let space = value.firstIndex(of: " ") { return "\(value[..<space]) \(mask)" }
        return mask
    }

    private static let patterns: [NSRegularExpression] = {
        let sources = [
            // Authorization schemes followed by a credential.
            #"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"#,
            // JSON string fields that hold secrets.
            #"(?i)("(?:token|access_token|refresh_token|id_token|identitytoken|registrytoken|sessiontoken|password|secret|secretaccesskey|client_secret|auth)"\s*:\s*")[^"]*(")"#,
            // Form/query parameters that hold secrets (presigned URLs' signatures and session
            // tokens included: S3/SigV4, GCS, Azure SAS).
            #"(?i)(?<![A-Za-z0-9_])((?:password|passwd|refresh_token|access_token|id_token|token|client_secret|secret|api_key|apikey|"#
                + #"x-amz-signature|x-amz-security-token|x-goog-signature|x-goog-credential|signature|sig)=)[^&\s"]+"#,
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
