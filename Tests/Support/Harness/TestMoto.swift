import Foundation
import XCTest

/// `scripts/test-moto`: moto_server (ECR, STS), the IMDSv2/ECS metadata server, and a TLS
/// docker-registry answering for `host` (123456789012.dkr.ecr.us-east-1.amazonaws.com) with
/// user AWS and moto's token, behind ecr-proxy.py (ECR's data-plane behaviour); `registry` is
/// the proxy's address.
public struct TestMoto: Sendable {
    public let dir: String
    public let moto: String
    public let metadata: String
    public let ecsToken: String
    public let registry: String
    public let host: String
    public let ca: String
    public let certsDir: String

    static let shared: Result<TestMoto, TestError> = ScriptedServices.load("test-moto", directory: "SLIPWAY_TEST_MOTO_DIR", marker: "SLIPWAY_TEST_MOTO_ENDPOINT") { values in
        TestMoto(
            dir: try setting(values, "SLIPWAY_TEST_MOTO_DIR"), moto: try setting(values, "SLIPWAY_TEST_MOTO_ENDPOINT"),
            metadata: try setting(values, "SLIPWAY_TEST_METADATA_ENDPOINT"), ecsToken: try setting(values, "SLIPWAY_TEST_ECS_TOKEN"),
            registry: try setting(values, "SLIPWAY_TEST_ECR_REGISTRY"), host: try setting(values, "SLIPWAY_TEST_ECR_HOST"),
            ca: try setting(values, "SLIPWAY_TEST_ECR_CA"), certsDir: try setting(values, "SLIPWAY_TEST_ECR_CERTS_DIR"))
    }

    /// The settings, or a skip when moto is not installed (a failure in CI).
    public static func require() throws -> TestMoto {
        let environment = ProcessInfo.processInfo.environment
        if environment["SLIPWAY_TEST_REQUIRE_REGISTRY"] != "1" && environment["SLIPWAY_TEST_MOTO_ENDPOINT"] == nil && !Run.isInstalled("moto_server") {
            throw XCTSkip("moto_server is not installed (pip install 'moto[server]')")
        }
        return try ScriptedServices.require(shared, "moto")
    }

    /// An environment for `slipway` against moto with no AWS credentials of any kind (a test
    /// adds the source it exercises), `home` as HOME, and the ECR host routed to the proxy.
    public func slipwayEnvironment(home: String) -> [String: String] {
        ["HOME": home, "DOCKER_CONFIG": home + "/docker", "XDG_CACHE_HOME": home + "/cache",
         "AWS_ENDPOINT_URL": moto, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
         "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
         "AWS_PROFILE": "", "AWS_DEFAULT_REGION": "", "AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "",
         "AWS_CONFIG_FILE": home + "/aws/config", "AWS_SHARED_CREDENTIALS_FILE": home + "/aws/credentials",
         "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
         "SSL_CERT_FILE": ca, "SLIPWAY_CONNECT_TO": "\(host):443:\(registry)"]
    }

    /// moto's record of a repository (DescribeRepositories, straight to moto, not through
    /// slipway), nil when it does not exist.
    public func describeRepository(_ name: String) throws -> [String: Any]? {
        let out = try Run.command("curl", ["-s", "-X", "POST", moto + "/",
                                           "-H", "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
                                           "-H", "Content-Type: application/x-amz-json-1.1",
                                           "-H", "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=0",
                                           "-d", #"{"repositoryNames":["\#(name)"]}"#])
        return (try Run.json(out.stdout)["repositories"] as? [[String: Any]])?.first
    }
}
