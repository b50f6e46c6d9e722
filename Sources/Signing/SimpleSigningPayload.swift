import Foundation
import OCI

/// The payload cosign signs for a container image: Red Hat's "simple signing" JSON with
/// `critical.type: cosign container image signature` (sigstore's `payload.Cosign`).
/// Encoded byte for byte as cosign encodes it (keys in Go struct order, which is sorted here,
/// `"optional":null` without claims), so a slipway signature and a cosign one of the same
/// image carry the same payload.
public struct SimpleSigningPayload: Sendable, Hashable {
    public static let cosignType = "cosign container image signature"
    public static let mediaType = "application/vnd.dev.cosign.simplesigning.v1+json"

    /// `critical.identity.docker-reference`: the repository (`registry/repository`; Docker
    /// Hub's as `index.docker.io/…`, as go-containerregistry names it). Verifiers ignore it.
    public var dockerReference: String
    /// `critical.image.docker-manifest-digest`: what the signature is about.
    public var manifestDigest: Digest
    /// `optional`: claims (cosign's `-a KEY=VALUE`); nil encodes as `null`.
    public var optional: [String: String]?

    public init(dockerReference: String, manifestDigest: Digest, optional: [String: String]? = nil) {
        self.dockerReference = dockerReference
        self.manifestDigest = manifestDigest
        self.optional = optional
    }

    /// The repository as cosign writes it: `docker.io` → `index.docker.io`.
    public static func dockerReference(registry: String, repository: String) -> String {
        (registry == "docker.io" ? "index.docker.io" : registry) + "/" + repository
    }

    public func encoded() -> Data {
        var out = #"{"critical":{"identity":{"docker-reference":"#
        out += Self.quote(dockerReference)
        out += #"},"image":{"docker-manifest-digest":"#
        out += Self.quote(manifestDigest.description)
        out += #"},"type":"#
        out += Self.quote(Self.cosignType)
        out += #"},"optional":"#
        if let optional {
            out += "{" + optional.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
                .map { Self.quote($0.key) + ":" + Self.quote($0.value) }.joined(separator: ",") + "}"
        } else {
            out += "null"
        }
        return Data((out + "}").utf8)
    }

    /// Parses a payload as cosign does: the type must be cosign's, the digest well formed.
    public static func decode(_ data: Data) throws -> SimpleSigningPayload {
        struct Wire: Decodable {
            struct Critical: Decodable {
                struct Identity: Decodable { var dockerReference: String?; enum CodingKeys: String, CodingKey { case dockerReference = "docker-reference" } }
                struct Image: Decodable { var digest: String?; enum CodingKeys: String, CodingKey { case digest = "docker-manifest-digest" } }
                var identity: Identity?
                var image: Image?
                var type: String?
            }
            var critical: Critical?
            var optional: [String: JSONScalar]?
        }
        let wire: Wire
        do { wire = try JSONDecoder().decode(Wire.self, from: data) } catch {
            throw SigningError.invalid("the signed payload is not simple-signing JSON")
        }
        guard let critical = wire.critical else { throw SigningError.invalid("the signed payload has no 'critical' section") }
        guard critical.type == cosignType else {
            throw SigningError.invalid("the signed payload is of an unknown type '\(critical.type ?? "")' (expected '\(cosignType)')")
        }
        guard let text = critical.image?.digest, let digest = try? Digest(parsing: text) else {
            throw SigningError.invalid("the signed payload has no valid critical.image.docker-manifest-digest")
        }
        return SimpleSigningPayload(dockerReference: critical.identity?.dockerReference ?? "", manifestDigest: digest,
                                    optional: wire.optional?.mapValues(\.text))
    }

    /// A JSON string as Go's `encoding/json` writes it (`<`, `>`, `&`, U+2028/9 escaped).
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}": out += String(format: "\\u%04x", scalar.value)
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

/// An `optional` claim's value, read whatever JSON scalar cosign wrote.
struct JSONScalar: Decodable {
    var text: String
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { text = s }
        else if let b = try? c.decode(Bool.self) { text = String(b) }
        else if let d = try? c.decode(Double.self) { text = String(d) }
        else if c.decodeNil() { text = "null" }
        else { text = "(structured)" }
    }
}
