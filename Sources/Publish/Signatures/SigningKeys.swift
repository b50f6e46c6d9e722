import Foundation
import HTTP
import Signing

/// Turns what `--key` / `--sign` say into a signer or a public key: a PEM file, or an
/// `awskms://` URI. Secrets read here (the key password) are registered for redaction first.
/// A key that cannot be used is a failure (`error:`, exit 1), not a usage error.
public enum SigningKeys {
    /// The signer for `--key KEY` / `--sign KEY`; `password` unlocks an encrypted PEM key.
    /// KMS keys are checked (GetPublicKey) before any build or push starts.
    public static func signer(_ key: String, password: String?, settings: RegistrySettings) async throws -> any ImageSigner {
        if let password, !password.isEmpty { Redactor.register(password) }
        if KMSKeyURI.isKMS(key) {
            let signer = try KMSSigner(uri: try KMSKeyURI(parsing: key), settings: settings, transport: settings.transport())
            _ = try await signer.publicKey()
            return signer
        }
        do {
            return LocalKeySigner(key: try PEMKeyFile.readPrivateKey(path: key, password: password), keyName: key)
        } catch let error as SigningError {
            throw PublishError.failed("\(error)")
        }
    }

    /// The public key `verify --key` checks against: a PEM public key file, or a KMS key's.
    public static func publicKey(_ key: String, settings: RegistrySettings) async throws -> ECKey {
        if KMSKeyURI.isKMS(key) {
            return try await KMSSigner(uri: try KMSKeyURI(parsing: key), settings: settings, transport: settings.transport()).publicKey()
        }
        do { return try PEMKeyFile.readPublicKey(path: key) } catch let error as SigningError {
            throw PublishError.failed("\(error)")
        }
    }
}
