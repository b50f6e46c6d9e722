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
    /// The base image, for `org.opencontainers.image.base.*` annotations.
    var baseName: String?
    var baseDigest: Digest?
    /// The base image, whose file tree is loaded into `tree` on first use.
    var pendingBase: BaseImage?

    /// Loads the base image's files when something is about to read the tree.
    mutating func materializeTree() throws {
        guard let base = pendingBase else { return }
        tree = try base.loadTree()
        pendingBase = nil
    }

    var containerConfig: ContainerConfig {
        get { config.config ?? ContainerConfig() }
        set { config.config = newValue }
    }

    var workdir: String { containerConfig.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/" }
    var shell: [String] { containerConfig.shell ?? ["/bin/sh", "-c"] }
}
