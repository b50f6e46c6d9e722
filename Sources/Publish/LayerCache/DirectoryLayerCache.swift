import Builder
import Foundation
import OCI

/// `type=local`: a cache directory CI systems save and restore (GitHub Actions' cache, GitLab's
/// `cache:`). It is an OCI layout: `index.json` naming the cache artifact, and its blobs under
/// `blobs/sha256/`. An export rewrites `index.json` atomically and removes the blobs the new
/// cache no longer lists, so the directory does not grow from run to run.
struct DirectoryLayerCacheSource: LayerCacheSource {
    let directory: URL

    var description: String { "cache directory \(directory.path)" }
    var mountSource: String? { nil }

    private var layout: ContentStore { ContentStore(readingLayoutAt: directory) }

    func loadEntries() async throws -> [LayerCacheEntry] {
        let indexURL = directory.appendingPathComponent("index.json")
        guard let data = FileManager.default.contents(atPath: indexURL.path) else {
            throw PublishError.failed("no cache there (\(indexURL.path) does not exist)")
        }
        let index = try CanonicalJSON.decode(Index.self, from: data, what: indexURL.path)
        var entries: [LayerCacheEntry] = []
        for descriptor in index.manifests where MediaType.isManifest(descriptor.mediaType) {
            let manifest = try CanonicalJSON.decode(Manifest.self, from: try layout.read(descriptor.digest), what: "cache manifest \(descriptor.digest)")
            guard LayerCacheArtifact.isCache(manifest) else { continue }
            entries += try LayerCacheArtifact.entries(of: manifest, config: try layout.read(manifest.config.digest), what: description)
        }
        return entries
    }

    func obtain(_ entry: LayerCacheEntry, into store: ContentStore, needBytes: Bool) async throws -> LayerCacheProvision {
        if store.contains(entry.digest), store.containsVerified(entry.digest) { return .inStore }
        let source = layout.blobURL(entry.digest).path
        guard FileManager.default.fileExists(atPath: source) else { return .missing }
        do {
            try store.ingest(copyOf: source, as: entry.digest, what: "blob in \(description)")
        } catch OCIError.digestMismatch {
            return .missing
        }
        return .inStore
    }
}

enum DirectoryLayerCacheExport {
    /// Writes the cache into `directory` (created when missing); every blob must be in `store`.
    static func export(_ entries: [LayerCacheEntry], to directory: URL, store: ContentStore) throws -> Digest {
        let root = try LayerCacheArtifact.store(entries, in: store)
        let manifest = try CanonicalJSON.decode(Manifest.self, from: try store.read(root.digest), what: "cache manifest")
        let blobs = try FileManager.default.createdDirectory(directory.appendingPathComponent("blobs/sha256"))
        let wanted = [root, manifest.config] + manifest.layers
        for blob in wanted {
            let target = blobs.appendingPathComponent(blob.digest.hex)
            if let size = (try? FileManager.default.attributesOfItem(atPath: target.path)[.size]) as? NSNumber,
               size.int64Value == blob.size, (try? StreamingDigest.file(target.path)) == blob.digest { continue }
            let temporary = blobs.appendingPathComponent(".\(getpid())-\(UUID().uuidString)")
            try store.export(blob.digest, toNewFile: temporary.path)
            guard rename(temporary.path, target.path) == 0 else {
                unlink(temporary.path)
                throw PublishError.failed("cannot write \(target.path): \(String(cString: strerror(errno)))")
            }
        }
        try writeAtomically(directory.appendingPathComponent("oci-layout").path, Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        try writeAtomically(directory.appendingPathComponent("index.json").path, try CanonicalJSON.encode(Index(manifests: [root])))
        let keep = Set(wanted.map(\.digest.hex))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blobs.path)) ?? [] where name.count == 64 && !keep.contains(name) {
            unlink(blobs.appendingPathComponent(name).path)
        }
        return root.digest
    }
}

extension FileManager {
    fileprivate func createdDirectory(_ url: URL) throws -> URL {
        do { try createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw PublishError.failed("cannot create \(url.path): \(error.localizedDescription)")
        }
        return url
    }
}
