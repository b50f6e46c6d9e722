import COpenSSL
import Foundation

/// SHA-256 and HMAC-SHA256 on OpenSSL, the two primitives SigV4 needs.
enum Crypto {
    static func sha256(_ data: some DataProtocol) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let bytes = Array(data)
        bytes.withUnsafeBytes { raw in
            _ = out.withUnsafeMutableBufferPointer { o in
                SHA256(raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count, o.baseAddress)
            }
        }
        return out
    }

    static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                _ = out.withUnsafeMutableBufferPointer { o in
                    HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count, o.baseAddress, &length)
                }
            }
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func sha256Hex(_ data: some DataProtocol) -> String { hex(sha256(data)) }
}
