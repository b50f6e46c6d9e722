import Foundation

/// Reads an OCI image layout directory (`oci-layout`, `index.json`, `blobs/`), as written by
/// slipway, buildx, skopeo or umoci. Every blob read is verified against its digest.
public struct OCILayoutReader: Sendable {
    public let path: String
    public let index: Index

    public init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path + "/index.json") else {
            throw OCIError.invalidLayout("\(path) has no index.json; is it an OCI layout directory?")
        }
        index = try CanonicalJSON.decode(Index.self, from: data, what: "\(path)/index.json")
    }

    /// The entry of index.json named by a tag (`org.opencontainers.image.ref.name`) or digest;
    /// with no reference, the only entry.
    public func select(reference: String?) throws -> Descriptor {
        if let reference, reference.contains(":"), let digest = try? Digest(parsing: reference) {
            if let entry = index.manifests.first(where: { $0.digest == digest }) { return entry }
            return Descriptor(mediaType: MediaType.imageIndex, digest: digest, size: 0).withMediaType(of: try read(digest))
        }
        if let reference {
            guard let entry = index.manifests.first(where: { $0.annotations?[AnnotationKey.refName] == reference }) else {
                let tags = index.manifests.compactMap { $0.annotations?[AnnotationKey.refName] }
                throw OCIError.invalidLayout("no image tagged '\(reference)' in \(path); it has: \(tags.isEmpty ? "no tags" : tags.joined(separator: ", "))")
            }
            return entry
        }
        guard index.manifests.count == 1, let only = index.manifests.first else {
            throw OCIError.invalidLayout("\(path) holds \(index.manifests.count) images; name one with :TAG or @sha256:…")
        }
        return only
    }

    public func blobPath(_ digest: Digest) -> String {
        "\(path)/blobs/\(digest.algorithm.rawValue)/\(digest.hex)"
    }

    /// Reads and verifies a small blob (manifest, index, config; at most 16 MiB).
    public func read(_ digest: Digest) throws -> Data {
        let file = blobPath(digest)
        let attributes = try? FileManager.default.attributesOfItem(atPath: file)
        if let size = attributes?[.size] as? Int, size > 16 << 20 {
            throw OCIError.invalidLayout("blob \(digest) is \(size) bytes, too large for a manifest or config")
        }
        guard let data = FileManager.default.contents(atPath: file) else { throw OCIError.blobMissing(digest) }
        let actual = Digest.sha256(of: data)
        guard actual == digest else { throw OCIError.digestMismatch(expected: digest, actual: actual, what: "blob in \(path)") }
        return data
    }

    /// Copies a blob into a store, verified: never as a hard link, so rewriting the layout
    /// later cannot change what the store holds. A blob the store already has is re-checked
    /// first (and taken again from the layout when it no longer matches).
    public func copyBlob(_ digest: Digest, into store: ContentStore) throws {
        try store.importBlob(digest, from: blobPath(digest), what: "blob in \(path)")
    }
}

/// A layout read as an image source: an image is named by tag or digest (nil: the layout's
/// only image).
extension OCILayoutReader: ImageSource {
    public func resolveRoot(_ reference: String?) async throws -> FetchedManifest {
        let entry = try select(reference: reference)
        return FetchedManifest(local: try read(entry.digest), as: entry)
    }

    public func manifest(_ descriptor: Descriptor, from _: String?) async throws -> FetchedManifest {
        FetchedManifest(local: try read(descriptor.digest), as: descriptor)
    }

    public func smallBlob(_ descriptor: Descriptor, from _: String?) async throws -> Data {
        try read(descriptor.digest)
    }

    public func copyBlob(_ descriptor: Descriptor, from _: String?, into store: ContentStore) async throws {
        try copyBlob(descriptor.digest, into: store)
    }
}

/// SHA-256 of a file, streamed in 1 MiB reads.
public enum StreamingDigest {
    public static func file(_ path: String) throws -> Digest {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw OCIError.io("cannot read \(path)") }
        defer { try? handle.close() }
        let hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finalize()
    }
}

extension Descriptor {
    /// Fills in the media type and size of content found by digest alone.
    func withMediaType(of data: Data) -> Descriptor {
        var copy = self
        copy.size = Int64(data.count)
        copy.mediaType = MediaType.ofDocument(data)
        return copy
    }
}
