import AWS
import Foundation
import HTTP
import TestSupport
import XCTest

/// The KMS client: endpoints, and `GetPublicKey` / `Sign` against moto's KMS, the signature
/// checked by Python `cryptography` with the key moto reports through boto3.
final class KMSTests: XCTestCase {
    func testEndpoints() throws {
        func url(_ r: String, fips: Bool = false, dual: Bool = false) throws -> String {
            try AWSEnvironment.defaultEndpoint(.kms, region: r, fips: fips, dualStack: dual).absoluteString
        }
        XCTAssertEqual(try url("eu-west-1"), "https://kms.eu-west-1.amazonaws.com/")
        XCTAssertEqual(try url("us-gov-west-1", fips: true), "https://kms-fips.us-gov-west-1.amazonaws.com/")
        XCTAssertEqual(try url("us-east-1", dual: true), "https://kms.us-east-1.api.aws/")
        XCTAssertEqual(try url("cn-north-1"), "https://kms.cn-north-1.amazonaws.com.cn/")
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-aws-empty-\(UUID().uuidString)").path
        let env = try AWSEnvironment(environment: ["HOME": home, "AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_KMS": "http://127.0.0.1:3"])
        XCTAssertEqual(try env.endpoint(.kms, region: "us-east-1").absoluteString, "http://127.0.0.1:3")
        XCTAssertEqual(try KMSClient(environment: env, region: "us-east-1").endpoint.absoluteString, "http://127.0.0.1:3")
    }

    func testSignAndGetPublicKeyAgainstMoto() async throws {
        let moto = try TestMoto.require()
        let work = try Run.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let create = """
        import sys, boto3
        kms = boto3.client("kms", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        print(kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"])
        """
        let made = try Run.command("python3", ["-c", create, moto.moto])
        XCTAssertEqual(made.status, 0, made.stderr)
        let arn = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let env = try AWSEnvironment(environment: ["HOME": work, "AWS_ENDPOINT_URL_KMS": moto.moto])
        let client = try KMSClient(environment: env, region: "us-east-1")
        let credentials = AWSCredentials(accessKeyID: "testing", secretAccessKey: "testing", sessionToken: nil, expiration: nil, source: "test")
        let key = try await client.getPublicKey(keyID: arn, credentials: credentials)
        XCTAssertEqual(key.keySpec, "ECC_NIST_P256")
        XCTAssertEqual(key.keyUsage, "SIGN_VERIFY")
        XCTAssertTrue(key.signingAlgorithms.contains("ECDSA_SHA_256"), "\(key.signingAlgorithms)")
        let message = Data(#"{"critical":{}}"#.utf8)
        let signature = try await client.sign(keyID: arn, message: message, type: .raw, credentials: credentials)
        try key.der.write(to: URL(fileURLWithPath: work + "/key.der"))
        try message.write(to: URL(fileURLWithPath: work + "/message"))
        try signature.write(to: URL(fileURLWithPath: work + "/signature"))
        let check = """
        import sys
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        d = sys.argv[1]
        key = serialization.load_der_public_key(open(d + "/key.der", "rb").read())
        key.verify(open(d + "/signature", "rb").read(), open(d + "/message", "rb").read(), ec.ECDSA(hashes.SHA256()))
        print("ok")
        """
        let verified = try Run.command("python3", ["-c", check, work])
        XCTAssertEqual(verified.stdout, "ok\n", verified.stderr)

        do {
            _ = try await client.getPublicKey(keyID: "alias/none-such", credentials: credentials)
            XCTFail("a missing key is an error")
        } catch let error as AWSError {
            XCTAssertTrue("\(error)".contains("NotFoundException"), "\(error)")
        }
    }
}
