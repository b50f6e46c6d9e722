import Foundation
import OCI

/// Checks the signatures of one `.sig` manifest against an image digest and a public key,
/// as `cosign verify --key` does: a signature counts when its annotation is base64 DER that
/// verifies over the payload bytes with the key, the payload is cosign's simple-signing type,
/// and its `docker-manifest-digest` is the image's. Payload bytes are checked against their
/// layer digest first.
public enum SignatureCheck {
    public enum Outcome: Sendable, Equatable {
        case valid
        /// Why this signature does not count (no secret in it).
        case invalid(String)
    }

    /// `requiredClaims`: `optional` entries the payload must carry (cosign `verify -a KEY=VALUE`).
    public static func check(layer: Descriptor, payload: Data, imageDigest: Digest, key: ECKey,
                             requiredClaims: [String: String] = [:]) -> Outcome {
        let actual = Digest.sha256(of: payload)
        guard actual == layer.digest else {
            return .invalid("payload \(layer.digest) has the digest \(actual): the payload was altered")
        }
        let signature: Data
        do { signature = try CosignSignatureImage.signature(of: layer) } catch { return .invalid("\(error)") }
        guard ECDSA.verify(signature, of: payload, with: key) else {
            return .invalid("the signature over payload \(layer.digest.short) does not verify with the given key (another key, or altered)")
        }
        let parsed: SimpleSigningPayload
        do { parsed = try SimpleSigningPayload.decode(payload) } catch { return .invalid("\(error)") }
        guard parsed.manifestDigest == imageDigest else {
            return .invalid("the signed payload names \(parsed.manifestDigest), not this image (\(imageDigest))")
        }
        for (key, value) in requiredClaims.sorted(by: { $0.key < $1.key }) where parsed.optional?[key] != value {
            return .invalid("the signature over payload \(layer.digest.short) does not carry the annotation \(key)=\(value)")
        }
        return .valid
    }

    /// Whether `signatures` already hold a signature of `payload` by `key` (cosign's duplicate
    /// detection: the same payload, and a signature that verifies with the key; ECDSA
    /// signatures differ from run to run, so the bytes alone cannot tell).
    public static func alreadySigned(_ payload: Data, in existing: [(layer: Descriptor, payload: Data)], key: ECKey) -> Bool {
        existing.contains { entry in
            entry.payload == payload && (try? CosignSignatureImage.signature(of: entry.layer)).map { ECDSA.verify($0, of: payload, with: key) } == true
        }
    }
}
