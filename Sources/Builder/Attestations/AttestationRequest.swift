/// Which attestations a build attaches to its images, as buildx's `--provenance`, `--sbom`
/// and `--attest` ask for them (parsed by the command line; see `AttestationSpec` in Publish).
public struct AttestationRequest: Sendable, Equatable {
    /// SLSA provenance: `min` records what BuildKit's `mode=min` does (no build arguments or
    /// labels, which may hold secrets), `max` adds them and the Dockerfile's text.
    public enum ProvenanceMode: String, Sendable, Equatable {
        case min, max
    }

    /// The SLSA provenance format: v0.2 (buildx's default) or v1.
    public enum ProvenanceVersion: String, Sendable, Equatable {
        case v02 = "v0.2"
        case v1 = "v1"

        public var predicateType: String {
            switch self {
            case .v02: return "https://slsa.dev/provenance/v0.2"
            case .v1: return "https://slsa.dev/provenance/v1"
            }
        }
    }

    public struct Provenance: Sendable, Equatable {
        public var mode: ProvenanceMode
        public var version: ProvenanceVersion
        /// `builder-id=`: the builder's identity (a CI run URL, say); default `pkg:generic/slipway@VERSION`.
        public var builderID: String?

        public init(mode: ProvenanceMode = .min, version: ProvenanceVersion = .v02, builderID: String? = nil) {
            self.mode = mode
            self.version = version
            self.builderID = builderID
        }
    }

    /// Where attestations go: into the image index as BuildKit stores them, or beside the
    /// image as OCI 1.1 referrers (`subject` + `artifactType`), keeping the index free of
    /// `unknown/unknown` entries.
    public enum Storage: String, Sendable, Equatable {
        case index, referrers
    }

    public var provenance: Provenance?
    public var sbom: Bool
    public var storage: Storage
    /// The context's git commit and remote, recorded as buildx's `vcs:` metadata; false with
    /// `BUILDX_GIT_INFO=0`.
    public var gitInfo: Bool
    /// `BUILDX_GIT_CHECK_DIRTY=1`: `vcs:revision` gets `-dirty` when the work tree has
    /// uncommitted changes (off by default, as in buildx: checking walks the whole tree).
    public var gitCheckDirty: Bool

    public init(provenance: Provenance? = Provenance(), sbom: Bool = false, storage: Storage = .index, gitInfo: Bool = true,
                gitCheckDirty: Bool = false) {
        self.provenance = provenance
        self.sbom = sbom
        self.storage = storage
        self.gitInfo = gitInfo
        self.gitCheckDirty = gitCheckDirty
    }

    public var isEmpty: Bool { provenance == nil && !sbom }
}
