import Builder
import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// `--cache-to type=local,dest=DIR[,tag=TAG]`: writes one cache into a directory that other
/// builds (and other slipway processes, at the same time) may export to as well.
///
/// The whole export — copying the blobs, replacing `index.json`, removing the blobs no cache
/// lists any more — runs under an exclusive `flock` on `DIR/index.json.lock`, so no export
/// ever removes a blob another one has copied but not yet listed, and every `index.json` a
/// reader sees lists only blobs that are there. `index.json` is replaced by rename, never
/// rewritten in place. Each tag has one cache: an export replaces its tag's manifest and keeps
/// the others (and their blobs); a blob no manifest lists any more is removed, so a directory
/// exported to again and again does not grow. Where the file system cannot lock, blobs
/// written in the last `unlockedGrace` seconds are kept (they may be another export's).
enum DirectoryLayerCacheExport {
    static let defaultTag = "latest"
    static let refNameAnnotation = "org.opencontainers.image.ref.name"
    static let unlockedGrace: TimeInterval = 600

    /// The tag a manifest of a cache directory's index has (`latest` when it has none, as in
    /// directories written by earlier slipways).
    static func cacheTag(of descriptor: Descriptor) -> String {
        descriptor.annotations?[refNameAnnotation] ?? defaultTag
    }

    /// Writes the cache into `directory` (created when missing) under `tag`; every blob must be
    /// in `store`. Returns the cache manifest's digest.
    static func export(_ entries: [LayerCacheEntry], to directory: URL, tag: String = defaultTag, store: ContentStore,
                       now: Date = Date()) throws -> Digest {
        let root = try LayerCacheArtifact.store(entries, in: store)
        let manifest = try CanonicalJSON.decode(Manifest.self, from: try store.read(root.digest), what: "cache manifest")
        let blobs = try FileManager.default.createdDirectory(directory.appendingPathComponent("blobs/sha256"))
        let lock = DirectoryExportLock(directory)
        defer { lock.release() }

        let wanted = [root, manifest.config] + manifest.layers
        for blob in wanted { try place(blob, in: blobs, from: store) }

        // The directory's other caches stay, with their blobs (a manifest that can no longer be
        // read is dropped: its cache is gone already).
        let layout = ContentStore(readingLayoutAt: directory)
        var manifests: [Descriptor] = []
        var keep = Set(wanted.map(\.digest))
        for other in currentIndex(of: directory) where cacheTag(of: other) != tag {
            guard MediaType.isManifest(other.mediaType), let data = try? layout.read(other.digest),
                  let listed = try? CanonicalJSON.decode(Manifest.self, from: data, what: "cache manifest") else { continue }
            manifests.append(other)
            keep.insert(other.digest)
            keep.insert(listed.config.digest)
            keep.formUnion(listed.layers.map(\.digest))
        }
        var named = root
        named.annotations = [refNameAnnotation: tag]
        manifests.append(named)
        manifests.sort { (cacheTag(of: $0), $0.digest) < (cacheTag(of: $1), $1.digest) }

        try writeAtomically(directory.appendingPathComponent("oci-layout").path, Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        try writeAtomically(directory.appendingPathComponent("index.json").path, try CanonicalJSON.encode(Index(manifests: manifests)))
        removeUnlisted(in: blobs, keeping: Set(keep.map(\.hex)), olderThan: lock.held ? nil : now.addingTimeInterval(-unlockedGrace),
                       debrisBefore: now.addingTimeInterval(-3600))
        return root.digest
    }

    /// Copies one blob into the directory unless an intact copy is there; a copy that is there
    /// is marked as just written (for the grace window of unlocked exports).
    private static func place(_ blob: Descriptor, in blobs: URL, from store: ContentStore) throws {
        let target = blobs.appendingPathComponent(blob.digest.hex)
        if let size = (try? FileManager.default.attributesOfItem(atPath: target.path)[.size]) as? NSNumber,
           size.int64Value == blob.size, (try? StreamingDigest.file(target.path)) == blob.digest {
            _ = utimes(target.path, nil)
            return
        }
        let temporary = blobs.appendingPathComponent(".\(getpid())-\(UUID().uuidString)")
        try store.export(blob.digest, toNewFile: temporary.path)
        guard rename(temporary.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary.path)
            throw PublishError.failed("cannot write \(target.path): \(reason)")
        }
    }

    /// The manifests `index.json` lists now (none when it is missing or unreadable).
    private static func currentIndex(of directory: URL) -> [Descriptor] {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("index.json").path),
              let index = try? CanonicalJSON.decode(Index.self, from: data, what: "index.json") else { return [] }
        return index.manifests
    }

    /// Removes blobs no cache lists (only those last written before `olderThan`, when given)
    /// and temporary files of exports that were killed.
    private static func removeUnlisted(in blobs: URL, keeping keep: Set<String>, olderThan: Date?, debrisBefore: Date) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blobs.path)) ?? [] {
            let path = blobs.appendingPathComponent(name).path
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let written = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec))
            if name.hasPrefix(".") {
                if written < debrisBefore { unlink(path) }
            } else if name.count == 64, !keep.contains(name), olderThan.map({ written < $0 }) ?? true {
                unlink(path)
            }
        }
    }
}

/// The exclusive `flock` on `DIR/index.json.lock` an export holds from its first blob to its
/// last removal. `held` is false where the lock cannot be had (a file system without locks):
/// the export then goes on without it, keeping recent blobs.
final class DirectoryExportLock {
    private var fd: Int32
    let held: Bool

    init(_ directory: URL) {
        fd = open(directory.appendingPathComponent("index.json.lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        var locked = false
        if fd >= 0 {
            while true {
                if flock(fd, LOCK_EX) == 0 { locked = true; break }
                if errno != EINTR { break }
            }
        }
        held = locked
    }

    func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    deinit { release() }
}
