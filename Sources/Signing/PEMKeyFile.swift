import COpenSSL
import Foundation

/// Reads the keys `--key` / `--sign` name: a PEM ECDSA P-256 private key (PKCS#8
/// `PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, encrypted PKCS#8 `ENCRYPTED PRIVATE KEY` or a
/// `Proc-Type: 4,ENCRYPTED` SEC1 key, the last two with a password) or a PEM `PUBLIC KEY`.
///
/// cosign's own `cosign.key` (`ENCRYPTED SIGSTORE PRIVATE KEY` / `ENCRYPTED COSIGN PRIVATE
/// KEY`: scrypt, then NaCl secretbox, i.e. XSalsa20-Poly1305) is refused with a way out:
/// OpenSSL has scrypt and Poly1305 but no XSalsa20, and slipway implements no cipher itself.
public enum PEMKeyFile {
    /// The most a key file may be: key files are a few hundred bytes.
    static let sizeLimit = 64 << 10

    public static func readPrivateKey(path: String, password: String?) throws -> ECKey {
        try privateKey(pem: try read(path), named: path, password: password)
    }

    public static func readPublicKey(path: String) throws -> ECKey {
        try publicKey(pem: try read(path), named: path)
    }

    static func read(_ path: String) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SigningError.unusableKey("cannot read key file '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: sizeLimit + 1)) ?? Data()
        guard data.count <= sizeLimit else { throw SigningError.unusableKey("'\(path)' is larger than \(sizeLimit) bytes: not a key file") }
        return data
    }

    /// The PEM block types that occur in the file, in order.
    static func blockTypes(_ text: String) -> [String] {
        text.components(separatedBy: "\n").compactMap { line in
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.hasPrefix("-----BEGIN "), trimmed.hasSuffix("-----") else { return nil }
            return String(trimmed.dropFirst(11).dropLast(5))
        }
    }

    public static func privateKey(pem: Data, named name: String, password: String?) throws -> ECKey {
        let text = String(decoding: pem, as: UTF8.self)
        let types = blockTypes(text)
        if let cosign = types.first(where: { $0 == "ENCRYPTED SIGSTORE PRIVATE KEY" || $0 == "ENCRYPTED COSIGN PRIVATE KEY" }) {
            throw SigningError.unusableKey("'\(name)' is a cosign-encrypted key (\(cosign): scrypt + NaCl secretbox), which slipway cannot decrypt: OpenSSL has no XSalsa20. Use a PEM key instead: `slipway keygen` makes one (use its .pub with cosign as well), or export the key to PKCS#8 PEM with the tool that made it")
        }
        guard let type = types.first(where: { $0.hasSuffix("PRIVATE KEY") }) else {
            if types.contains("PUBLIC KEY") {
                throw SigningError.unusableKey("'\(name)' is a public key; signing needs the private key (verify takes the public one)")
            }
            throw SigningError.unusableKey("'\(name)' is not a PEM private key (expected -----BEGIN PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)")
        }
        let encrypted = type == "ENCRYPTED PRIVATE KEY" || text.contains("Proc-Type: 4,ENCRYPTED")
        if encrypted && (password ?? "").isEmpty {
            throw SigningError.unusableKey("'\(name)' is encrypted: give its password with --key-password-stdin (or COSIGN_PASSWORD)")
        }
        let key = try withBIO(pem) { bio -> OpaquePointer? in
            var secret = Array((password ?? "").utf8CString)
            defer { for i in secret.indices { secret[i] = 0 } }
            return secret.withUnsafeMutableBytes { raw in
                PEM_read_bio_PrivateKey(bio, nil, PEMKeyFile.passwordCallback, raw.baseAddress)
            }
        }
        guard let key else {
            OpenSSLErrors.clear()
            if encrypted { throw SigningError.unusableKey("cannot decrypt '\(name)': wrong password") }
            throw SigningError.unusableKey("'\(name)' holds no readable private key")
        }
        let loaded = ECKey(taking: key, isPrivate: true)
        try loaded.requireP256(what: "'\(name)'")
        return loaded
    }

    public static func publicKey(pem: Data, named name: String) throws -> ECKey {
        let text = String(decoding: pem, as: UTF8.self)
        let types = blockTypes(text)
        guard types.contains("PUBLIC KEY") else {
            if types.contains(where: { $0.hasSuffix("PRIVATE KEY") }) {
                throw SigningError.unusableKey("'\(name)' is a private key; verify with the public key (e.g. cosign.pub)")
            }
            throw SigningError.unusableKey("'\(name)' is not a PEM public key (expected -----BEGIN PUBLIC KEY-----)")
        }
        let key = try withBIO(pem) { bio in PEM_read_bio_PUBKEY(bio, nil, PEMKeyFile.noPasswordCallback, nil) }
        guard let key else {
            OpenSSLErrors.clear()
            throw SigningError.unusableKey("'\(name)' holds no readable public key")
        }
        let loaded = ECKey(taking: key, isPrivate: false)
        try loaded.requireP256(what: "'\(name)'")
        return loaded
    }

    static func withBIO<T>(_ data: Data, _ body: (OpaquePointer) -> T) throws -> T {
        try data.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { throw OpenSSLErrors.failure("BIO_new_mem_buf") }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    /// Copies the NUL-terminated password `u` points to; never prompts on a terminal (which
    /// OpenSSL's default callback would do).
    static let passwordCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = { buffer, size, _, user in
        guard let buffer, let user, size > 0 else { return 0 }
        let source = user.assumingMemoryBound(to: CChar.self)
        let length = min(Int(strlen(source)), Int(size))
        memcpy(buffer, source, length)
        return Int32(length)
    }

    static let noPasswordCallback: @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32 = { _, _, _, _ in 0 }
}
