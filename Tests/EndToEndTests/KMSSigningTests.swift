import Foundation
import TestSupport
import XCTest

/// `--sign awskms:///…` against moto's KMS (ECC_NIST_P256, SIGN_VERIFY), the image in the real
/// test registry; the public key comes from KMS through boto3 and the signatures are checked
/// by `SignatureVerifier` (Python `cryptography`).
final class KMSSigningTests: XCTestCase {
    var work = ""
    var registry: TestRegistries!
    var moto: TestMoto!
    var env: [String: String] = [:]
    let ns = uniqueName("kms")

    override func setUpWithError() throws {
        (work, registry, env) = try TestRegistries.workspace()
        moto = try TestMoto.require()
        env.merge(["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "", "AWS_REGION": "us-east-1",
                   "AWS_PROFILE": "", "AWS_DEFAULT_REGION": "", "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "",
                   "AWS_ENDPOINT_URL_KMS": moto.moto, "AWS_CONFIG_FILE": work + "/aws/config",
                   "AWS_SHARED_CREDENTIALS_FILE": work + "/aws/credentials"]) { _, new in new }
        XCTAssertEqual(try registry.login(registry.basic, environment: env).status, 0)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: work) }

    private func slipway(_ arguments: [String]) throws -> Run.Output { try Run.command(Run.slipway, arguments, environment: env) }

    /// Creates a KMS key (and alias) in moto with boto3; returns its ARN and writes its public key as PEM.
    private func createKey(alias: String, spec: String = "ECC_NIST_P256", publicKeyPEM: String) throws -> String {
        let script = """
        import base64, sys, boto3
        kms = boto3.client("kms", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        key = kms.create_key(KeySpec=sys.argv[2], KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        kms.create_alias(AliasName=sys.argv[3], TargetKeyId=key["KeyId"])
        der = kms.get_public_key(KeyId=key["KeyId"])["PublicKey"]
        body = base64.encodebytes(der).decode()
        open(sys.argv[4], "w").write("-----BEGIN PUBLIC KEY-----\\n" + body + "-----END PUBLIC KEY-----\\n")
        print(key["Arn"])
        """
        let output = try Run.command("python3", ["-c", script, moto.moto, spec, alias, publicKeyPEM])
        guard output.status == 0 else { throw TestError("creating the KMS key failed: \(output.stderr)") }
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testKMSAliasAndARNSignAndVerify() throws {
        let pub = work + "/kms.pub"
        let alias = "alias/release-\(UUID().uuidString.prefix(8).lowercased())"
        let arn = try createKey(alias: alias, publicKeyPEM: pub)
        let tag = "\(registry.basic)/\(ns)/app:1"
        let built = try slipway(["build", "--platform", "linux/amd64,linux/arm64", "-t", tag, "--push", "--sign", "awskms:///\(alias)",
                                 "--progress", "plain", Run.repositoryRoot.path + "/testdata/example"])
        XCTAssertEqual(built.status, 0, built.stderr)
        let raw = try registry.skopeo(["inspect", "--raw"] + registry.skopeoAuth(registry.basic) + ["docker://\(tag)"])
        let index = "sha256:" + sha256(raw)
        let children = ((try JSONSerialization.jsonObject(with: raw) as? [String: Any])?["manifests"] as? [[String: Any]] ?? [])
            .filter { ($0["annotations"] as? [String: String])?["vnd.docker.reference.type"] != "attestation-manifest" }
            .compactMap { $0["digest"] as? String }
        XCTAssertEqual(children.count, 2)
        let report = try SignatureVerifier.verify(registry, host: registry.basic, repository: "\(ns)/app", publicKey: pub, digests: [index] + children)
        XCTAssertEqual(report.values.map(\.valid), [1, 1, 1], "\(report)")

        for key in ["awskms:///\(alias)", "awskms:///\(arn)", pub] {
            let verified = try slipway(["verify", "--key", key, tag])
            XCTAssertEqual(verified.status, 0, "\(key): \(verified.stderr)")
        }
        let again = try slipway(["sign", "--key", "awskms:///\(arn)", tag, "--progress", "plain"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("already signed"), again.stderr)
        XCTAssertFalse((built.stderr + again.stderr).contains("testing\n"), "no AWS secret in output")
    }

    func testUnusableKMSKeysFailBeforeAnyPush() throws {
        let rsaAlias = "alias/rsa-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try createKey(alias: rsaAlias, spec: "RSA_2048", publicKeyPEM: work + "/rsa.pub")
        let tag = "\(registry.basic)/\(ns)/refused:1"
        let rsa = try slipway(["build", "-t", tag, "--push", "--sign", "awskms:///\(rsaAlias)", "--progress", "plain",
                               Run.repositoryRoot.path + "/testdata/example"])
        XCTAssertNotEqual(rsa.status, 0)
        XCTAssertTrue(rsa.stderr.contains("is RSA_2048: slipway signs with ECC_NIST_P256 keys"), rsa.stderr)
        XCTAssertFalse(rsa.stderr.contains("pushed in"), "refused before anything was pushed: \(rsa.stderr)")

        let missing = try slipway(["sign", "--key", "awskms:///alias/does-not-exist", tag])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("NotFoundException"), missing.stderr)

        let malformed = try slipway(["sign", "--key", "awskms:///not a key", tag])
        XCTAssertNotEqual(malformed.status, 0)
        XCTAssertTrue(malformed.stderr.contains("names no key") || malformed.stderr.contains("neither alias/NAME"), malformed.stderr)
    }
}

/// `build --push --sign awskms:///…` to an ECR host (moto's ECR API, the TLS registry behind
/// the ECR proxy): the signature goes through ECR's login like the image, and an IMMUTABLE
/// repository takes the first signature of a digest and refuses to move the `.sig` tag.
final class ECRSigningTests: XCTestCase {
    func testSignedPushToECRAndImmutableSignatureTag() throws {
        let moto = try TestMoto.require()
        let work = try Run.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        var env = moto.slipwayEnvironment(home: work)
        env.merge(["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"]) { _, new in new }
        let alias = "alias/\(uniqueName("ecr-release"))"
        let create = """
        import sys, boto3
        kms = boto3.client("kms", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        kms.create_alias(AliasName=sys.argv[2], TargetKeyId=key["KeyId"])
        """
        let made = try Run.command("python3", ["-c", create, moto.moto, alias])
        XCTAssertEqual(made.status, 0, made.stderr)
        let repository = uniqueName("signed")
        let tag = "\(moto.host)/\(repository):1"
        let built = try Run.command(Run.slipway, ["build", "-t", tag, "--push", "--create-repository=IMMUTABLE", "--sign", "awskms:///\(alias)",
                                                  "--progress", "plain", Run.repositoryRoot.path + "/testdata/example"], environment: env)
        XCTAssertEqual(built.status, 0, built.stderr)
        XCTAssertTrue(built.stderr.contains("signed \(moto.host)/\(repository)@sha256:"), built.stderr)
        let verified = try Run.command(Run.slipway, ["verify", "--key", "awskms:///\(alias)", tag], environment: env)
        XCTAssertEqual(verified.status, 0, verified.stderr)

        XCTAssertEqual(try Run.command(Run.slipway, ["keygen", "--output-prefix", work + "/second"], environment: env).status, 0)
        let second = try Run.command(Run.slipway, ["sign", "--key", work + "/second.key", tag], environment: env)
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.stderr.contains(".sig' already exists in immutable repository"), second.stderr)
        let still = try Run.command(Run.slipway, ["verify", "--key", "awskms:///\(alias)", tag], environment: env)
        XCTAssertEqual(still.status, 0, "the first signature is untouched: \(still.stderr)")

        // Signature tags excluded from immutability: the second key's signature is appended.
        let exclusion = try Run.command(Run.slipway, ["ecr", "put-image-tag-mutability", repository, "--mutable-tag", "*.sig"], environment: env)
        XCTAssertEqual(exclusion.status, 0, exclusion.stderr)
        let appended = try Run.command(Run.slipway, ["sign", "--key", work + "/second.key", tag], environment: env)
        XCTAssertEqual(appended.status, 0, appended.stderr)
        for key in ["awskms:///\(alias)", work + "/second.pub"] {
            let both = try Run.command(Run.slipway, ["verify", "--key", key, tag], environment: env)
            XCTAssertEqual(both.status, 0, "\(key): \(both.stderr)")
        }
    }
}
