/// An image manifest: one platform's config and layers. Also decodes Docker schema2.
public struct Manifest: Sendable, Hashable, Codable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil) {
        schemaVersion = 2
        mediaType = MediaType.imageManifest
        self.config = config
        self.layers = layers
        self.annotations = annotations
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
