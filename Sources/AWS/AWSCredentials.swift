import Foundation
import HTTP

/// A set of AWS credentials: long-term keys, or temporary ones with a session token and an
/// expiry. Printing one never shows the secret key or the token.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public var expiration: Date?
    /// Where they came from (`environment`, `profile 'ci' (assume role …)`, …), for messages.
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil, source: String = "static") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken.flatMap { $0.isEmpty ? nil : $0 }
        self.expiration = expiration
        self.source = source
        Redactor.register(secretAccessKey)
        if let sessionToken, !sessionToken.isEmpty { Redactor.register(sessionToken) }
    }

    public var description: String {
        "AWSCredentials(\(accessKeyID), secret ***\(sessionToken == nil ? "" : ", session token ***")\(expiration.map { ", expires \(AWSDate.iso8601($0))" } ?? ""), from \(source))"
    }

    /// Whether they expire within `margin` seconds of `now`.
    public func expires(within margin: TimeInterval, of now: Date = Date()) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) <= margin
    }
}

/// ISO-8601 timestamps as AWS writes them (`2015-08-30T12:36:00Z`, optionally with fractions
/// or an offset).
public enum AWSDate {
    public static func parse(_ text: String) -> Date? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let d = plain.date(from: t) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = fractional.date(from: t) { return d }
        if let seconds = Double(t) { return Date(timeIntervalSince1970: seconds) }
        return nil
    }

    public static func iso8601(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
