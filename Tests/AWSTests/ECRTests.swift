import Foundation
import HTTP
import OCI
import TestSupport
import XCTest
@testable import AWS

/// ECR's GetAuthorizationToken as a transport double for the token cache: each call answers
/// a new numbered token (`fake-ecr-password-N`) valid for `lifetime` seconds.
func fakeECR(lifetime: TimeInterval) -> FakeTransport {
    let calls = Locked(0)
    return FakeTransport(allowingPlainHTTP: true) { request in
        let n = calls.withLock { $0 += 1; return $0 }
        let token = Data("AWS:fake-ecr-password-\(n)".utf8).base64EncodedString()
        let body = #"{"authorizationData":[{"authorizationToken":"\#(token)","expiresAt":\#(Date().timeIntervalSince1970 + lifetime),"proxyEndpoint":"https://x"}]}"#
        return reply(request, 200, body: body)
    }
}

final class ECRHostAndEndpointTests: XCTestCase {
    func testHostForms() throws {
        let plain = try XCTUnwrap(ECRHost("123456789012.dkr.ecr.eu-west-1.amazonaws.com"))
        XCTAssertEqual([plain.account, plain.region], ["123456789012", "eu-west-1"])
        XCTAssertFalse(plain.fips || plain.dualStack)
        XCTAssertEqual(try XCTUnwrap(ECRHost("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com")).fips, true)
        let dual = try XCTUnwrap(ECRHost("123456789012.dkr-ecr.us-east-1.on.aws"))
        XCTAssertTrue(dual.dualStack)
        XCTAssertEqual(ECRHost("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")?.region, "cn-north-1")
        XCTAssertEqual(ECRHost("123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn")?.dualStack, true)
        XCTAssertEqual(ECRHost("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov")?.region, "us-iso-east-1")
        XCTAssertEqual(ECRHost("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov")?.region, "us-isob-east-1")
        XCTAssertEqual(ECRHost("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu")?.region, "eusc-de-east-1")
        XCTAssertEqual(ECRHost("123456789012.dkr.ecr.us-east-1.amazonaws.com:443")?.account, "123456789012")
        XCTAssertNil(ECRHost("12345678901.dkr.ecr.us-east-1.amazonaws.com"))
        XCTAssertNil(ECRHost("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example"))
        XCTAssertNil(ECRHost("registry.example.com"))
        XCTAssertTrue(ECRHost.isPublic("public.ecr.aws"))
        XCTAssertEqual(ECRHost(account: "123456789012", region: "us-east-1").host, "123456789012.dkr.ecr.us-east-1.amazonaws.com")
        XCTAssertEqual(ECRHost(account: "123456789012", region: "us-east-1", fips: true).host, "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com")
        XCTAssertEqual(ECRHost(account: "123456789012", region: "us-east-1", dualStack: true).host, "123456789012.dkr-ecr.us-east-1.on.aws")
        XCTAssertEqual(ECRHost(account: "123456789012", region: "cn-north-1").host, "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")
    }

    func testEndpointsAndOverrides() throws {
        func url(_ s: AWSService, _ r: String, fips: Bool = false, dual: Bool = false) throws -> String {
            try AWSEnvironment.defaultEndpoint(s, region: r, fips: fips, dualStack: dual).absoluteString
        }
        XCTAssertEqual(try url(.ecr, "eu-west-1"), "https://api.ecr.eu-west-1.amazonaws.com/")
        XCTAssertEqual(try url(.ecr, "us-east-1", fips: true), "https://ecr-fips.us-east-1.amazonaws.com/")
        XCTAssertEqual(try url(.ecr, "us-east-1", dual: true), "https://api.ecr.us-east-1.api.aws/")
        XCTAssertEqual(try url(.ecr, "cn-north-1"), "https://api.ecr.cn-north-1.amazonaws.com.cn/")
        XCTAssertEqual(try url(.sts, "us-gov-west-1", fips: true), "https://sts-fips.us-gov-west-1.amazonaws.com/")
        XCTAssertEqual(try url(.sts, "eu-west-1"), "https://sts.eu-west-1.amazonaws.com/")
        XCTAssertEqual(try url(.ecrPublic, "us-east-1"), "https://api.ecr-public.us-east-1.amazonaws.com/")
        XCTAssertThrowsError(try url(.ecr, "eu west"))

        let home = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-aws-empty-\(UUID().uuidString)").path  // never created: an empty HOME
        let env = try AWSEnvironment(environment: ["HOME": home, "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_ECR": "http://127.0.0.1:2",
                                                   "AWS_USE_FIPS_ENDPOINT": "true"])
        XCTAssertEqual(try env.endpoint(.ecr, region: "us-east-1").absoluteString, "http://127.0.0.1:2")
        XCTAssertEqual(try env.endpoint(.sts, region: "us-east-1").absoluteString, "http://127.0.0.1:1")
        XCTAssertTrue(env.useFIPS)
        let ignoring = try AWSEnvironment(environment: ["HOME": home, "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"])
        XCTAssertEqual(try ignoring.endpoint(.sts, region: "eu-west-1").absoluteString, "https://sts.eu-west-1.amazonaws.com/")
        // Region order: --region, AWS_REGION, AWS_DEFAULT_REGION, profile, registry host.
        XCTAssertEqual(try AWSEnvironment(environment: ["HOME": home, "AWS_REGION": "a-1", "AWS_DEFAULT_REGION": "b-1"], region: "c-1").region(), "c-1")
        XCTAssertEqual(try AWSEnvironment(environment: ["HOME": home, "AWS_REGION": "a-1", "AWS_DEFAULT_REGION": "b-1"]).region(), "a-1")
        XCTAssertEqual(try AWSEnvironment(environment: ["HOME": home, "AWS_DEFAULT_REGION": "b-1"]).region(), "b-1")
        XCTAssertEqual(try AWSEnvironment(environment: ["HOME": home]).region(fallback: "d-1"), "d-1")
        XCTAssertThrowsError(try AWSEnvironment(environment: ["HOME": home]).region())
    }

    func testRepositorySettings() throws {
        let s = try ECRRepositorySettings.parse("IMMUTABLE,scan-on-push,KMS:arn:aws:kms:us-east-1:1:key/k")
        XCTAssertEqual(s.mutability, .immutable)
        XCTAssertTrue(s.scanOnPush)
        XCTAssertEqual(s.encryption, .kms(key: "arn:aws:kms:us-east-1:1:key/k"))
        XCTAssertEqual(try ECRRepositorySettings.parse("default"), ECRRepositorySettings())
        XCTAssertThrowsError(try ECRRepositorySettings.parse("sometimes"))
    }

    func testTokenIsCachedInMemoryAndOnDiskAndRenewedAtHalfLife() async throws {
        let scratch = try TemporaryDirectory(prefix: "slipway-ecr-cache")
        let dir = scratch.url
        let fake = fakeECR(lifetime: 12 * 3600)
        let env = try AWSEnvironment(environment: ["HOME": dir.path], transport: fake)
        let keys = StaticAWSCredentials(AWSCredentials(accessKeyID: "AKIDCACHE", secretAccessKey: "cache-secret-1"))
        let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        let provider = ECRAuthorizationProvider(environment: env, awsCredentials: keys, cacheDirectory: dir)
        let first = try await provider.authorization(for: host)
        XCTAssertEqual(first.username, "AWS")
        XCTAssertEqual(first.password, "fake-ecr-password-1")
        _ = try await provider.authorization(for: host)
        XCTAssertEqual(fake.requests.count, 1)
        // A second process (new provider) reads the disk cache: mode 0600, no API call.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("ecr-auth").path)
        XCTAssertEqual(files.count, 1)
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("ecr-auth/" + files[0]).path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let again = ECRAuthorizationProvider(environment: env, awsCredentials: keys, cacheDirectory: dir)
        let v1 = try await again.authorization(for: host).password

        XCTAssertEqual(v1, "fake-ecr-password-1")
        XCTAssertEqual(fake.requests.count, 1)
        // Past half its lifetime: renewed.
        let later = try await again.authorization(for: host, now: Date().addingTimeInterval(6 * 3600 + 1))
        XCTAssertEqual(later.password, "fake-ecr-password-2")
        // Other credentials (another identity) do not share the token.
        let other = ECRAuthorizationProvider(environment: env, awsCredentials: StaticAWSCredentials(AWSCredentials(accessKeyID: "AKIDOTHER", secretAccessKey: "other-secret-1")),
                                             cacheDirectory: dir)
        _ = try await other.authorization(for: host)
        XCTAssertEqual(fake.requests.count, 3)
        // After a 401 the token is dropped and fetched anew.
        await again.invalidate(registry: host)
        let v2 = try await again.authorization(for: host).password

        XCTAssertEqual(v2, "fake-ecr-password-4")
    }

    /// A push's parallel requests ask for the login at once: they share one fetch per
    /// registry (one for each of two accounts), and all get the same token.
    func testConcurrentRequestsShareOneFetchPerRegistry() async throws {
        let scratch = try TemporaryDirectory(prefix: "slipway-ecr-shared")
        let fake = fakeECR(lifetime: 12 * 3600)
        // The API takes a while to answer, as over a network: every request arrives meanwhile.
        let env = try AWSEnvironment(environment: ["HOME": scratch.url.path], transport: SlowTransport(fake, delay: 0.2))
        let keys = StaticAWSCredentials(AWSCredentials(accessKeyID: "AKIDSHARED", secretAccessKey: "shared-secret-1"))
        let provider = ECRAuthorizationProvider(environment: env, awsCredentials: keys, cacheDirectory: scratch.url)
        let hosts = ["111122223333.dkr.ecr.us-east-1.amazonaws.com", "444455556666.dkr.ecr.us-east-1.amazonaws.com"]
        let passwords = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for i in 0..<32 {
                let host = hosts[i % 2]
                group.addTask { (host, try await provider.authorization(for: host).password) }
            }
            return try await group.reduce(into: [String: Set<String>]()) { $0[$1.0, default: []].insert($1.1) }
        }
        XCTAssertEqual(fake.requests.count, 2, "GetAuthorizationToken calls for 32 concurrent requests to 2 registries")
        XCTAssertEqual(provider.tokenFetches, 2)
        XCTAssertEqual(passwords.mapValues(\.count), [hosts[0]: 1, hosts[1]: 1], "every request to one registry got the same token")
    }
}

/// The ECR API against moto_server.
final class ECRClientMotoTests: XCTestCase {
    func testCreateDescribeAndToken() async throws {
        let moto = try TestMoto.require()
        let scratch = try TemporaryDirectory(prefix: "slipway-aws-moto")
        let home = scratch.path
        let env = try AWSEnvironment(environment: ["HOME": home, "AWS_ENDPOINT_URL_ECR": moto.moto, "AWS_ENDPOINT_URL_STS": moto.moto])
        let credentials = AWSCredentials(accessKeyID: "AKIDMOTO", secretAccessKey: "moto-secret-1")
        let ecr = try ECRClient(environment: env, region: "us-east-1")
        let name = "unit/\(UUID().uuidString.lowercased().prefix(8))"
        let created = try await ecr.createRepository(name, settings: ECRRepositorySettings(mutability: .immutable, scanOnPush: true, encryption: .kms(key: "arn:aws:kms:us-east-1:123456789012:key/k1"), tags: [("team", "core")]), credentials: credentials)
        XCTAssertEqual(created.repositoryUri, "123456789012.dkr.ecr.us-east-1.amazonaws.com/\(name)")
        XCTAssertEqual(created.imageTagMutability, "IMMUTABLE")
        XCTAssertEqual(created.imageScanningConfiguration?.scanOnPush, true)
        XCTAssertEqual(created.encryptionConfiguration?.encryptionType, "KMS")
        let described = try await ecr.describeRepositories([name], credentials: credentials)
        XCTAssertEqual(described.first?.repositoryName, name)
        do {
            _ = try await ecr.createRepository(name, settings: ECRRepositorySettings(), credentials: credentials)
            XCTFail("expected RepositoryAlreadyExistsException")
        } catch let error as AWSError {
            XCTAssertEqual(error.code, "RepositoryAlreadyExistsException")
        }
        do {
            _ = try await ecr.describeImages("missing-\(UUID().uuidString.lowercased().prefix(6))", selecting: .tag("1.0"), credentials: credentials)
            XCTFail("expected RepositoryNotFoundException")
        } catch let error as AWSError {
            XCTAssertEqual(error.code, "RepositoryNotFoundException")
        }
        let v6 = try await ecr.describeImages(name, credentials: credentials)

        XCTAssertEqual(v6, [])
        let token = try await ecr.getAuthorizationToken(registryID: "123456789012", credentials: credentials)
        XCTAssertEqual(token.username, "AWS")
        XCTAssertFalse(token.password.isEmpty)
        XCTAssertFalse(token.description.contains(token.password))
        let identity = try await STSClient(environment: env, region: "us-east-1").getCallerIdentity(credentials: credentials)
        XCTAssertEqual(identity.account, "123456789012")
        _ = moto
    }
}

/// A transport that answers after `delay` seconds (without holding a thread).
struct SlowTransport: HTTPTransport {
    let inner: any HTTPTransport
    let delay: TimeInterval

    init(_ inner: any HTTPTransport, delay: TimeInterval) {
        self.inner = inner
        self.delay = delay
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
        return try await inner.send(request)
    }

    func allowsPlainHTTP(host: String) -> Bool { inner.allowsPlainHTTP(host: host) }
}
