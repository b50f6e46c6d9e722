import COpenSSL
import Foundation

/// ECDSA with SHA-256 over a message, the signature as ASN.1 DER (what cosign stores, base64).
///
/// Signatures are randomized: OpenSSL before 3.2 has no RFC 6979 deterministic nonces
/// (`nonce-type`), and Debian 12 ships 3.0. A signature therefore differs between runs while
/// still verifying; the image, its digest and the signed payload do not change.
public enum ECDSA {
    public static func sign(_ message: Data, with key: ECKey) throws -> Data {
        guard key.isPrivate else { throw SigningError.unusableKey("signing needs a private key") }
        guard let ctx = EVP_MD_CTX_new() else { throw OpenSSLErrors.failure("EVP_MD_CTX_new") }
        defer { EVP_MD_CTX_free(ctx) }
        var pctx: OpaquePointer?
        guard EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nil, key.pointer) == 1 else { throw OpenSSLErrors.failure("EVP_DigestSignInit") }
        if hasDeterministicNonces, let pctx { try useDeterministicNonces(pctx) }
        var length = 0
        let ok: Bool = message.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self).baseAddress
            guard EVP_DigestSign(ctx, nil, &length, bytes, raw.count) == 1 else { return false }
            return true
        }
        guard ok else { throw OpenSSLErrors.failure("EVP_DigestSign") }
        var signature = [UInt8](repeating: 0, count: length)
        let signed: Bool = message.withUnsafeBytes { raw in
            EVP_DigestSign(ctx, &signature, &length, raw.bindMemory(to: UInt8.self).baseAddress, raw.count) == 1
        }
        guard signed else { throw OpenSSLErrors.failure("EVP_DigestSign") }
        return Data(signature.prefix(length))
    }

    /// Whether `signature` (DER) is a valid ECDSA-SHA256 signature of `message` by `key`.
    public static func verify(_ signature: Data, of message: Data, with key: ECKey) -> Bool {
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx); OpenSSLErrors.clear() }
        guard EVP_DigestVerifyInit(ctx, nil, EVP_sha256(), nil, key.pointer) == 1 else { return false }
        return signature.withUnsafeBytes { sig in
            message.withUnsafeBytes { msg in
                EVP_DigestVerify(ctx, sig.bindMemory(to: UInt8.self).baseAddress, sig.count,
                                 msg.bindMemory(to: UInt8.self).baseAddress, msg.count) == 1
            }
        }
    }

    /// RFC 6979 nonces (`nonce-type=1`), so the same key and message give the same signature.
    static func useDeterministicNonces(_ pctx: OpaquePointer) throws {
        var one: UInt32 = 1
        let set: Int32 = "nonce-type".withCString { name in
            var params = [OSSL_PARAM_construct_uint(name, &one), OSSL_PARAM_construct_end()]
            return EVP_PKEY_CTX_set_params(pctx, &params)
        }
        guard set == 1 else { throw OpenSSLErrors.failure("setting deterministic ECDSA nonces") }
    }

    /// Whether this OpenSSL offers RFC 6979 deterministic ECDSA nonces (3.2 and later).
    public static var hasDeterministicNonces: Bool { OpenSSL_version_num() >= 0x3020_0000 }
}
