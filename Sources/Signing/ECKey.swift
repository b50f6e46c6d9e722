import COpenSSL
import Foundation
import OCI

/// An OpenSSL `EVP_PKEY` holding an ECDSA P-256 key (private, or public only). Immutable once
/// made, so it may be shared between tasks (OpenSSL 3 allows concurrent use of a key).
public final class ECKey: @unchecked Sendable {
    let pointer: OpaquePointer
    /// Whether it holds the private half (then it can sign).
    public let isPrivate: Bool

    init(taking pointer: OpaquePointer, isPrivate: Bool) {
        self.pointer = pointer
        self.isPrivate = isPrivate
    }

    deinit { EVP_PKEY_free(pointer) }

    /// A new random P-256 key pair (`slipway keygen`).
    public static func generateP256() throws -> ECKey {
        guard let ctx = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw OpenSSLErrors.failure("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_CTX_set_group_name(ctx, "P-256") == 1 else {
            throw OpenSSLErrors.failure("EC key generation setup")
        }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(ctx, &key) == 1, let key else { throw OpenSSLErrors.failure("EVP_PKEY_generate") }
        return ECKey(taking: key, isPrivate: true)
    }

    /// The public key from its DER `SubjectPublicKeyInfo` (what AWS KMS `GetPublicKey` returns).
    public static func publicKey(der: Data) throws -> ECKey {
        let key: OpaquePointer? = der.withUnsafeBytes { raw in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            return d2i_PUBKEY(nil, &cursor, raw.count)
        }
        guard let key else {
            OpenSSLErrors.clear()
            throw SigningError.unusableKey("the public key is not a DER SubjectPublicKeyInfo")
        }
        let checked = ECKey(taking: key, isPrivate: false)
        try checked.requireP256(what: "the public key")
        return checked
    }

    /// Refuses anything but ECDSA over P-256, the scheme cosign's key-based signatures use.
    func requireP256(what: String) throws {
        guard EVP_PKEY_get_base_id(pointer) == EVP_PKEY_EC else {
            throw SigningError.unusableKey("\(what) is not an EC key: slipway signs with ECDSA P-256 keys (as cosign does); make one with `slipway keygen`")
        }
        var name = [CChar](repeating: 0, count: 64)
        var length = 0
        guard EVP_PKEY_get_group_name(pointer, &name, name.count, &length) == 1 else {
            throw SigningError.unusableKey("\(what) has no named curve: slipway signs with ECDSA P-256 keys")
        }
        let curve = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard curve == "prime256v1" || curve == "P-256" || curve == "secp256r1" else {
            throw SigningError.unusableKey("\(what) is on curve \(curve): slipway signs with ECDSA P-256 keys (as cosign does)")
        }
    }

    /// The public key as DER `SubjectPublicKeyInfo`.
    public func publicKeyDER() throws -> Data {
        var out: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(pointer, &out)
        guard length > 0, let out else { throw OpenSSLErrors.failure("i2d_PUBKEY") }
        defer { CRYPTO_free(out, #file, #line) }
        return Data(bytes: out, count: Int(length))
    }

    /// The public key as PEM (`-----BEGIN PUBLIC KEY-----`), the form `cosign.pub` has.
    public func publicKeyPEM() throws -> String {
        try OpenSSLBIO.write { bio in PEM_write_bio_PUBKEY(bio, pointer) }
    }

    /// The private key as PKCS#8 PEM; encrypted with AES-256-CBC (PBES2, scrypt-free: any
    /// OpenSSL reads it) when a password is given.
    public func privateKeyPEM(password: String?) throws -> String {
        guard isPrivate else { throw SigningError.unusableKey("this key has no private half") }
        return try OpenSSLBIO.write { bio in
            if let password, !password.isEmpty {
                var bytes = Array(password.utf8CString.dropLast())
                defer { for i in bytes.indices { bytes[i] = 0 } }
                return PEM_write_bio_PKCS8PrivateKey(bio, pointer, EVP_aes_256_cbc(), &bytes, Int32(bytes.count), nil, nil)
            }
            return PEM_write_bio_PrivateKey(bio, pointer, nil, nil, 0, nil, nil)
        }
    }

    /// Whether two keys have the same public half.
    public func samePublicKey(as other: ECKey) -> Bool { EVP_PKEY_eq(pointer, other.pointer) == 1 }

    /// A short, printable identity of the public key: the SHA-256 of its DER form.
    public func fingerprint() throws -> String { Digest.sha256(of: try publicKeyDER()).description }
}

/// OpenSSL's error queue as text, and memory BIO helpers.
enum OpenSSLErrors {
    static func failure(_ operation: String) -> SigningError {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return .crypto("\(operation) failed" + (messages.isEmpty ? "" : ": " + messages.joined(separator: "; ")))
    }

    static func clear() { ERR_clear_error() }
}

enum OpenSSLBIO {
    /// Runs `body` on a memory BIO and returns what it wrote.
    static func write(_ body: (OpaquePointer) -> Int32) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw OpenSSLErrors.failure("BIO_new") }
        defer { BIO_free(bio) }
        guard body(bio) == 1 else { throw OpenSSLErrors.failure("PEM encoding") }
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = BIO_read(bio, &buffer, Int32(buffer.count))
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<Int(n)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

