import Foundation
import HTTP
import OCI
@testable import Registry
import TestSupport
import XCTest

final class AuthChallengeTests: XCTestCase {
    func testBearerChallenge() {
        let header = #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#
        let challenges = AuthChallenge.parse(header)
        XCTAssertEqual(challenges.count, 1)
        XCTAssertEqual(challenges[0].scheme, "bearer")
        XCTAssertEqual(challenges[0].realm, "https://auth.docker.io/token")
        XCTAssertEqual(challenges[0].service, "registry.docker.io")
        XCTAssertEqual(challenges[0].scope, "repository:samalba/my-app:pull,push")
    }

    func testBasicAndSeveralChallenges() {
        let challenges = AuthChallenge.parse(#"Basic realm="Registry Realm", Bearer realm="https://x/token",service=x, error="insufficient_scope""#)
        XCTAssertEqual(challenges.map(\.scheme), ["basic", "bearer"])
        XCTAssertEqual(challenges[0].realm, "Registry Realm")
        XCTAssertEqual(challenges[1].service, "x")
        XCTAssertEqual(challenges[1].parameters["error"], "insufficient_scope")
    }

    func testQuotedEscapesAndCase() {
        let challenges = AuthChallenge.parse(#"BEARER Realm="a\"b",SERVICE="s""#)
        XCTAssertEqual(challenges.first?.scheme, "bearer")
        XCTAssertEqual(challenges.first?.realm, "a\"b")
        XCTAssertEqual(challenges.first?.service, "s")
        XCTAssertEqual(AuthChallenge.parse("").count, 0)
        XCTAssertEqual(AuthChallenge.parse("Basic").first?.scheme, "basic")
    }
}

final class RedactorTests: XCTestCase {
    func testMasksHeadersTokensAndPasswords() {
        XCTAssertEqual(Redactor.redactHeader(name: "Authorization", value: "Bearer abc.def.ghi"), "Bearer ***")
        XCTAssertEqual(Redactor.redactHeader(name: "authorization", value: "Basic dXNlcjpwYXNz"), "Basic ***")
        XCTAssertEqual(Redactor.redactHeader(name: "Content-Type", value: "text/plain"), "text/plain")
        let text = #"Authorization: Bearer eyJhbGciOi.x.y {"token":"s3cr3t","access_token":"t0k","password":"hunter22"} url?password=pw1234&x=1 https://bob:pa55word@host/"#
        let out = Redactor.redact(text)
        for secret in ["eyJhbGciOi", "s3cr3t", "t0k", "hunter22", "pw1234", "pa55word"] {
            XCTAssertFalse(out.contains(secret), "\(secret) leaked in \(out)")
        }
        XCTAssertTrue(out.contains("x=1"))
        XCTAssertTrue(out.contains("https://bob:***@host/"))
    }

    func testRegisteredSecretsAreMaskedAnywhere() {
        let secret = "very-secret-\(UUID().uuidString)"
        _ = Credential(username: "u", password: secret)
        XCTAssertEqual(Redactor.redact("registry said: bad password \(secret)!"), "registry said: bad password ***!")
        let error = RegistryError.unauthorized(registry: "r", detail: "echo \(secret)")
        XCTAssertFalse(error.description.contains(secret))
        XCTAssertFalse(Credential(username: "u", password: secret).description.contains(secret))
    }
}

final class RetryPolicyTests: XCTestCase {
    func testRetriesOnlyRetryableErrorsAndStops() async throws {
        let attempts = Locked(0)
        let p = RetryPolicy(maxRetries: 2, initialDelay: 0.001, maxDelay: 0.002)
        do {
            try await p.run("x", onRetry: nil) {
                attempts.withLock { $0 += 1 }
                throw RegistryError.status(registry: "r", operation: "op", status: 503, errors: [])
            }
            XCTFail("expected failure")
        } catch let error as RegistryError {
            XCTAssertEqual(error.httpStatus, 503)
        }
        XCTAssertEqual(attempts.withLock { $0 }, 3)

        attempts.withLock { $0 = 0 }
        await XCTAssertThrowsAsync(try await p.run("x", onRetry: nil) {
            attempts.withLock { $0 += 1 }
            throw RegistryError.status(registry: "r", operation: "op", status: 400, errors: [RegistryErrorDetail(code: "TAG_INVALID")])
        })
        XCTAssertEqual(attempts.withLock { $0 }, 1)
    }

    func testErrorBodiesAreDecoded() {
        let body = Data(#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"x"}}]}"#.utf8)
        let details = RegistryErrorDetail.decode(body)
        XCTAssertEqual(details, [RegistryErrorDetail(code: "NAME_UNKNOWN", message: "repository name not known to registry")])
        XCTAssertNil(RegistryErrorDetail.decode(Data("<html>".utf8)))
        let error = RegistryError.status(registry: "r.example", operation: "PUT manifest a:b", status: 404, errors: details ?? [])
        XCTAssertEqual(error.codes, ["NAME_UNKNOWN"])
        XCTAssertEqual(error.description, "r.example: PUT manifest a:b failed with HTTP 404: NAME_UNKNOWN: repository name not known to registry")
    }
}

final class CredentialTests: XCTestCase {
    var scratch: TemporaryDirectory!
    var dir: URL { scratch.url }

    override func setUpWithError() throws { scratch = try TemporaryDirectory(prefix: "slipway-cred") }
    override func tearDown() { scratch = nil }

    func write(_ json: String) -> URL {
        let url = dir.appendingPathComponent("config.json")
        _ = FileManager.default.createFile(atPath: url.path, contents: Data(json.utf8))
        return url
    }

    func testAuthsEntries() async throws {
        let auth = Data("alice:s3cret-pw".utf8).base64EncodedString()
        let url = write(#"{"auths":{"https://index.docker.io/v1/":{"auth":"\#(auth)"},"http://reg.example:5000/v2/":{"auth":"\#(auth)"},"ghcr.io":{"identitytoken":"refresh-me-please"}}}"#)
        let provider = DockerConfigCredentials(configURL: url)
        let hub = try await provider.credential(for: "docker.io")
        XCTAssertEqual(hub?.username, "alice")
        XCTAssertEqual(hub?.password, "s3cret-pw")
        let other = try await provider.credential(for: "reg.example:5000")
        XCTAssertEqual(other?.username, "alice")
        let ghcr = try await provider.credential(for: "ghcr.io")
        XCTAssertEqual(ghcr?.identityToken, "refresh-me-please")
        XCTAssertNil(ghcr?.password)
        let none = try await provider.credential(for: "quay.io")
        XCTAssertNil(none)
        let missing = try await DockerConfigCredentials(configURL: dir.appendingPathComponent("nope.json")).credential(for: "x")
        XCTAssertNil(missing)
    }

    /// (An explicit entry for a host beats the ECR login the command line would use for it.)
    func testHasEntryForExactlyTheHost() {
        let ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        let url = write(#"{"auths":{"\#(ecr)":{"auth":"\#(Data("AWS:from-docker-config".utf8).base64EncodedString())"},"empty.example":{}},"credHelpers":{"helped.example":"pass"},"credsStore":"desktop"}"#)
        let config = DockerConfigCredentials(configURL: url)
        XCTAssertTrue(config.hasEntry(for: ecr))
        XCTAssertTrue(config.hasEntry(for: "helped.example"))
        XCTAssertFalse(config.hasEntry(for: "234567890123.dkr.ecr.eu-west-1.amazonaws.com"), "credsStore alone does not name a host")
        XCTAssertFalse(config.hasEntry(for: "empty.example"), "an entry without credentials")
        XCTAssertFalse(DockerConfigCredentials(configURL: dir.appendingPathComponent("nope.json")).hasEntry(for: ecr))
    }

    func testCredentialHelpers() async throws {
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        // A helper that echoes the server it was asked about, as docker-credential-* do.
        let script = """
        #!/bin/sh
        read server
        case "$1:$server" in
          get:helped.example) echo '{"ServerURL":"helped.example","Username":"bob","Secret":"helper-secret"}' ;;
          get:token.example) echo '{"ServerURL":"token.example","Username":"<token>","Secret":"an-identity-token"}' ;;
          get:*) echo "credentials not found in native keychain"; exit 1 ;;
        esac
        """
        let helper = bin.appendingPathComponent("docker-credential-fake")
        _ = FileManager.default.createFile(atPath: helper.path, contents: Data(script.utf8), attributes: [.posixPermissions: 0o755])
        let url = write(#"{"credHelpers":{"helped.example":"fake"},"credsStore":"fake"}"#)
        let provider = DockerConfigCredentials(configURL: url, searchPath: bin.path)
        let helped = try await provider.credential(for: "helped.example")
        XCTAssertEqual(helped?.username, "bob")
        XCTAssertEqual(helped?.password, "helper-secret")
        let token = try await provider.credential(for: "token.example")
        XCTAssertEqual(token?.identityToken, "an-identity-token")
        let none = try await provider.credential(for: "unknown.example")
        XCTAssertNil(none)

        let broken = DockerConfigCredentials(configURL: write(#"{"credsStore":"absent"}"#), searchPath: bin.path)
        do {
            _ = try await broken.credential(for: "x")
            XCTFail("expected an error")
        } catch {
            XCTAssertTrue("\(error)".contains("docker-credential-absent"), "\(error)")
        }
    }

    func testLoginWritesPrivateConfigKeepingOtherEntriesAndLogoutRemoves() async throws {
        let url = write(#"{"auths":{"other.example":{"auth":"b3RoZXI6eA=="}},"proxies":{"default":{"httpProxy":"http://p:3128"}}}"#)
        let store = CredentialStore(configURL: url)
        try store.login(registry: "reg.example:5000", username: "carol", password: "pa55-word")
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        XCTAssertNotNil(object?["proxies"], "other keys are kept")
        let auths = object?["auths"] as? [String: Any]
        XCTAssertNotNil(auths?["other.example"])
        let credential = try await DockerConfigCredentials(configURL: url).credential(for: "reg.example:5000")
        XCTAssertEqual(credential?.username, "carol")
        XCTAssertEqual(credential?.password, "pa55-word")

        try store.login(registry: "docker.io", username: "dave", password: "hub-password")
        let hub = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        XCTAssertNotNil((hub?["auths"] as? [String: Any])?["https://index.docker.io/v1/"])

        XCTAssertTrue(try store.logout(registry: "reg.example:5000"))
        XCTAssertFalse(try store.logout(registry: "reg.example:5000"))
        let after = try await DockerConfigCredentials(configURL: url).credential(for: "reg.example:5000")
        XCTAssertNil(after)
        let other = try await DockerConfigCredentials(configURL: url).credential(for: "other.example")
        XCTAssertEqual(other?.username, "other")
    }

    func testLoginIntoFreshDirectory() throws {
        let url = dir.appendingPathComponent("new/config.json")
        try CredentialStore(configURL: url).login(registry: "r.example", username: "u", password: "p")
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
    }

    func testDefaultConfigLocation() {
        XCTAssertEqual(DockerConfigCredentials.defaultConfigURL(["DOCKER_CONFIG": "/x/y"]).path, "/x/y/config.json")
        XCTAssertEqual(DockerConfigCredentials.defaultConfigURL(["HOME": "/home/z"]).path, "/home/z/.docker/config.json")
    }
}

final class HTTPConfigurationTests: XCTestCase {
    func testEnvironment() {
        let c = HTTPClient.Configuration.fromEnvironment([
            "HOME": "/home/u", "SSL_CERT_FILE": "/ca.pem", "SLIPWAY_CONNECT_TO": "a.example:443:127.0.0.1:5000, b:443:c:1",
            "SLIPWAY_INSECURE_REGISTRIES": "plain.example:5000",
        ])
        XCTAssertEqual(c.caFile, "/ca.pem")
        XCTAssertEqual(c.connectTo, ["a.example:443:127.0.0.1:5000", "b:443:c:1"])
        XCTAssertEqual(c.certsDirectories, ["/etc/docker/certs.d", "/home/u/.config/slipway/certs.d"])
        XCTAssertTrue(c.userAgent.hasPrefix("slipway/"))
        let client = HTTPClient(configuration: c)
        XCTAssertTrue(client.allowsPlainHTTP(host: "plain.example:5000"))
        XCTAssertTrue(client.allowsPlainHTTP(host: "127.0.0.1:5000"))
        XCTAssertTrue(client.allowsPlainHTTP(host: "localhost"))
        XCTAssertTrue(client.allowsPlainHTTP(host: "[::1]:5000"))
        XCTAssertFalse(client.allowsPlainHTTP(host: "registry.example"))
    }

    func testPlainHTTPRefusedForOtherHosts() async {
        let client = HTTPClient(configuration: HTTPClient.Configuration())
        do {
            _ = try await client.send(HTTPRequest(method: "GET", url: URL(string: "http://registry.example/v2/")!))
            XCTFail("expected refusal")
        } catch {
            XCTAssertEqual(error as? HTTPError, .insecureNotAllowed(host: "registry.example"))
        }
    }

    func testOriginAndLocation() {
        XCTAssertEqual(URL(string: "https://A.example/x")!.origin, "https://a.example:443")
        XCTAssertEqual(URL(string: "https://a.example:443/y")!.origin, URL(string: "https://a.example/z")!.origin)
        XCTAssertNotEqual(URL(string: "http://a.example/")!.origin, URL(string: "https://a.example/")!.origin)
        let response = HTTPResponse(status: 202, headers: ["Location": "/v2/r/blobs/uploads/abc?_state=x"], body: Data(),
                                    url: URL(string: "https://reg.example:5000/v2/r/blobs/uploads/")!)
        XCTAssertEqual(response.location?.absoluteString, "https://reg.example:5000/v2/r/blobs/uploads/abc?_state=x")
        XCTAssertEqual(RegistryClient.appendingQuery(response.location!, "digest=sha256:00").absoluteString,
                       "https://reg.example:5000/v2/r/blobs/uploads/abc?_state=x&digest=sha256:00")
    }
}

func XCTAssertThrowsAsync<T>(_ expression: @autoclosure () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async {
    do {
        _ = try await expression()
        XCTFail("expected an error", file: file, line: line)
    } catch {}
}
