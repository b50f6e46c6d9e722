import Foundation

/// A content-addressed blob store in the OCI layout format (`blobs/sha256/<hex>`).
/// Every write goes to a unique temporary file in `ingest/` and is renamed into place only
/// once its digest is known, so concurrent writers and killed processes never leave a blob
/// whose bytes differ from its name.
public final class ContentStore: Sendable {
    public let root: URL

    /// Opens an existing OCI layout (or store) only to read blobs from it: nothing is created
    /// inside, so pushing a user's layout leaves it untouched.
    public init(readingLayoutAt root: URL) {
        self.root = root
    }

    public init(root: URL) throws {
        self.root = root
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: root.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true)
            try fm.createDirectory(at: root.appendingPathComponent("ingest"), withIntermediateDirectories: true)
        } catch {
            throw OCIError.io("cannot create content store at \(root.path): \(error.localizedDescription)")
        }
    }

    public func blobURL(_ digest: Digest) -> URL {
        root.appendingPathComponent("blobs/\(digest.algorithm.rawValue)/\(digest.hex)")
    }

    public func contains(_ digest: Digest) -> Bool {
        FileManager.default.fileExists(atPath: blobURL(digest).path)
    }

    /// A fresh path for content whose digest is not known yet: `ingest/PID-UUID`, so an
    /// interrupted process can find and remove its own partial files (and only those).
    public func makeIngestURL() -> URL {
        root.appendingPathComponent("ingest/\(getpid())-\(UUID().uuidString)")
    }

    /// Moves a finished ingest file into place under its digest (idempotent: identical content
    /// already present is kept and the temporary file dropped).
    public func commit(ingest url: URL, as digest: Digest) throws {
        let target = blobURL(digest)
        if rename(url.path, target.path) != 0 {
            let code = errno
            unlink(url.path)
            if !contains(digest) {
                throw OCIError.io("cannot store blob \(digest): \(String(cString: strerror(code)))")
            }
        }
    }

    /// Stores small content (configs, manifests) and returns its descriptor.
    @discardableResult
    public func put(_ data: Data, mediaType: String) throws -> Descriptor {
        let digest = Digest.sha256(of: data)
        if !contains(digest) {
            let url = makeIngestURL()
            do { try data.write(to: url) } catch {
                throw OCIError.io("cannot write \(url.path): \(error.localizedDescription)")
            }
            try commit(ingest: url, as: digest)
        }
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(data.count))
    }

    /// Encodes a value canonically and stores it.
    public func putJSON<T: Encodable>(_ value: T, mediaType: String) throws -> Descriptor {
        try put(CanonicalJSON.encode(value), mediaType: mediaType)
    }

    /// Reads small content, verifying it against its digest.
    public func read(_ digest: Digest) throws -> Data {
        guard let data = FileManager.default.contents(atPath: blobURL(digest).path) else {
            throw OCIError.blobMissing(digest)
        }
        let actual = Digest.sha256(of: data)
        guard actual == digest else { throw OCIError.digestMismatch(expected: digest, actual: actual, what: "blob in \(root.path)") }
        return data
    }

    /// Streams a stored blob through SHA-256 and reports whether it still matches its name.
    public func verify(_ digest: Digest) throws -> Bool {
        guard contains(digest) else { throw OCIError.blobMissing(digest) }
        return try StreamingDigest.file(blobURL(digest).path) == digest
    }
}
