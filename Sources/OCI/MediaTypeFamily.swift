/// The media types an image is written with: buildx's `oci-mediatypes=true` (OCI, the
/// default) or `oci-mediatypes=false` (Docker image manifest v2 schema 2 and manifest list,
/// for registries and tools that predate OCI). Only the type names differ: the config's JSON
/// and the layers' bytes are the same in both.
public enum MediaTypeFamily: Sendable, Equatable {
    case oci
    case docker

    public var manifest: String { self == .oci ? MediaType.imageManifest : MediaType.dockerManifest }
    public var index: String { self == .oci ? MediaType.imageIndex : MediaType.dockerManifestList }
    public var config: String { self == .oci ? MediaType.imageConfig : MediaType.dockerConfig }

    /// A layer's type in this family, as BuildKit's exporter converts every layer, base
    /// layers included (`compression.ConvertAllLayerMediaTypes`): zstd becomes Docker's
    /// `…rootfs.diff.tar.zstd`, which BuildKit writes too. A type it does not know is kept.
    public func layer(_ type: String) -> String {
        let table = self == .oci ? Self.toOCI : Self.toDocker
        return table[type] ?? type
    }

    private static let toDocker: [String: String] = [
        MediaType.layerTar: MediaType.dockerLayerTar, MediaType.dockerLayerTar: MediaType.dockerLayerTar,
        MediaType.layerGzip: MediaType.dockerLayerGzip, MediaType.dockerLayerGzip: MediaType.dockerLayerGzip,
        MediaType.layerZstd: MediaType.dockerLayerZstd, MediaType.dockerLayerZstd: MediaType.dockerLayerZstd,
        MediaType.dockerForeignLayerGzip: MediaType.dockerForeignLayerGzip,
        MediaType.layerNonDistributableGzip: MediaType.dockerForeignLayerGzip,
    ]

    private static let toOCI: [String: String] = [
        MediaType.layerTar: MediaType.layerTar, MediaType.dockerLayerTar: MediaType.layerTar,
        MediaType.layerGzip: MediaType.layerGzip, MediaType.dockerLayerGzip: MediaType.layerGzip,
        MediaType.layerZstd: MediaType.layerZstd, MediaType.dockerLayerZstd: MediaType.layerZstd,
        MediaType.dockerForeignLayerGzip: MediaType.layerNonDistributableGzip,
        MediaType.layerNonDistributableGzip: MediaType.layerNonDistributableGzip,
    ]
}

extension MediaType {
    public static let dockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar"
    /// Not in Docker's own spec; BuildKit and containerd write and read it.
    public static let dockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
    public static let layerNonDistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"

    /// The encoding a layer type says its blob has (either family), nil for a type that is
    /// not a layer slipway can read.
    public static func layerEncoding(_ type: String) -> LayerEncoding? {
        switch type {
        case layerGzip, dockerLayerGzip, dockerForeignLayerGzip, layerNonDistributableGzip: return .gzip
        case layerZstd, dockerLayerZstd: return .zstd
        case layerTar, dockerLayerTar: return .uncompressed
        default: return nil
        }
    }
}

/// How a layer blob is compressed, whatever its media type's family.
public enum LayerEncoding: String, Sendable, Equatable {
    case gzip, zstd, uncompressed
}
