import Builder
import Foundation
import OCI

/// The layer cache as an OCI artifact in image-manifest form (what buildx writes with
/// `image-manifest=true,oci-mediatypes=true`, and what ECR accepts): an image manifest whose
/// config is the key → layer map and whose layers are the cached blobs, so the registry keeps
/// them referenced (never garbage-collected, mountable into other repositories). The same
/// layout, with an `index.json`, is a `type=local` cache directory.
public enum LayerCacheArtifact {
    public static let configMediaType = "application/vnd.slipway.layer-cache.config.v1+json"
    public static let version = 1

    struct Config: Codable {
        var version: Int
        var entries: [LayerCacheEntry]
    }

    /// Writes config and manifest into `store` (the blobs must be there or reachable) and
    /// returns the manifest's descriptor. Entries and layers are sorted: equal caches give
    /// equal digests.
    public static func store(_ entries: [LayerCacheEntry], in store: ContentStore) throws -> Descriptor {
        let sorted = entries.sorted { $0.key < $1.key }
        let config = try store.putJSON(Config(version: version, entries: sorted), mediaType: configMediaType)
        var layers: [Descriptor] = []
        var seen = Set<Digest>()
        for entry in sorted.sorted(by: { $0.digest < $1.digest }) where seen.insert(entry.digest).inserted {
            layers.append(entry.descriptor)
        }
        return try store.putJSON(Manifest(config: config, layers: layers), mediaType: MediaType.imageManifest)
    }

    /// Whether a manifest is a slipway layer cache (else it may be an image with inline keys).
    public static func isCache(_ manifest: Manifest) -> Bool { manifest.config.mediaType == configMediaType }

    /// The entries of a cache artifact; only entries whose blob the manifest lists (and so the
    /// registry keeps) are taken.
    public static func entries(of manifest: Manifest, config data: Data, what: String) throws -> [LayerCacheEntry] {
        let config: Config
        do { config = try JSONDecoder().decode(Config.self, from: data) } catch {
            throw PublishError.failed("\(what): the layer cache's config is not valid (\(error))")
        }
        guard config.version == version else {
            throw PublishError.failed("\(what): layer cache format version \(config.version) is not known to this slipway (it reads version \(version))")
        }
        let listed = Set(manifest.layers.map(\.digest))
        return config.entries.filter { listed.contains($0.digest) && $0.size >= 0 }
    }

    /// The entries an image's layers carry (`--cache-to type=inline`): key from the layer
    /// descriptor's annotation, diffID from the config at the same position.
    public static func inlineEntries(of manifest: Manifest, config: ImageConfig) -> [LayerCacheEntry] {
        guard config.rootfs.diffIDs.count == manifest.layers.count else { return [] }
        return zip(manifest.layers, config.rootfs.diffIDs).compactMap { layer, diffID in
            guard let text = layer.annotations?[LayerCacheAnnotation.key], let key = try? Digest(parsing: text) else { return nil }
            // An image pushed with oci-mediatypes=false names the same blobs with Docker's types.
            return LayerCacheEntry(key: key, digest: layer.digest, size: layer.size, mediaType: MediaTypeFamily.oci.layer(layer.mediaType),
                                   diffID: diffID, uncompressedSize: 0)
        }
    }
}
