import Foundation
import HTTP
import OCI

/// One challenge of a `WWW-Authenticate` header (RFC 7235): a scheme and its parameters,
/// e.g. `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="…"`.
public struct AuthChallenge: Sendable, Hashable {
    /// Lower-cased: `basic`, `bearer`.
    public var scheme: String
    /// Parameter names lower-cased, values unquoted.
    public var parameters: [String: String]

    public init(scheme: String, parameters: [String: String] = [:]) {
        self.scheme = scheme.lowercased()
        self.parameters = parameters
    }

    public var realm: String? { parameters["realm"] }
    public var service: String? { parameters["service"] }
    public var scope: String? { parameters["scope"] }

    /// Parses every challenge in a header value (a server may offer several, comma-separated).
    public static func parse(_ header: String) -> [AuthChallenge] {
        var challenges: [AuthChallenge] = []
        var scanner = Scanner(Array(header.utf8))
        while true {
            scanner.skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x2C }
            guard let scheme = scanner.token(), !scheme.isEmpty else { break }
            var challenge = AuthChallenge(scheme: scheme)
            while true {
                let mark = scanner.position
                scanner.skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x2C }
                guard let name = scanner.token(), !name.isEmpty else { scanner.position = mark; break }
                scanner.skip { $0 == 0x20 || $0 == 0x09 }
                guard scanner.peek == UInt8(ascii: "=") else {
                    // A bare token: the scheme of the next challenge (or a token68 we ignore).
                    scanner.position = mark
                    break
                }
                scanner.position += 1
                scanner.skip { $0 == 0x20 || $0 == 0x09 }
                let value = scanner.peek == UInt8(ascii: "\"") ? scanner.quoted() : (scanner.token() ?? "")
                challenge.parameters[name.lowercased()] = value
            }
            challenges.append(challenge)
            if scanner.atEnd { break }
        }
        return challenges
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { position >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[position] }
        mutating func skip(while predicate: (UInt8) -> Bool) {
            while let b = peek, predicate(b) { position += 1 }
        }
        mutating func token() -> String? {
            let start = position
            // tchar, plus '/' '+' '=' at the end for token68-ish values some servers send unquoted.
            while let b = peek, b > 0x20, b != 0x2C, b != 0x22, b != UInt8(ascii: "=") || position == start { position += 1 }
            return position > start ? String(decoding: bytes[start..<position], as: UTF8.self) : nil
        }
        mutating func quoted() -> String {
            position += 1
            var out: [UInt8] = []
            while let b = peek {
                position += 1
                if b == 0x5C, let next = peek { out.append(next); position += 1; continue }
                if b == 0x22 { break }
                out.append(b)
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}

/// Obtains and caches the `Authorization` header for one registry: Basic from the credential,
/// or a Bearer token from the challenge's realm, cached per scope set until shortly before it
/// expires, so a push of hundreds of blobs fetches one token, not one per request.
final class Authenticator: Sendable {
    let registry: String
    let transport: any HTTPTransport
    let credentials: any CredentialProvider

    private struct CachedToken { var value: String; var expires: Date }
    private struct State {
        var challenge: AuthChallenge?
        var tokens: [String: CachedToken] = [:]
        var credential: Credential??
        /// Token fetches under way, so parallel requests needing the same scopes share one.
        var inflight: [String: Task<CachedToken, Error>] = [:]
    }
    private let state = Locked(State())

    init(registry: String, transport: any HTTPTransport, credentials: any CredentialProvider) {
        self.registry = registry
        self.transport = transport
        self.credentials = credentials
    }

    /// Installs the challenge from a `/v2/` ping or a 401.
    func setChallenge(_ challenge: AuthChallenge?) {
        state.withLock { $0.challenge = challenge }
    }

    var challenge: AuthChallenge? { state.withLock { $0.challenge } }

    func credential() async throws -> Credential? {
        if let cached = state.withLock({ $0.credential }) { return cached }
        let found = try await credentials.credential(for: registry)
        state.withLock { $0.credential = .some(found) }
        return found
    }

    /// The header value for a request needing `scopes`, or nil when the registry wants none.
    func authorization(scopes: [String]) async throws -> String? {
        guard let challenge = self.challenge else { return nil }
        switch challenge.scheme {
        case "basic":
            guard let basic = try await credential()?.basicAuthorization else {
                throw RegistryError.unauthorized(registry: registry, detail: "the registry requires a login and no credentials were found (run `slipway login \(registry)`)")
            }
            return basic
        case "bearer":
            let key = Set(scopes).sorted().joined(separator: " ")
            if let token = state.withLock({ $0.tokens[key] }), token.expires > Date() { return "Bearer \(token.value)" }
            let sorted = Set(scopes).sorted()
            let fetch = state.withLock { state -> Task<CachedToken, Error> in
                if let running = state.inflight[key] { return running }
                let task = Task(executorPreference: Blocking.executor) { try await self.fetchToken(challenge: challenge, scopes: sorted) }
                state.inflight[key] = task
                return task
            }
            do {
                let token = try await fetch.value
                state.withLock {
                    $0.tokens[key] = token
                    $0.inflight[key] = nil
                }
                return "Bearer \(token.value)"
            } catch {
                state.withLock { $0.inflight[key] = nil }
                throw error
            }
        default:
            throw RegistryError.unauthorized(registry: registry, detail: "unsupported authentication scheme '\(challenge.scheme)'")
        }
    }

    /// Forgets the token for `scopes` after a 401 and adopts the new challenge, so the retry
    /// fetches a fresh token (expired, revoked, or for a wider scope the registry asked for).
    func invalidate(scopes: [String], response: HTTPResponse) {
        let key = Set(scopes).sorted().joined(separator: " ")
        let challenges = response.headers.values("WWW-Authenticate").flatMap(AuthChallenge.parse)
        let preferred = challenges.first { $0.scheme == "bearer" } ?? challenges.first
        state.withLock {
            $0.tokens[key] = nil
            if let preferred { $0.challenge = preferred }
        }
    }

    private func fetchToken(challenge: AuthChallenge, scopes: [String]) async throws -> CachedToken {
        guard let realmText = challenge.realm, let realm = URL(string: realmText), realm.scheme != nil else {
            throw RegistryError.protocolViolation(registry: registry, detail: "Bearer challenge without a usable realm")
        }
        let credential = try await credential()
        var request: HTTPRequest
        if let refresh = credential?.identityToken {
            // OAuth2 refresh-token grant (docker's identity tokens).
            var form = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", "slipway")]
            if let service = challenge.service { form.append(("service", service)) }
            if !scopes.isEmpty { form.append(("scope", scopes.joined(separator: " "))) }
            let body = form.map { "\($0.0)=\(Self.formEncode($0.1))" }.joined(separator: "&")
            request = HTTPRequest(method: "POST", url: realm, headers: ["Content-Type": "application/x-www-form-urlencoded"], body: .data(Data(body.utf8)), sink: .memory(limit: 1 << 20))
        } else {
            var components = URLComponents(url: realm, resolvingAgainstBaseURL: true)!
            var items = components.queryItems ?? []
            if let service = challenge.service { items.append(URLQueryItem(name: "service", value: service)) }
            for scope in scopes { items.append(URLQueryItem(name: "scope", value: scope)) }
            if let user = credential?.username, credential?.password != nil { items.append(URLQueryItem(name: "account", value: user)) }
            components.queryItems = items.isEmpty ? nil : items
            request = HTTPRequest(method: "GET", url: components.url!, sink: .memory(limit: 1 << 20))
            if let basic = credential?.basicAuthorization { request.headers.set("Authorization", basic) }
        }
        let response = try await transport.exchange(request)
        guard response.status == 200 else {
            let who = credential?.username.map { "user '\($0)'" } ?? (credential == nil ? "anonymous access" : "the identity token")
            if response.status == 401 || response.status == 403 {
                throw RegistryError.unauthorized(registry: registry, detail: "token service \(realm.hostAndPort) rejected \(who) (HTTP \(response.status))\(credential == nil ? "; run `slipway login \(registry)`" : "")")
            }
            throw RegistryError.status(registry: registry, operation: "token request to \(realm.hostAndPort)", status: response.status, errors: RegistryErrorDetail.decode(response.body) ?? [])
        }
        struct TokenAnswer: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Int?
            var issued_at: String?
        }
        guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: response.body),
              let value = answer.token ?? answer.access_token, !value.isEmpty else {
            throw RegistryError.protocolViolation(registry: registry, detail: "token service \(realm.hostAndPort) answered without a token")
        }
        Redactor.register(value)
        // The spec's default lifetime is 60 s; renew a little early so a request never carries
        // a token that expires in flight.
        let lifetime = TimeInterval(max(answer.expires_in ?? 60, 1))
        let margin = min(30, lifetime / 5)
        return CachedToken(value: value, expires: Date().addingTimeInterval(lifetime - margin))
    }

    static func formEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
