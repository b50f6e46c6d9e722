import HTTP
import OCI
import Layers

/// Everything one `slipway build` needs, independent of the command line that produced it.
public struct BuildRequest: Sendable {
    /// A named `--build-context`: another directory, an image in an OCI layout, or a registry image.
    public enum NamedContext: Sendable, Equatable {
        case directory(String)
        /// `oci-layout://PATH[:TAG|@sha256:…]`
        case ociLayout(path: String, reference: String?)
        /// `docker-image://REF`: resolved by `baseResolver` exactly as `FROM REF` would be, so
        /// `FROM name` and `COPY --from=name` see the same image (`scratch` is the empty image).
        case dockerImage(String)
    }

    public var contextDirectory: String
    public var dockerfileText: String
    /// How messages name the Dockerfile (`Dockerfile`, `build/Dockerfile.prod`, `-`).
    public var dockerfileName: String
    /// The Dockerfile was given as text, not as a file (bake's `dockerfile-inline`): provenance
    /// names it `Dockerfile`, as buildx does, whatever `dockerfileName` says in messages.
    public var dockerfileIsText = false
    /// Patterns from `.dockerignore` (already read with BuildKit's rules).
    public var ignorePatterns: [String]
    public var platforms: [Platform]
    public var buildArgs: [String: String]
    public var labels: [String: String]
    /// `--annotation`; keys may carry buildx's `index:` / `manifest:` / `manifest[os/arch]:` prefix.
    public var annotations: [String: String]
    public var target: String?
    public var tags: [String]
    /// nil: not given on the command line or in the environment; then a `SOURCE_DATE_EPOCH`
    /// build arg or the Dockerfile's global `ARG SOURCE_DATE_EPOCH=` default sets it, as in
    /// BuildKit, else 0 (`BuildResult.sourceDateEpoch` is the one used).
    public var sourceDateEpoch: Int64?
    public var compression: LayerCompression
    /// `force-compression=true`: base layers in another compression are recompressed to
    /// `compression` (else they are kept as they are, as BuildKit keeps them).
    public var forceCompression = false
    /// `oci-mediatypes=`: OCI (the default) or Docker schema 2 media types.
    public var mediaTypes: MediaTypeFamily = .oci
    public var jobs: Int
    public var namedContexts: [String: NamedContext]
    /// Where blobs are stored while building (a content store; outputs link from it).
    public var storeDirectory: String
    /// Scratch space for archive extraction and downloads; removed by the caller.
    public var scratchDirectory: String
    /// Fetches `ADD https://…` sources: the command line passes the registry client's transport
    /// (same CA bundle, certs.d, proxies, `SLIPWAY_CONNECT_TO`, insecure hosts) with its retries;
    /// nil: the environment's settings (`HTTPClient.shared`) with the default retries.
    public var downloadTransport: (any HTTPTransport)?
    /// Resolves registry images (FROM alpine, COPY --from=IMAGE); nil: registry bases are an error.
    public var baseResolver: (any BaseImageResolver)?
    /// Put every base layer into the store (needed when the result is exported to a file; a
    /// push alone can mount or stream them from their source instead).
    public var fetchBaseLayers = true
    /// Keep each platform's final file tree in the result (needed for `--output type=local`).
    public var keepFileTrees = false
    /// The layer cache (`--cache-from`, `--cache-to`, `--no-cache`); nil: none.
    public var layerCache: LayerCacheSettings?
    /// Provenance and SBOM attestations to attach (nil or empty: none).
    public var attestations: AttestationRequest?
    /// Receives progress events (from several threads while layers are written).
    public var progress: (@Sendable (BuildEvent) -> Void)?
    /// `--allow` and `--network` for RUN.
    public var runSettings = RunSettings()

    public init(contextDirectory: String, dockerfileText: String, dockerfileName: String = "Dockerfile",
                ignorePatterns: [String] = [], platforms: [Platform], buildArgs: [String: String] = [:],
                labels: [String: String] = [:], annotations: [String: String] = [:], target: String? = nil,
                tags: [String] = [], sourceDateEpoch: Int64? = nil, compression: LayerCompression = .gzip(level: 6),
                jobs: Int = 1, namedContexts: [String: NamedContext] = [:], storeDirectory: String,
                scratchDirectory: String) {
        self.contextDirectory = contextDirectory
        self.dockerfileText = dockerfileText
        self.dockerfileName = dockerfileName
        self.ignorePatterns = ignorePatterns
        self.platforms = platforms
        self.buildArgs = buildArgs
        self.labels = labels
        self.annotations = annotations
        self.target = target
        self.tags = tags
        self.sourceDateEpoch = sourceDateEpoch
        self.compression = compression
        self.jobs = jobs
        self.namedContexts = namedContexts
        self.storeDirectory = storeDirectory
        self.scratchDirectory = scratchDirectory
    }
}

/// What the build is doing, for progress displays.
public enum BuildEvent: Sendable {
    /// An instruction was planned for a platform: `[linux/amd64 stage 2/3] COPY . /app`.
    case instruction(platform: Platform, stage: String, line: Int, text: String)
    /// A layer is being written (`index` of `count` distinct layers).
    case layerStarted(index: Int, count: Int, entries: Int)
    case layerFinished(index: Int, count: Int, digest: Digest, size: Int64, seconds: Double)
    /// A line a RUN command printed (stdout and stderr merged).
    case runOutput(platform: Platform, stage: String, line: Int, text: String)
    /// A layer's blob was taken from the layer cache (`from`: the local cache or a `--cache-from`).
    case layerReused(index: Int, count: Int, digest: Digest, size: Int64, from: String)
    /// `force-compression`: a base layer was recompressed into a new blob.
    case baseLayerRecompressed(from: Digest, to: Digest, mediaType: String, size: Int64, seconds: Double)
}

/// What a build produced: the root descriptor (index for several platforms, manifest for
/// one) and per platform its manifest and config, all stored in `store`.
public struct BuildResult: Sendable {
    public struct PlatformImage: Sendable {
        public var platform: Platform
        public var manifest: Descriptor
        public var config: Descriptor
        public var layers: [Descriptor]
        /// The final stage's files (for `--output type=local`).
        let tree: FileTree
    }

    public var root: Descriptor
    public var images: [PlatformImage]
    /// Base layers that may be missing from the store, with the registry reference each can
    /// be fetched or mounted from.
    public var blobSources: [Digest: String]
    public var store: ContentStore
    public var warnings: [String]
    /// The epoch files and `created` were written with; exporters use it for their own times.
    public var sourceDateEpoch: Int64
    /// The layer cache's entry of every layer the build wrote or reused (what `--cache-to`
    /// exports); empty without a layer cache.
    public var layerCacheEntries: [LayerCacheEntry] = []
    /// One per platform when attestations were asked for: in `root` (storage `.index`) or
    /// to be pushed as referrers of their subject (`.referrers`).
    public var attestations: [AttestationManifest] = []
}
