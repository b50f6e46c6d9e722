import Foundation

/// A content digest (`sha256:<64 hex>`): the identity of every blob, manifest and config.
/// Parsing validates algorithm and length so a digest that comes from a file or the network
/// can be trusted to name a path in the content store without escaping it.
public struct Digest: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public enum Algorithm: String, Sendable, Codable {
        case sha256, sha512
        var hexLength: Int { self == .sha256 ? 64 : 128 }
    }

    public let algorithm: Algorithm
    /// Lowercase hex.
    public let hex: String

    public init(algorithm: Algorithm = .sha256, hex: String) throws {
        guard hex.utf8.count == algorithm.hexLength,
              hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw OCIError.invalidDigest("\(algorithm.rawValue):\(hex)")
        }
        self.algorithm = algorithm
        self.hex = hex
    }

    /// For hex we produced ourselves from a hash function.
    init(validatedAlgorithm algorithm: Algorithm, hex: String) {
        self.algorithm = algorithm
        self.hex = hex
    }

    public init(parsing string: String) throws {
        let parts = string.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let algorithm = Algorithm(rawValue: parts[0]) else {
            throw OCIError.invalidDigest(string)
        }
        try self.init(algorithm: algorithm, hex: parts[1])
    }

    public var description: String { "\(algorithm.rawValue):\(hex)" }
    /// The first 12 hex characters, as docker shows short IDs.
    public var short: String { String(hex.prefix(12)) }

    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }

    /// The sha256 digest of bytes held in memory (manifests, configs: small by nature).
    public static func sha256(of data: some DataProtocol) -> Digest {
        let hasher = SHA256Hasher()
        for region in data.regions { region.withUnsafeBytes { hasher.update($0) } }
        return hasher.finalize()
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: try container.decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
