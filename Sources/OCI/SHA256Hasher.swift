import COpenSSL

/// Incremental SHA-256 on OpenSSL's EVP interface: the hot path of every layer, so it must
/// stream (bounded memory) and use the assembly implementations OpenSSL ships.
/// A class so that it can live inside other reference types (sinks, callbacks) and be
/// finalised from there; one hasher owns one EVP context.
public final class SHA256Hasher {
    private let context: OpaquePointer
    public private(set) var byteCount: Int64 = 0

    public init() {
        // EVP_MD_CTX_new only fails on allocation failure, which we treat like any allocation.
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("out of memory allocating EVP_MD_CTX") }
        self.context = context
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
        byteCount += Int64(bytes.count)
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Finishes the hash; the hasher must not be updated afterwards.
    public func finalize() -> Digest {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        let hex = out.map { byte -> String in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
        // 32 bytes of lowercase hex are always a valid sha256 digest.
        return Digest(validatedAlgorithm: .sha256, hex: hex)
    }
}
