import Foundation
import HTTP
import OCI

/// Ping and auth: the API root and scheme, the auth challenge, and the authorized request
/// every other call goes through.
extension RegistryClient {
    /// `GET /v2/`: finds the scheme (HTTPS, or plain HTTP for an allowed host that does not
    /// speak TLS) and the auth challenge, retrying as any step does. Steps ping lazily.
    public func ping() async throws {
        try await retry.run("ping \(registry)", onRetry: retryReporter("ping \(registry)")) { _ = try await self.baseURL() }
    }

    /// Checks that the credentials are accepted (what `login` verifies before saving them).
    public func checkLogin() async throws {
        try await retry.run("login \(registry)", onRetry: retryReporter("login")) {
            let url = try await self.baseURL().appendingPathComponent("v2/")
            let response = try await self.send(HTTPRequest(method: "GET", url: url), scopes: [], operation: "login")
            guard response.status == 200 else { throw self.statusError("login", response) }
        }
    }

    /// The API root, pinging `/v2/` the first time. Never retried here: it runs inside the
    /// step that needs it, and that step's retry covers it (a retry here would multiply).
    func baseURL() async throws -> URL {
        if let url = base.withLock({ $0 }) { return url }
        let https = URL(string: "https://\(apiHost)/")!
        let http = URL(string: "http://\(apiHost)/")!
        func ping(_ base: URL) async throws -> HTTPResponse {
            let request = HTTPRequest(method: "GET", url: base.appendingPathComponent("v2/"), sink: .memory(limit: 1 << 20))
            let response = try await transport.exchange(request)
            // A 408/429/5xx answer to the ping is as transient as on any other request.
            if RetryPolicy.isTransient(status: response.status) {
                throw RetryableFailure(error: statusError("ping /v2/", response), retryAfter: RetryPolicy.parseRetryAfter(response.headers["Retry-After"]))
            }
            return response
        }
        var response: HTTPResponse
        var chosen = https
        do {
            response = try await ping(https)
        } catch RegistryError.transport(_, let message, _) where !message.localizedCaseInsensitiveContains("certificate")
                    && transport.allowsPlainHTTP(host: apiHost) {
            // Connected, but TLS failed (a plain-HTTP server answers the ClientHello with
            // garbage): plain HTTP, for a host allowed it — one named insecure, or one whose
            // every address is loopback. A certificate failure stays an error (the server does
            // speak TLS), and so does an unreachable host (plain HTTP would not reach it either).
            response = try await ping(http)
            chosen = http
        }
        switch response.status {
        case 200:
            auth.setChallenge(nil)
        case 401:
            let challenges = response.headers.values("WWW-Authenticate").flatMap(AuthChallenge.parse)
            guard let challenge = challenges.first(where: { $0.scheme == "bearer" }) ?? challenges.first else {
                throw RegistryError.protocolViolation(registry: registry, detail: "401 from /v2/ without a WWW-Authenticate challenge")
            }
            auth.setChallenge(challenge)
        default:
            throw statusError("ping /v2/", response)
        }
        base.withLock { $0 = chosen }
        return chosen
    }

    /// Sends a request to this registry with authorization for `scopes`; on a 401 it refreshes
    /// the token (or adopts the new challenge) and tries once more.
    func send(_ request: HTTPRequest, scopes: [String], operation: String) async throws -> HTTPResponse {
        let base = try await baseURL()
        var authorized = request
        for attempt in 0..<2 {
            authorized.headers.remove("Authorization")
            if authorized.url.origin == base.origin, let header = try await auth.authorization(scopes: scopes) {
                authorized.headers.set("Authorization", header)
            }
            let response = try await transport.exchange(authorized)
            if response.status == 401 {
                if attempt == 0 {
                    auth.invalidate(scopes: scopes, response: response)
                    continue
                }
                let codes = RegistryErrorDetail.decode(response.body) ?? []
                let credential = try? await auth.credential()
                let who = credential?.username.map { "user '\($0)'" } ?? (credential == nil ? "no credentials" : "the configured credentials")
                throw RegistryError.unauthorized(registry: registry, detail: "\(operation) was refused with \(who)" + (codes.isEmpty ? "" : " (" + codes.map(\.description).joined(separator: "; ") + ")"))
            }
            if RetryPolicy.isTransient(status: response.status) {
                throw RetryableFailure(error: statusError(operation, response), retryAfter: RetryPolicy.parseRetryAfter(response.headers["Retry-After"]))
            }
            return response
        }
        preconditionFailure("unreachable")
    }
}
