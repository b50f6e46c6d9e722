/// The names BuildKit's attestation storage uses (docs/attestations/attestation-storage.md),
/// so images slipway writes are read by buildx, docker scout and every other reader of it:
/// one attestation manifest per platform in the image index, platform `unknown/unknown`,
/// pointing at its image through these annotations, with in-toto statements as layers.
public enum AttestationAnnotation {
    /// On the index entry of an attestation manifest: `attestation-manifest`.
    public static let referenceType = "vnd.docker.reference.type"
    /// On the index entry of an attestation manifest: the digest of the image manifest it describes.
    public static let referenceDigest = "vnd.docker.reference.digest"
    public static let attestationManifest = "attestation-manifest"
    /// On each attestation layer: the statement's `predicateType`, so a reader can pick one
    /// without fetching the others.
    public static let predicateType = "in-toto.io/predicate-type"
}

extension MediaType {
    /// An in-toto statement (JSON), the layer type of attestation manifests.
    public static let inToto = "application/vnd.in-toto+json"
}

extension Descriptor {
    /// An index entry that is BuildKit's attestation manifest rather than a runnable image.
    public var isAttestationManifest: Bool {
        annotations?[AttestationAnnotation.referenceType] == AttestationAnnotation.attestationManifest
    }

    /// `unknown/unknown`: where BuildKit puts attestation manifests so runtimes never pick them.
    public static let attestationPlatform = Platform(os: "unknown", architecture: "unknown")
}
