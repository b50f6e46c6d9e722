import Foundation
import HTTP
import OCI
import TestSupport
import XCTest
@testable import AWS

/// The credential chain against real servers: moto's STS for AssumeRole and
/// AssumeRoleWithWebIdentity, the metadata server for IMDSv2 and ECS, a real script for
/// credential_process, real files for profiles.
final class CredentialChainTests: XCTestCase {
    var work = ""
    var moto: TestMoto!

    override func setUpWithError() throws {
        moto = try TestMoto.require()
        work = try TemporaryDirectory.create(prefix: "slipway-aws")
        try FileManager.default.createDirectory(atPath: work + "/.aws", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    /// A clean environment: no keys, a private HOME, IMDS off, endpoints at moto.
    func env(_ extra: [String: String] = [:]) -> [String: String] {
        var e = ["HOME": work, "AWS_ENDPOINT_URL": moto.moto, "AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1"]
        e.merge(extra) { _, new in new }
        return e
    }

    func chain(_ environment: [String: String], profile: String? = nil) throws -> AWSCredentialChain {
        AWSCredentialChain(environment: try AWSEnvironment(environment: environment, profile: profile))
    }

    func write(_ path: String, _ text: String, mode: Int = 0o644) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: work + "/" + path))
        chmod(work + "/" + path, mode_t(mode))
    }

    func testEnvironmentKeysComeFirst() async throws {
        try write(".aws/credentials", "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret-1\n")
        let c = try await chain(env(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret-1", "AWS_SESSION_TOKEN": "env-token-1"])).credentials()
        XCTAssertEqual(c.accessKeyID, "AKIDENV")
        XCTAssertEqual(c.sessionToken, "env-token-1")
        XCTAssertEqual(c.source, "environment")
        XCTAssertFalse(c.description.contains("env-secret-1"))
        // --profile skips the environment, as the AWS CLI does.
        let p = try await chain(env(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret-1"]), profile: "default").credentials()
        XCTAssertEqual(p.accessKeyID, "AKIDPROFILE")
    }

    func testProfilesFromCustomFilesAndCredentialsFileWins() async throws {
        try write("config", "[profile ci]\nregion = eu-west-1\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = config-secret\n# comment\n[sso-session x]\nsso_region = us-east-1\n")
        try write("creds", "[ci]\naws_access_key_id = AKIDCREDS ; inline comment\naws_secret_access_key = creds-secret\n")
        let e = env(["AWS_CONFIG_FILE": work + "/config", "AWS_SHARED_CREDENTIALS_FILE": work + "/creds", "AWS_PROFILE": "ci", "AWS_REGION": ""])
        let environment = try AWSEnvironment(environment: e)
        XCTAssertEqual(try environment.region(), "eu-west-1")
        let c = try await AWSCredentialChain(environment: environment).credentials()
        XCTAssertEqual(c.accessKeyID, "AKIDCREDS")
        XCTAssertEqual(c.secretAccessKey, "creds-secret")
        XCTAssertEqual(c.source, "profile 'ci'")
    }

    func testRoleArnWithSourceProfileAssumesTheRoleThroughSTS() async throws {
        try write(".aws/config", """
            [profile deploy]
            role_arn = arn:aws:iam::123456789012:role/deploy
            source_profile = base
            role_session_name = release-job
            [profile chained]
            role_arn = arn:aws:iam::123456789012:role/second
            source_profile = deploy
            [profile loop-a]
            role_arn = arn:aws:iam::123456789012:role/a
            source_profile = loop-b
            [profile loop-b]
            role_arn = arn:aws:iam::123456789012:role/b
            source_profile = loop-a
            """)
        try write(".aws/credentials", "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret-1\n")
        let c = try await chain(env(), profile: "deploy").credentials()
        XCTAssertTrue(c.accessKeyID.hasPrefix("ASIA"), c.accessKeyID)
        XCTAssertNotNil(c.sessionToken)
        XCTAssertNotNil(c.expiration)
        XCTAssertTrue(c.source.contains("assume role arn:aws:iam::123456789012:role/deploy"), c.source)
        let chained = try await chain(env(), profile: "chained").credentials()
        XCTAssertTrue(chained.source.contains("role/second"))
        do {
            _ = try await chain(env(), profile: "loop-a").credentials()
            XCTFail("a source_profile loop must fail")
        } catch let error as AWSError {
            XCTAssertTrue(error.description.contains("loop"), error.description)
        }
    }

    func testCredentialSourceEnvironment() async throws {
        try write(".aws/config", "[profile ec]\nrole_arn = arn:aws:iam::123456789012:role/ec\ncredential_source = Environment\n")
        let c = try await chain(env(["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret-2"]), profile: "ec").credentials()
        XCTAssertTrue(c.source.contains("role/ec"))
        XCTAssertNotEqual(c.accessKeyID, "AKIDENV")
    }

    func testCredentialProcessRunsTheCommand() async throws {
        try write("creds.sh", """
            #!/bin/sh
            echo '{"Version": 1, "AccessKeyId": "AKIDPROCESS", "SecretAccessKey": "process-secret-1", "SessionToken": "process-token-1", "Expiration": "2099-01-01T00:00:00Z"}'
            """, mode: 0o755)
        try write("fail.sh", "#!/bin/sh\necho 'cannot reach the vault' >&2\nexit 3\n", mode: 0o755)
        try write(".aws/config", "[profile proc]\ncredential_process = \(work)/creds.sh --flag\n[profile bad]\ncredential_process = \(work)/fail.sh\n")
        let c = try await chain(env(), profile: "proc").credentials()
        XCTAssertEqual(c.accessKeyID, "AKIDPROCESS")
        XCTAssertEqual(c.sessionToken, "process-token-1")
        XCTAssertEqual(c.expiration, AWSDate.parse("2099-01-01T00:00:00Z"))
        do {
            _ = try await chain(env(), profile: "bad").credentials()
            XCTFail("a failing credential_process must fail")
        } catch let error as AWSError {
            XCTAssertTrue(error.description.contains("status 3"), error.description)
            XCTAssertTrue(error.description.contains("cannot reach the vault"), error.description)
        }
    }

    func testWebIdentityFromEnvironmentAndProfile() async throws {
        try write("oidc-token", "eyJhbGciOiJSUzI1NiJ9.github-oidc-token-value.sig\n")
        let c = try await chain(env(["AWS_WEB_IDENTITY_TOKEN_FILE": work + "/oidc-token", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/gha",
                                     "AWS_ROLE_SESSION_NAME": "gha-run"])).credentials()
        XCTAssertTrue(c.accessKeyID.hasPrefix("ASIA"))
        XCTAssertEqual(c.source, "web identity (arn:aws:iam::123456789012:role/gha)")
        try write(".aws/config", "[profile irsa]\nrole_arn = arn:aws:iam::123456789012:role/irsa\nweb_identity_token_file = \(work)/oidc-token\n")
        let p = try await chain(env(), profile: "irsa").credentials()
        XCTAssertTrue(p.source.contains("web identity"))
        // A token file that is missing is an error, not a silent fall-through.
        do {
            _ = try await chain(env(["AWS_WEB_IDENTITY_TOKEN_FILE": work + "/missing", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/gha"])).credentials()
            XCTFail("expected an error")
        } catch let error as AWSError {
            XCTAssertTrue(error.description.contains("cannot read"), error.description)
        }
    }

    func testECSContainerCredentialsWithAuthorizationToken() async throws {
        try write("ecs-token", moto.ecsToken + "\n")
        let base = env(["AWS_CONTAINER_CREDENTIALS_FULL_URI": moto.metadata + "/ecs/credentials"])
        let fromFile = try await chain(base.merging(["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": work + "/ecs-token"]) { _, n in n }).credentials()
        XCTAssertEqual(fromFile.accessKeyID, "ASIAECSEXAMPLE")
        XCTAssertNotNil(fromFile.expiration)
        let fromValue = try await chain(base.merging(["AWS_CONTAINER_AUTHORIZATION_TOKEN": moto.ecsToken]) { _, n in n }).credentials()
        XCTAssertEqual(fromValue.accessKeyID, "ASIAECSEXAMPLE")
        do {
            _ = try await chain(base.merging(["AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong-token"]) { _, n in n }).credentials()
            XCTFail("a wrong token must fail")
        } catch let error as AWSError {
            XCTAssertTrue(error.description.contains("HTTP 401"), error.description)
        }
        // FULL_URI over plain HTTP to a non-local host is refused.
        do {
            _ = try await chain(env(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/creds"])).credentials()
            XCTFail("expected a refusal")
        } catch let error as AWSError {
            XCTAssertTrue(error.description.contains("must be https"), error.description)
        }
    }

    func testIMDSv2UsesASessionToken() async throws {
        let e = env(["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": moto.metadata])
        let c = try await chain(e).credentials()
        XCTAssertEqual(c.accessKeyID, "ASIAIMDSEXAMPLE")
        XCTAssertTrue(c.source.contains("role slipway-role"), c.source)
        let log = try String(contentsOfFile: moto.dir + "/metadata.log", encoding: .utf8)
        XCTAssertTrue(log.contains("PUT /latest/api/token"))
        XCTAssertTrue(log.contains("GET /latest/meta-data/iam/security-credentials/slipway-role"))
    }

    func testNothingFoundListsEverySourceTried() async throws {
        // IMDS on a closed loopback port: the error must say it was tried.
        let e = env(["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"])
        do {
            _ = try await chain(e).credentials()
            XCTFail("expected no credentials")
        } catch let error as AWSError {
            guard case .noCredentials(let tried) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(tried.count, 5, error.description)
            for word in ["environment", "shared profile 'default'", "web identity", "ECS container", "EC2 instance metadata (http://127.0.0.1:9)"] {
                XCTAssertTrue(error.description.contains(word), "\(word) missing from:\n\(error.description)")
            }
        }
        // A named profile that does not exist is an error of its own.
        do {
            _ = try await chain(env(), profile: "nope").credentials()
            XCTFail("expected an error")
        } catch let error as AWSError {
            XCTAssertTrue(error.description.contains("profile 'nope'"), error.description)
        }
    }

    func testTemporaryCredentialsAreRefreshedBeforeTheyExpire() async throws {
        let counter = Locked(0)
        let cache = CredentialCache()
        let fetch: @Sendable () async throws -> AWSCredentials = {
            let n = counter.withLock { $0 += 1; return $0 }
            return AWSCredentials(accessKeyID: "AKID\(n)", secretAccessKey: "s-\(n)-secret", expiration: Date().addingTimeInterval(n == 1 ? 120 : 3600))
        }
        let first = try await cache.get(margin: 300, fetch: fetch)
        XCTAssertEqual(first.accessKeyID, "AKID1")
        // Expires within the five-minute margin: fetched again.
        let second = try await cache.get(margin: 300, fetch: fetch)
        XCTAssertEqual(second.accessKeyID, "AKID2")
        let third = try await cache.get(margin: 300, fetch: fetch)
        XCTAssertEqual(third.accessKeyID, "AKID2")
        XCTAssertEqual(counter.withLock { $0 }, 2)
    }
}
