/// Media types slipway writes and reads. We write OCI types only (as BuildKit does with
/// `oci-mediatypes=true`); Docker types are recognised when reading bases.
public enum MediaType {
    public static let imageIndex = "application/vnd.oci.image.index.v1+json"
    public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let imageConfig = "application/vnd.oci.image.config.v1+json"
    public static let layerTar = "application/vnd.oci.image.layer.v1.tar"
    public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let layerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    public static func isIndex(_ type: String?) -> Bool { type == imageIndex || type == dockerManifestList }
    public static func isManifest(_ type: String?) -> Bool { type == imageManifest || type == dockerManifest }
}

/// Annotation keys with meaning to other tools.
public enum AnnotationKey {
    public static let refName = "org.opencontainers.image.ref.name"
    public static let created = "org.opencontainers.image.created"
    public static let baseName = "org.opencontainers.image.base.name"
    public static let baseDigest = "org.opencontainers.image.base.digest"
}
