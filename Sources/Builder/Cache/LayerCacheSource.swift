import Foundation
import OCI

/// A cache imported with `--cache-from`: a registry artifact, an image whose layers carry
/// their keys, or a directory. Its entries are hints; the builder takes a blob only once the
/// source has put it into the store verified, or confirmed that the registry holds it.
public protocol LayerCacheSource: Sendable {
    /// How messages name it (`registry.example.com/app:buildcache`, `cache directory ci-cache`).
    var description: String { get }
    /// The repository a push to another repository of the same registry can mount reused blobs
    /// from (`registry/repository`); nil for a directory.
    var mountSource: String? { get }
    /// Reads the entries (once per build, before any layer is written).
    func loadEntries() async throws -> [LayerCacheEntry]
    /// Makes a hit usable: with `needBytes` the blob must end up in `store` (verified); without,
    /// it may stay in a registry that pushes mount or skip it from.
    func obtain(_ entry: LayerCacheEntry, into store: ContentStore, needBytes: Bool) async throws -> LayerCacheProvision
}

/// Where a reused blob is.
public enum LayerCacheProvision: Sendable, Equatable {
    /// In the build's content store, verified.
    case inStore
    /// In a registry (a reference pushes may mount, skip or fetch it from).
    case remote(String)
    /// Not there any more: the layer is written.
    case missing
}

/// How a build uses the layer cache (`BuildRequest.layerCache`; nil: no cache at all).
public struct LayerCacheSettings: Sendable {
    /// `CACHE/layers`: the local index of keys and the memo of file content digests.
    public var directory: URL
    /// False with `--no-cache`: nothing is reused, but keys are still computed and recorded
    /// (and exported), as buildx does.
    public var reuse: Bool
    /// `--cache-from`, in the order given (the first one knowing a key wins).
    public var sources: [any LayerCacheSource]
    /// `--cache-to type=inline`: record each layer's key in its descriptor's annotations.
    public var inlineKeys: Bool
    /// Bring every reused blob into the store even when only pushing (a `type=local` cache
    /// export needs the bytes).
    public var needBytes: Bool

    public init(directory: URL, reuse: Bool = true, sources: [any LayerCacheSource] = [], inlineKeys: Bool = false,
                needBytes: Bool = false) {
        self.directory = directory
        self.reuse = reuse
        self.sources = sources
        self.inlineKeys = inlineKeys
        self.needBytes = needBytes
    }
}
