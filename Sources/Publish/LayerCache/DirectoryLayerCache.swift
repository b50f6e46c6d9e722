import Builder
import Foundation
import OCI

/// `type=local`: a cache directory CI systems save and restore (GitHub Actions' cache, GitLab's
/// `cache:`). It is an OCI layout: `index.json` naming one cache artifact per tag (buildx's
/// `tag=`, default `latest`, as `org.opencontainers.image.ref.name`), and their blobs under
/// `blobs/sha256/`. See `DirectoryLayerCacheExport` for how exports share a directory.
struct DirectoryLayerCacheSource: LayerCacheSource {
    let directory: URL
    /// `tag=`: only that cache of the directory; nil reads every cache it holds (entries are
    /// keyed by content, so another build's entries can only be hits for equal layers).
    var tag: String? = nil

    var description: String { "cache directory \(directory.path)" + (tag.map { " (tag \($0))" } ?? "") }
    var mountSource: String? { nil }

    private var layout: ContentStore { ContentStore(readingLayoutAt: directory) }

    func loadEntries() async throws -> [LayerCacheEntry] {
        let indexURL = directory.appendingPathComponent("index.json")
        guard let data = FileManager.default.contents(atPath: indexURL.path) else {
            throw PublishError.failed("no cache there (\(indexURL.path) does not exist)")
        }
        let index = try CanonicalJSON.decode(Index.self, from: data, what: indexURL.path)
        var entries: [LayerCacheEntry] = []
        var found = false
        for descriptor in index.manifests where MediaType.isManifest(descriptor.mediaType) {
            if let tag, DirectoryLayerCacheExport.cacheTag(of: descriptor) != tag { continue }
            let manifest = try CanonicalJSON.decode(Manifest.self, from: try layout.read(descriptor.digest), what: "cache manifest \(descriptor.digest)")
            guard LayerCacheArtifact.isCache(manifest) else { continue }
            found = true
            entries += try LayerCacheArtifact.entries(of: manifest, config: try layout.read(manifest.config.digest), what: description)
        }
        if let tag, !found {
            let tags = Set(index.manifests.map { DirectoryLayerCacheExport.cacheTag(of: $0) }).sorted()
            throw PublishError.failed("no cache tagged '\(tag)' there (its tags: \(tags.isEmpty ? "none" : tags.joined(separator: ", ")))")
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
        } catch {
            // Removed meanwhile by another process's export of the directory: a miss.
            if !FileManager.default.fileExists(atPath: source) { return .missing }
            throw error
        }
        return .inStore
    }
}

extension FileManager {
    func createdDirectory(_ url: URL) throws -> URL {
        do { try createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw PublishError.failed("cannot create \(url.path): \(error.localizedDescription)")
        }
        return url
    }
}
