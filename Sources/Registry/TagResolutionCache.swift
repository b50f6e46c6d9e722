import Foundation
import OCI

/// What each tag pointed at when it was last resolved (`<cache>/resolutions.json`), for
/// `--pull=false`: a build then uses the cached digest instead of asking the registry again.
/// Entries are keyed by the full reference (`docker.io/library/alpine:3.20`) and hold the root
/// (index or manifest) descriptor; platform selection is redone from the stored root, so one
/// entry serves every platform. Updates take an exclusive `flock` on a lock file and replace
/// the file by rename, so concurrent slipway processes neither lose entries nor read a torn file.
public final class TagResolutionCache: Sendable {
    public let file: URL

    struct Entry: Codable, Sendable {
        var digest: Digest
        var mediaType: String
        var size: Int64
        var resolved: String
    }

    struct Document: Codable {
        var version = 1
        var entries: [String: Entry] = [:]
    }

    public init(file: URL) {
        self.file = file
    }

    /// The root descriptor `reference` resolved to last time, if any.
    public func lookup(_ reference: ImageReference) -> Descriptor? {
        guard let entry = load().entries[reference.with(tag: reference.tag, digest: nil).description] else { return nil }
        return Descriptor(mediaType: entry.mediaType, digest: entry.digest, size: entry.size)
    }

    /// Records what `reference` resolves to now. Best effort: a cache that cannot be written
    /// only means the next `--pull=false` asks the registry.
    public func record(_ reference: ImageReference, _ root: Descriptor) {
        let key = reference.with(tag: reference.tag, digest: nil).description
        let formatter = ISO8601DateFormatter()
        let entry = Entry(digest: root.digest, mediaType: root.mediaType, size: root.size, resolved: formatter.string(from: Date()))
        withLock {
            var document = load()
            document.entries[key] = entry
            save(document)
        }
    }

    /// How many tags it holds (`cache du`).
    public var count: Int { load().entries.count }

    /// Forgets the resolutions whose root `isGone` (`cache prune`: its blob was removed, so
    /// `--pull=false` could not use it); returns how many went.
    @discardableResult
    public func removeEntries(where isGone: (Digest) -> Bool) -> Int {
        var removed = 0
        withLock {
            var document = load()
            let before = document.entries.count
            document.entries = document.entries.filter { !isGone($0.value.digest) }
            removed = before - document.entries.count
            if removed > 0 { save(document) }
        }
        return removed
    }

    /// Forgets every resolution (`cache prune --all`).
    public func clear() {
        withLock { _ = unlink(file.path) }
    }

    /// Replaces the file atomically (a reader sees the old or the new document, never a torn
    /// one); a failed write leaves the old one. Called with the lock held.
    private func save(_ document: Document) {
        guard let data = try? CanonicalJSON.encode(document) else { return }
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".resolutions-\(UUID().uuidString)")
        do {
            try data.write(to: temporary)
            if rename(temporary.path, file.path) != 0 { unlink(temporary.path) }
        } catch {
            unlink(temporary.path)
        }
    }

    private func load() -> Document {
        guard let data = FileManager.default.contents(atPath: file.path),
              let document = try? JSONDecoder().decode(Document.self, from: data), document.version == 1 else { return Document() }
        return document
    }

    private func withLock(_ body: () -> Void) {
        try? FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let lockPath = file.path + ".lock"
        let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { body(); return }
        defer { close(fd) }
        _ = flock(fd, LOCK_EX)
        defer { _ = flock(fd, LOCK_UN) }
        body()
    }
}
