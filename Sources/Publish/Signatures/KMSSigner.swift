import AWS
import Foundation
import HTTP
import OCI
import Signing

/// A key in AWS KMS, named as cosign names it: `awskms:///alias/NAME`, `awskms:///KEY-ID`,
/// `awskms:///arn:aws:kms:REGION:ACCOUNT:key/ID` (or `…:alias/NAME`), and
/// `awskms://HOST[:PORT]/…` for a KMS endpoint of one's own.
public struct KMSKeyURI: Sendable, Hashable, CustomStringConvertible {
    public static let scheme = "awskms://"
    public var endpointHost: String?
    public var keyID: String
    /// The region an ARN names (else the configured one is used).
    public var region: String?

    public static func isKMS(_ text: String) -> Bool { text.hasPrefix(scheme) }

    public init(parsing text: String) throws {
        guard text.hasPrefix(Self.scheme) else { throw PublishError.invalidArgument("'\(text)' is not an awskms:// key URI") }
        let rest = text.dropFirst(Self.scheme.count)
        guard let slash = rest.firstIndex(of: "/") else {
            throw PublishError.invalidArgument("'\(text)': use awskms:///alias/NAME, awskms:///KEY-ID or awskms:///arn:aws:kms:REGION:ACCOUNT:key/ID")
        }
        let host = String(rest[..<slash])
        let key = String(rest[rest.index(after: slash)...])
        guard !key.isEmpty, !key.contains(where: { $0.isWhitespace }) else {
            throw PublishError.invalidArgument("'\(text)' names no key: use awskms:///alias/NAME, awskms:///KEY-ID or awskms:///arn:aws:kms:REGION:ACCOUNT:key/ID")
        }
        endpointHost = host.isEmpty ? nil : host
        keyID = key
        if key.hasPrefix("arn:") {
            let parts = key.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 6, parts[2] == "kms", !parts[3].isEmpty else {
                throw PublishError.invalidArgument("'\(key)' is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or …:alias/NAME)")
            }
            region = String(parts[3])
        } else if !key.hasPrefix("alias/") && !key.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
            let hint = host.isEmpty ? "" : " (awskms://\(host)/… names the endpoint \(host); for the default endpoint write three slashes: awskms:///\(host)/\(key))"
            throw PublishError.invalidArgument("'\(key)' is neither alias/NAME, a key id nor a key ARN\(hint)")
        }
    }

    public var description: String { Self.scheme + (endpointHost ?? "") + "/" + keyID }
}

/// Signs through AWS KMS `Sign` (ECDSA_SHA_256) with an `ECC_NIST_P256` / `SIGN_VERIFY` key;
/// the public key comes from `GetPublicKey` (and is checked to be such a key).
///
/// The payload goes as `MessageType` RAW while it is within KMS's 4096-byte limit (always, for
/// simple-signing payloads: KMS hashes it with SHA-256, which gives the same signature as
/// DIGEST over that hash), and as DIGEST beyond. RAW is what moto implements (it treats a
/// DIGEST message as raw bytes). Every signature is verified with the public key before it is
/// stored, so a wrong key or a misbehaving service never leaves a bad signature behind.
public final class KMSSigner: ImageSigner {
    public let keyName: String
    let uri: KMSKeyURI
    let client: KMSClient
    let credentials: any AWSCredentialsProvider
    private let cachedKey = Locked<ECKey?>(nil)

    public init(uri: KMSKeyURI, settings: RegistrySettings, transport: any HTTPTransport) throws {
        self.uri = uri
        keyName = uri.description
        let environment = try AWSEnvironment(profile: settings.awsProfile, transport: transport, retry: settings.retryPolicy)
        let region: String
        if let fromARN = uri.region { region = fromARN } else {
            guard let configured = environment.configuredRegion else {
                throw PublishError.failed("\(uri): no AWS region: set AWS_REGION (or `region` in the AWS profile), or name the key by its ARN, which holds the region")
            }
            region = configured
        }
        let endpoint = uri.endpointHost.flatMap { URL(string: "https://\($0)/") }
        client = try KMSClient(environment: environment, region: region, endpoint: endpoint)
        credentials = AWSCredentialChain(environment: environment)
    }

    public func publicKey() async throws -> ECKey {
        if let key = cachedKey.withLock({ $0 }) { return key }
        let answer = try await client.getPublicKey(keyID: uri.keyID, credentials: try await credentials.credentials())
        if let spec = answer.keySpec, spec != "ECC_NIST_P256" {
            throw PublishError.failed("KMS key \(uri) is \(spec): slipway signs with ECC_NIST_P256 keys (ECDSA P-256, as cosign)")
        }
        if let usage = answer.keyUsage, usage != "SIGN_VERIFY" {
            throw PublishError.failed("KMS key \(uri) has key usage \(usage): signing needs SIGN_VERIFY")
        }
        if !answer.signingAlgorithms.isEmpty, !answer.signingAlgorithms.contains("ECDSA_SHA_256") {
            throw PublishError.failed("KMS key \(uri) does not offer ECDSA_SHA_256 (it offers \(answer.signingAlgorithms.joined(separator: ", ")))")
        }
        let key = try ECKey.publicKey(der: answer.der)
        cachedKey.withLock { $0 = key }
        return key
    }

    public func sign(_ payload: Data) async throws -> Data {
        let key = try await publicKey()
        let raw = payload.count <= KMSClient.rawMessageLimit
        let message = raw ? payload : Self.bytes(hex: Digest.sha256(of: payload).hex)
        let signature = try await client.sign(keyID: uri.keyID, message: message, type: raw ? .raw : .digest,
                                              credentials: try await credentials.credentials())
        guard ECDSA.verify(signature, of: payload, with: key) else {
            throw PublishError.failed("KMS key \(uri) returned a signature that does not verify with its public key; nothing was stored")
        }
        return signature
    }

    static func bytes(hex: String) -> Data {
        var out = Data()
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8 = c <= 57 ? c - 48 : c - 87
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }
}
