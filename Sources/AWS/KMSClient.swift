import Foundation

/// AWS KMS, the two calls signing needs (JSON 1.1 `TrentService`, SigV4 service `kms`;
/// endpoint from `AWS_ENDPOINT_URL_KMS` / `AWS_ENDPOINT_URL` / the profile, else
/// `kms.REGION.amazonaws.com`). The private key never leaves KMS.
public struct KMSClient: Sendable {
    public let environment: AWSEnvironment
    public let region: String
    let rpc: JSONRPC

    public init(environment: AWSEnvironment, region: String, endpoint: URL? = nil) throws {
        self.environment = environment
        self.region = region
        rpc = JSONRPC(environment: environment, service: .kms, targetPrefix: "TrentService", region: region,
                      endpoint: try endpoint ?? environment.endpoint(.kms, region: region))
    }

    public var endpoint: URL { rpc.endpoint }

    /// What `GetPublicKey` says about an asymmetric key.
    public struct PublicKey: Sendable, Hashable {
        /// DER `SubjectPublicKeyInfo`.
        public var der: Data
        public var keyARN: String
        public var keySpec: String?
        public var keyUsage: String?
        public var signingAlgorithms: [String]
    }

    public func getPublicKey(keyID: String, credentials: AWSCredentials) async throws -> PublicKey {
        struct Input: Encodable { var KeyId: String }
        struct Output: Decodable {
            var KeyId: String?
            var PublicKey: String
            var KeySpec: String?
            var CustomerMasterKeySpec: String?
            var KeyUsage: String?
            var SigningAlgorithms: [String]?
        }
        let out = try await rpc.call("GetPublicKey", Input(KeyId: keyID), as: Output.self, credentials: credentials)
        guard let der = Data(base64Encoded: out.PublicKey) else {
            throw AWSError.invalidResponse(service: "kms", operation: "GetPublicKey", detail: "PublicKey is not base64")
        }
        return PublicKey(der: der, keyARN: out.KeyId ?? keyID, keySpec: out.KeySpec ?? out.CustomerMasterKeySpec,
                         keyUsage: out.KeyUsage, signingAlgorithms: out.SigningAlgorithms ?? [])
    }

    /// How `Sign` takes the message: the bytes (KMS hashes them; at most 4096) or their digest.
    public enum MessageType: String, Sendable { case raw = "RAW", digest = "DIGEST" }

    /// The largest message `Sign` accepts with `MessageType` RAW.
    public static let rawMessageLimit = 4096

    /// `Sign` with `ECDSA_SHA_256`: the DER signature of `message` (a SHA-256 digest when
    /// `type` is `.digest`).
    public func sign(keyID: String, message: Data, type: MessageType, credentials: AWSCredentials) async throws -> Data {
        struct Input: Encodable { var KeyId: String; var Message: String; var MessageType: String; var SigningAlgorithm: String }
        struct Output: Decodable { var Signature: String }
        let input = Input(KeyId: keyID, Message: message.base64EncodedString(), MessageType: type.rawValue, SigningAlgorithm: "ECDSA_SHA_256")
        let out = try await rpc.call("Sign", input, as: Output.self, credentials: credentials)
        guard let der = Data(base64Encoded: out.Signature), !der.isEmpty else {
            throw AWSError.invalidResponse(service: "kms", operation: "Sign", detail: "Signature is not base64")
        }
        return der
    }
}
