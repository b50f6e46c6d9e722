import COpenSSL
import Foundation

/// `ADD --checksum=ALGORITHM:HEX`. BuildKit's frontend parses the value as an OCI digest
/// (go-digest: sha256, sha384 or sha512, lowercase hex of the algorithm's length), so those
/// three are verified here, each by its own algorithm; anything else is refused before the
/// download, with the forms that work. (BuildKit's HTTP source itself hashes with sha256
/// only, so there a sha384 or sha512 pin never matches; here it does what it says.)
struct ContentChecksum: Equatable, CustomStringConvertible {
    enum Algorithm: String, CaseIterable {
        case sha256, sha384, sha512

        var hexLength: Int {
            switch self {
            case .sha256: return 64
            case .sha384: return 96
            case .sha512: return 128
            }
        }

        fileprivate var evp: OpaquePointer? {
            switch self {
            case .sha256: return EVP_sha256()
            case .sha384: return EVP_sha384()
            case .sha512: return EVP_sha512()
            }
        }
    }

    let algorithm: Algorithm
    let hex: String

    init(algorithm: Algorithm, hex: String) {
        self.algorithm = algorithm
        self.hex = hex
    }

    init(parsing text: String) throws {
        let usage = "use sha256, sha384 or sha512 followed by ':' and the digest in lowercase hex (e.g. sha256:<64 hex digits>)"
        guard let colon = text.firstIndex(of: ":") else {
            throw BuildError("ADD --checksum='\(text)' is not a digest; \(usage)")
        }
        let name = String(text[..<colon])
        let hex = String(text[text.index(after: colon)...])
        guard let algorithm = Algorithm(rawValue: name) else {
            throw BuildError("ADD --checksum: the algorithm '\(name)' is not supported; \(usage)")
        }
        guard hex.utf8.count == algorithm.hexLength,
              hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw BuildError("ADD --checksum='\(text)' is not a valid \(name) digest; \(usage)")
        }
        self.init(algorithm: algorithm, hex: hex)
    }

    var description: String { "\(algorithm.rawValue):\(hex)" }

    /// The checksum of a file with the same algorithm, read in 1 MiB pieces (bounded memory
    /// whatever the download's size).
    static func of(file path: String, algorithm: Algorithm) throws -> ContentChecksum {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BuildError("cannot read \(path)") }
        defer { try? handle.close() }
        guard let context = EVP_MD_CTX_new() else { throw BuildError("cannot allocate a hash context") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex(context, algorithm.evp, nil) == 1 else {
            throw BuildError("cannot start a \(algorithm.rawValue) hash")
        }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { _ = EVP_DigestUpdate(context, base, bytes.count) }
            }
        }
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &out, &length) == 1 else {
            throw BuildError("cannot finish a \(algorithm.rawValue) hash")
        }
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(Int(length) * 2)
        for byte in out.prefix(Int(length)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return ContentChecksum(algorithm: algorithm, hex: String(decoding: hex, as: UTF8.self))
    }
}
