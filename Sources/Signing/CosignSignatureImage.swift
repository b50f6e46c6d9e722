import Foundation
import OCI

/// cosign's storage of signatures (specs/SIGNATURE_SPEC.md, tag-based discovery): one OCI
/// image manifest per signed digest, tagged `sha256-<hex>.sig` in the image's repository,
/// whose layers are the simple-signing payloads (`application/vnd.dev.cosign.simplesigning.v1+json`)
/// each with its base64 DER signature in the `dev.cosignproject.cosign/signature` annotation.
/// A second signature is appended as another layer.
public enum CosignSignatureImage {
    public static let signatureAnnotation = "dev.cosignproject.cosign/signature"

    /// `sha256:abc…` → `sha256-abc….sig`.
    public static func tag(for digest: Digest) -> String { "\(digest.algorithm.rawValue)-\(digest.hex).sig" }

    /// One signature: the payload bytes and the DER signature over them.
    public struct Signature: Sendable, Hashable {
        public var payload: Data
        public var signature: Data
        public init(payload: Data, signature: Data) {
            self.payload = payload
            self.signature = signature
        }

        /// The layer descriptor cosign writes for it.
        public var layer: Descriptor {
            Descriptor(mediaType: SimpleSigningPayload.mediaType, digest: Digest.sha256(of: payload), size: Int64(payload.count),
                       annotations: [CosignSignatureImage.signatureAnnotation: signature.base64EncodedString()])
        }
    }

    /// The manifest and config of a signature image with these layers, in order.
    public struct Built: Sendable {
        public var manifest: Data
        public var config: Data
        public var configDescriptor: Descriptor
        public var manifestDescriptor: Descriptor
    }

    /// The config go-containerregistry's `mutate.Append` gives an empty image: one diff ID and
    /// one (empty) history entry per layer, the zero time, so the bytes depend only on the
    /// layers. (cosign itself may set `created` to the signing time; nothing reads it.)
    public static func config(layers: [Descriptor]) throws -> Data {
        struct History: Encodable { var created = "0001-01-01T00:00:00Z" }
        struct RootFS: Encodable { var type = "layers"; var diff_ids: [String] }
        struct Empty: Encodable {}
        struct Config: Encodable {
            var architecture = ""
            var created = "0001-01-01T00:00:00Z"
            var history: [History]
            var os = ""
            var rootfs: RootFS
            var config = Empty()
        }
        return try CanonicalJSON.encode(Config(history: layers.map { _ in History() },
                                               rootfs: RootFS(diff_ids: layers.map(\.digest.description))))
    }

    public static func build(layers: [Descriptor]) throws -> Built {
        let config = try config(layers: layers)
        let configDescriptor = Descriptor(mediaType: MediaType.imageConfig, digest: Digest.sha256(of: config), size: Int64(config.count))
        var manifest = Manifest(config: configDescriptor, layers: layers)
        manifest.mediaType = MediaType.imageManifest
        let data = try CanonicalJSON.encode(manifest)
        return Built(manifest: data, config: config, configDescriptor: configDescriptor,
                     manifestDescriptor: Descriptor(mediaType: MediaType.imageManifest, digest: Digest.sha256(of: data), size: Int64(data.count)))
    }

    /// The signature layers of an existing `.sig` manifest (other layers are kept as they are
    /// when appending, but are not signatures).
    public static func signatureLayers(of manifest: Manifest) -> [Descriptor] {
        manifest.layers.filter { $0.mediaType == SimpleSigningPayload.mediaType }
    }

    /// The base64 signature of a layer, as cosign's `Base64Signature()` reads it.
    public static func base64Signature(of layer: Descriptor) throws -> String {
        guard let value = layer.annotations?[signatureAnnotation] else {
            throw SigningError.invalid("signature layer \(layer.digest) is missing \"\(signatureAnnotation)\" annotation")
        }
        return value
    }

    /// The DER signature of a layer.
    public static func signature(of layer: Descriptor) throws -> Data {
        let text = try base64Signature(of: layer)
        guard let der = Data(base64Encoded: text), !der.isEmpty else {
            throw SigningError.invalid("signature layer \(layer.digest): the \(signatureAnnotation) annotation is not base64")
        }
        return der
    }
}
