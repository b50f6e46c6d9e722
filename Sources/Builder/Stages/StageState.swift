import OCI
import Layers

/// A layer of a stage: one inherited from a base image, or one this build writes.
enum LayerRef: Sendable, Equatable {
    case base(Descriptor, diffID: Digest)
    case planned(job: Int)
}

/// Where a stage stands while its instructions run.
struct StageState: Sendable {
    var platform: Platform
    var config: ImageConfig
    var tree: FileTree
    var layers: [LayerRef]
    var variables: Variables
    /// Whether CMD was set in this stage (a later ENTRYPOINT then keeps it, as in BuildKit).
    var cmdSet = false
    /// Whether an ENV ran in this stage: the config's list is then written from the variables
    /// when the stage ends (`finishEnv`), once, not rebuilt per ENV.
    var envDefined = false
    /// The base image, for `org.opencontainers.image.base.*` annotations.
    var baseName: String?
    var baseDigest: Digest?
    /// The base image, whose file tree is loaded into `tree` on first use.
    var pendingBase: BaseImage?
    /// Layers taken from another platform's plan whose entries `tree` does not have yet
    /// (`tree.lineage` already includes them): applied only if something reads the tree.
    var pendingLayers: [[LayerEntry]] = []
    /// The scratch root the stage's RUNs share (nil until its first RUN).
    var runRoot: RunRoot?

    /// Loads the base image's files and applies pending layers when something is about to
    /// read the tree.
    mutating func materializeTree() throws {
        try loadBase()
        for entries in pendingLayers { tree.apply(entries) }
        pendingLayers = []
    }

    /// Loads the base image's files (once per image and build: `BaseTrees` keeps them), so a
    /// base that cannot be read fails at the first instruction that reads files.
    mutating func loadBase() throws {
        guard let base = pendingBase else { return }
        let lineage = tree.lineage
        tree = try base.loadTree()
        tree.lineage = lineage
        pendingBase = nil
    }

    /// Takes the outcome of an instruction planned before on an equal tree: its resulting
    /// tree when still shared, else its layer to apply when the tree is read.
    mutating func adopt(_ plan: LayerJobs.Plan) {
        if let shared = plan.tree {
            tree = shared
            pendingBase = nil
            pendingLayers = []
        } else if plan.job != nil {
            pendingLayers.append(plan.entries)
            tree.lineage = plan.lineage
        }
    }

    var containerConfig: ContainerConfig {
        get { config.config ?? ContainerConfig() }
        set { config.config = newValue }
    }

    /// Changes the container config in place. Through `containerConfig` a map such as the
    /// labels would be shared by the copy the getter returns and copied whole on every change.
    mutating func editContainerConfig(_ body: (inout ContainerConfig) -> Void) {
        var value = config.config.take() ?? ContainerConfig()
        body(&value)
        config.config = value
    }

    /// Writes the stage's ENV into its config (after its last instruction).
    mutating func finishEnv() {
        guard envDefined else { return }
        let list = variables.envList
        editContainerConfig { $0.env = list }
        envDefined = false
    }

    var workdir: String { containerConfig.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/" }
    var shell: [String] { containerConfig.shell ?? ["/bin/sh", "-c"] }
}
