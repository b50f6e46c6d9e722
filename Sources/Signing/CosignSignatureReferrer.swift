import Foundation
import OCI

/// cosign's OCI 1.1 storage of signatures (`cosign sign --registry-referrers-mode=oci-1-1`,
/// `WriteSignaturesExperimentalOCI`): the same signature image as the `.sig` tag holds (layers
/// `application/vnd.dev.cosign.simplesigning.v1+json` with the `dev.cosignproject.cosign/signature`
/// annotation, go-containerregistry's config), pushed by digest with `subject` naming the
/// signed manifest, `artifactType` and the config's media type both
/// `application/vnd.dev.cosign.artifact.sig.v1+json`. cosign `verify --experimental-oci11`
/// finds it among the subject's referrers by that artifact type.
public enum CosignSignatureReferrer {
    /// cosign's `ArtifactType("sig")`.
    public static let artifactType = "application/vnd.dev.cosign.artifact.sig.v1+json"

    /// The manifest and config of a referrer holding these signature layers for `subject`.
    public static func build(layers: [Descriptor], subject: Descriptor) throws -> CosignSignatureImage.Built {
        let config = try CosignSignatureImage.config(layers: layers)
        let configDescriptor = Descriptor(mediaType: artifactType, digest: Digest.sha256(of: config), size: Int64(config.count))
        let manifest = Manifest(config: configDescriptor, layers: layers,
                                subject: Descriptor(mediaType: subject.mediaType, digest: subject.digest, size: subject.size),
                                artifactType: artifactType)
        let data = try CanonicalJSON.encode(manifest)
        var descriptor = Descriptor(mediaType: MediaType.imageManifest, digest: Digest.sha256(of: data), size: Int64(data.count))
        descriptor.artifactType = artifactType
        return CosignSignatureImage.Built(manifest: data, config: config, configDescriptor: configDescriptor, manifestDescriptor: descriptor)
    }

    /// Whether a referrer (as its subject's referrers list it) is a cosign signature image.
    public static func isSignature(_ listed: Descriptor) -> Bool { listed.artifactType == artifactType }
}
