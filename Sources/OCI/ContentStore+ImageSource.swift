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

    /// Adds a file that should hold `digest` (another store's or a layout's blob): hard-linked
    /// when possible, else copied, and verified before it is committed under that name.
    public func importBlob(_ digest: Digest, from path: String, what: String) throws {
        if contains(digest) { return }
        let ingest = makeIngestURL()
        if link(path, ingest.path) != 0 {
            do { try FileManager.default.copyItem(atPath: path, toPath: ingest.path) } catch {
                throw OCIError.blobMissing(digest)
            }
        }
        let actual: Digest
        do { actual = try StreamingDigest.file(ingest.path) } catch {
            unlink(ingest.path)
            throw error
        }
        guard actual == digest else {
            unlink(ingest.path)
            throw OCIError.digestMismatch(expected: digest, actual: actual, what: what)
        }
        try commit(ingest: ingest, as: digest)
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
