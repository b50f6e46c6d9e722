import COpenSSL

/// SHA-1 and SHA-256 of one file in one pass: SPDX 2.3 requires a SHA-1 for every file, and
/// SHA-256 is what users compare with `sha256sum`.
final class FileDigests {
    private let sha1: OpaquePointer
    private let sha256: OpaquePointer

    init() {
        sha1 = EVP_MD_CTX_new()
        sha256 = EVP_MD_CTX_new()
        EVP_DigestInit_ex(sha1, EVP_sha1(), nil)
        EVP_DigestInit_ex(sha256, EVP_sha256(), nil)
    }

    deinit {
        EVP_MD_CTX_free(sha1)
        EVP_MD_CTX_free(sha256)
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(sha1, base, bytes.count)
        EVP_DigestUpdate(sha256, base, bytes.count)
    }

    /// Lowercase hex digests (SHA-1, SHA-256).
    func finish() -> (sha1: String, sha256: String) {
        (Self.hex(sha1, length: 20), Self.hex(sha256, length: 32))
    }

    private static func hex(_ context: OpaquePointer, length: Int) -> String {
        var digest = [UInt8](repeating: 0, count: 64)
        var size: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &size)
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(length * 2)
        for byte in digest.prefix(length) {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
