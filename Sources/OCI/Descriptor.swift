/// A pointer to content: what every manifest, index and output refers to.
public struct Descriptor: Sendable, Hashable, Codable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var platform: Platform?
    public var annotations: [String: String]?
    /// OCI 1.1: the artifact type of the manifest described (entries of a referrers list).
    public var artifactType: String?

    public init(mediaType: String, digest: Digest, size: Int64, platform: Platform? = nil, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
    }
}
