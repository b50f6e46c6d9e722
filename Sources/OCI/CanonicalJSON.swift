import Foundation

/// The one JSON encoder for everything that gets a digest: sorted keys and no insignificant
/// whitespace, so equal values always give equal bytes (and equal digests) on any machine.
public enum CanonicalJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Decodes JSON from a file or the network, turning decoder internals into a readable error.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw OCIError.invalidLayout("\(what) is not valid: \(describe(error))")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let c): return "malformed JSON (\(c.debugDescription))"
        case .keyNotFound(let key, let c): return "missing field '\(path(c.codingPath + [key]))'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "wrong type at '\(path(c.codingPath))': \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
