import Foundation

/// Something that signs payloads with an ECDSA P-256 key: a PEM key file here, AWS KMS in
/// `Publish` (`KMSSigner`). Its public key is what `verify --key` checks signatures against,
/// and what duplicate detection uses.
public protocol ImageSigner: Sendable {
    /// How messages name the key: the file or the `awskms://` URI, never key material.
    var keyName: String { get }
    func publicKey() async throws -> ECKey
    /// The DER ECDSA-SHA256 signature of `payload`.
    func sign(_ payload: Data) async throws -> Data
}

/// A PEM private key file.
public struct LocalKeySigner: ImageSigner {
    public let keyName: String
    let key: ECKey

    public init(key: ECKey, keyName: String) {
        self.key = key
        self.keyName = keyName
    }

    public func publicKey() async throws -> ECKey { key }
    public func sign(_ payload: Data) async throws -> Data { try ECDSA.sign(payload, with: key) }
}
