/// An image manifest: one platform's config and layers. Also decodes Docker schema2.
public struct Manifest: Sendable, Hashable, Codable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?
    /// OCI 1.1: what this manifest refers to (a signature or attestation of that image); a
    /// registry with the referrers API lists it under `GET /v2/<name>/referrers/<subject>`.
    public var subject: Descriptor?
    /// OCI 1.1: the kind of artifact, when the manifest is not a runnable image.
    public var artifactType: String?

    public init(config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil,
                subject: Descriptor? = nil, artifactType: String? = nil) {
        schemaVersion = 2
        mediaType = MediaType.imageManifest
        self.config = config
        self.layers = layers
        self.annotations = annotations
        self.subject = subject
        self.artifactType = artifactType
    }
}

/// An image index: the multi-platform entry point (also decodes a Docker manifest list).
public struct Index: Sendable, Hashable, Codable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?

    public init(manifests: [Descriptor], annotations: [String: String]? = nil) {
        schemaVersion = 2
        mediaType = MediaType.imageIndex
        self.manifests = manifests
        self.annotations = annotations
    }
}
