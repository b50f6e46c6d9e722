import Foundation
import Layers
import OCI

/// One layer the cache knows: the digest of its canonical input (`key`) and the blob that
/// input produced. Stored locally, in a cache artifact and (inline) in an image's layer
/// descriptors; always only a hint: the blob it names is verified before it is used.
public struct LayerCacheEntry: Sendable, Hashable, Codable {
    public var key: Digest
    public var digest: Digest
    public var size: Int64
    public var mediaType: String
    /// sha256 of the uncompressed tar stream (the config's rootfs entry).
    public var diffID: Digest
    /// 0 when not known (an inline entry read from an image).
    public var uncompressedSize: Int64

    public init(key: Digest, blob: LayerBlob) {
        self.init(key: key, digest: blob.digest, size: blob.size, mediaType: blob.mediaType, diffID: blob.diffID,
                  uncompressedSize: blob.uncompressedSize)
    }

    public init(key: Digest, digest: Digest, size: Int64, mediaType: String, diffID: Digest, uncompressedSize: Int64) {
        self.key = key
        self.digest = digest
        self.size = size
        self.mediaType = mediaType
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
    }

    public var blob: LayerBlob {
        LayerBlob(diffID: diffID, digest: digest, size: size, uncompressedSize: uncompressedSize, mediaType: mediaType)
    }

    public var descriptor: Descriptor { Descriptor(mediaType: mediaType, digest: digest, size: size) }
}

/// Annotation keys of the layer cache.
public enum LayerCacheAnnotation {
    /// On a layer descriptor (`--cache-to type=inline`): the layer's input key, so the image
    /// itself serves as a cache for `--cache-from type=registry,ref=IMAGE`.
    public static let key = "dev.slipway.layer.cache-key"
}
