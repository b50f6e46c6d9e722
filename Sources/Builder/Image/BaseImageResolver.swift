import OCI

/// Where `FROM IMAGE` and `COPY --from=IMAGE` images come from when they are neither a stage
/// nor a named context: a registry, through the command line's puller. The puller chooses the
/// platform with `ImageResolver`, as the builder does for `oci-layout://` contexts.
public protocol BaseImageResolver: Sendable {
    /// Resolves a reference for a platform and stores its manifest and config (not its layers).
    func resolve(_ reference: String, platform: Platform) async throws -> ResolvedBase
    /// Puts layer blobs of a resolved image into `store`, each verified against its digest.
    func fetchLayers(_ layers: [Descriptor], of reference: String, into store: ContentStore) async throws
}

/// A resolved base image: what FROM inherits and what its annotations record.
public struct ResolvedBase: Sendable {
    /// The normalised reference (`docker.io/library/alpine:3.20`).
    public var name: String
    public var manifestDigest: Digest
    public var manifest: Manifest
    public var config: ImageConfig
    /// Where its layers are fetched and mounted from, when not `name` (a registry mirror).
    public var source: String?

    public init(name: String, manifestDigest: Digest, manifest: Manifest, config: ImageConfig, source: String? = nil) {
        self.name = name
        self.manifestDigest = manifestDigest
        self.manifest = manifest
        self.config = config
        self.source = source
    }
}
