import Foundation

extension TestMoto {
    /// Calls moto's ECR API directly (not through slipway): what a test checks results with.
    public func ecrAPI(_ action: String, _ body: [String: Any]) throws -> [String: Any] {
        let payload = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let out = try Run.command("curl", ["-s", "-X", "POST", moto + "/",
                                           "-H", "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.\(action)",
                                           "-H", "Content-Type: application/x-amz-json-1.1",
                                           "-H", "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/ecr/aws4_request, SignedHeaders=host, Signature=0",
                                           "-d", payload])
        return try Run.json(out.stdout)
    }

    /// The ECR API endpoint of the proxy (`AWS_ENDPOINT_URL_ECR`): moto behind it, with the
    /// answers a test scripts with `scriptECRAPI`.
    public var ecrAPIEndpoint: String { "https://\(registry)" }

    /// Makes the proxy answer `action` for this repository and image with `responses` in turn
    /// (the last one repeats); each response is `(HTTP status, JSON body)`.
    public func scriptECRAPI(_ action: String, repository: String, digest: String, responses: [(Int, [String: Any])]) throws {
        let spec: [String: Any] = ["action": action, "repositoryName": repository, "imageDigest": digest,
                                   "responses": responses.map { ["status": $0.0, "body": $0.1] }]
        let payload = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
        let out = try Run.command("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", ca, "-X", "POST", ecrAPIEndpoint + "/_script/ecr-api", "-d", payload])
        guard out.stdout == "204" else { throw TestError("scripting the ECR proxy failed: HTTP \(out.stdout) \(out.stderr)") }
    }
}
