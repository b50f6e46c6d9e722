import Foundation

/// A content store read as an image source: it has no names, so an image is its root digest.
extension ContentStore: ImageSource {
    public func resolveRoot(_ digest: Digest) async throws -> FetchedManifest {
        FetchedManifest(local: try read(digest), as: Descriptor(mediaType: "", digest: digest, size: -1))
    }

    public func manifest(_ descriptor: Descriptor, from _: Digest) async throws -> FetchedManifest {
        FetchedManifest(local: try read(descriptor.digest), as: descriptor)
    }

    public func smallBlob(_ descriptor: Descriptor, from _: Digest) async throws -> Data {
        try read(descriptor.digest)
    }

    public func copyBlob(_ descriptor: Descriptor, from _: Digest, into store: ContentStore) async throws {
        if store.contains(descriptor.digest) { return }
        try store.importBlob(descriptor.digest, from: blobURL(descriptor.digest).path, what: "blob in \(root.path)")
    }

    /// Adds a file that should hold `digest` (another store's or a layout's blob): a copy
    /// (a reflink where the file system has them), never a hard link, so a later rewrite of
    /// the source cannot change what the store holds; verified before it is committed, and a
    /// cache hit is re-checked first (taken again when it no longer matches).
    public func importBlob(_ digest: Digest, from path: String, what: String) throws {
        if containsVerified(digest) { return }
        guard FileManager.default.fileExists(atPath: path) else { throw OCIError.blobMissing(digest) }
        try ingest(copyOf: path, as: digest, what: what)
    }
}

extension MediaType {
    /// What a manifest-like document says it is: its own `mediaType`, else an index when it
    /// lists `manifests`, else an image manifest.
    public static func ofDocument(_ data: Data) -> String {
        struct Probe: Decodable { var mediaType: String?; var manifests: [Descriptor]? }
        let probe = try? JSONDecoder().decode(Probe.self, from: data)
        return probe?.mediaType ?? (probe?.manifests != nil ? imageIndex : imageManifest)
    }
}
