import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How content crosses between the store and files the user owns (an OCI layout passed as a
/// build context, an OCI layout directory written as output): always as a copy in a new
/// inode, verified on the way in. A hard link in either direction would let an in-place edit
/// of the user's file change a blob that later builds trust by its name.
extension ContentStore {
    /// Stores a copy of a file under `digest`, after checking the copy's bytes against it.
    /// `what` names the file in errors.
    public func ingest(copyOf path: String, as digest: Digest, what: String) throws {
        let ingest = makeIngestURL()
        let actual: Digest
        do {
            try FileCopy.copy(path, toNewFile: ingest.path)
            actual = try StreamingDigest.file(ingest.path)
        } catch {
            unlink(ingest.path)
            throw error
        }
        guard actual == digest else {
            unlink(ingest.path)
            throw OCIError.digestMismatch(expected: digest, actual: actual, what: what)
        }
        try commit(ingest: ingest, as: digest)
    }

    /// Writes a copy of a stored blob to a path that must not exist yet.
    public func export(_ digest: Digest, toNewFile path: String) throws {
        guard contains(digest) else { throw OCIError.blobMissing(digest) }
        try FileCopy.copy(blobURL(digest).path, toNewFile: path)
    }

    /// A cache hit that is checked before it is trusted: the blob is re-hashed and dropped when
    /// its bytes no longer match its name; one that shares its inode with another file (as
    /// earlier versions left blobs taken from OCI layouts) is replaced by a private copy.
    /// Returns whether a good blob is in place.
    public func containsVerified(_ digest: Digest) -> Bool {
        let path = blobURL(digest).path
        var info = stat()
        guard lstat(path, &info) == 0 else { return false }
        guard (info.st_mode & S_IFMT) == S_IFREG, (try? StreamingDigest.file(path)) == digest else {
            unlink(path)
            return false
        }
        if info.st_nlink > 1 {
            do { try ingest(copyOf: path, as: digest, what: "blob in \(root.path)") } catch { return false }
        }
        return true
    }
}
