import Dockerfile
import Layers
import OCI

/// Builds the stages one platform needs, each at most once, following the stage graph's
/// FROM and `COPY --from` dependencies. Produces metadata only: layers are registered with
/// `LayerJobs` and written later, all platforms together. Synchronous: every image it uses
/// was resolved (and, when its files are read, fetched) before planning started.
final class PlatformBuild {
    let graph: StageGraph
    let request: BuildRequest
    let contexts: Contexts
    let jobs: LayerJobs
    let bases: BaseImages
    private var results: [Int: StageState] = [:]
    /// The stages others refer to (by FROM or COPY --from): only the target's tree can be
    /// dropped once nothing reads it.
    private let referencedStages: Set<Int>
    /// Base layers and the registry references they can be fetched or mounted from.
    private(set) var blobSources: [Digest: String] = [:]
    private(set) var baseImages: [BaseImage] = []
    /// Images and downloads this platform used, for provenance.
    private(set) var materials = BuildMaterials()
    private var building: Set<Int> = []

    init(graph: StageGraph, request: BuildRequest, contexts: Contexts, jobs: LayerJobs, bases: BaseImages) {
        self.graph = graph
        self.request = request
        self.contexts = contexts
        self.jobs = jobs
        self.bases = bases
        referencedStages = graph.referencedStages
    }

    var plan: DockerfilePlan { graph.plan }
    var platform: Platform { graph.platform }

    /// A stage being built: where its instructions stand while a stage it needs is built.
    private struct Frame {
        let index: Int
        var state: StageState?
        var dispatcher: Dispatcher?
        var position = 0
        /// Whether the instruction at `position` was announced (it is dispatched again after
        /// the stage it copies from is built).
        var announced = false
        /// The last instruction that reads the stage's files (-1: none); computed once, not
        /// at every resumption.
        var lastTreeReader = -1
    }

    /// Planning reached a `COPY --from` or FROM of a stage not built yet: the driver builds
    /// that stage, then dispatches the instruction again (nothing before that point changed
    /// the state, and downloads and extractions are cached).
    private struct NeedsStage: Error {
        let index: Int
    }

    /// Builds a stage and every stage it needs, in the order a depth-first walk reaches them
    /// (so errors and progress come in the same order), with an explicit stack: a chain of
    /// thousands of stages needs no deeper recursion than one.
    func build(_ target: Int) throws -> StageState {
        if let done = results[target] { return done }
        var stack: [Frame] = []
        try enter(target, stack: &stack)
        while let top = stack.last {
            do {
                try advance(&stack[stack.count - 1])
            } catch let needs as NeedsStage {
                try enter(needs.index, stack: &stack)
                continue
            }
            results[top.index] = stack.removeLast().state
            building.remove(top.index)
        }
        guard let done = results[target] else {
            throw BuildError("internal error: stage \(target) was not built", file: request.dockerfileName)
        }
        return done
    }

    private func enter(_ index: Int, stack: inout [Frame]) throws {
        guard !building.contains(index) else {
            let stage = plan.stages[index]
            throw BuildError("stage '\(stage.name ?? String(index))' depends on itself", file: request.dockerfileName, line: stage.line)
        }
        building.insert(index)
        stack.append(Frame(index: index))
    }

    /// Runs a stage's instructions from where it stands to its end, or until it needs a stage
    /// that is not built yet (`NeedsStage`).
    private func advance(_ frame: inout Frame) throws {
        let index = frame.index
        let stage = plan.stages[index]
        if frame.state == nil {
            frame.state = try start(stage)
            frame.dispatcher = Dispatcher(
                file: request.dockerfileName, buildArgs: request.buildArgs, globalArgs: graph.globalArgs,
                epoch: Timestamp.rfc3339(request.sourceDateEpoch ?? 0), jobs: jobs,
                copySource: { [unowned self] from, line in try self.source(from, line: line, stage: index) },
                prepareAdd: { [unowned self] url, checksum, _ in
                    let file = try self.contexts.download(url, checksum: checksum)
                    if case .path(let path) = file.source { self.materials.addDownload(url, file: path) }
                    return file
                },
                extractArchive: { [unowned self] path in try self.contexts.extract(path) })
            var runSettings = request.runSettings
            runSettings.cacheNamespace = request.buildArgs["BUILDKIT_CACHE_MOUNT_NS"] ?? ""
            frame.dispatcher?.runContext = RunContext(scratch: request.scratchDirectory, settings: runSettings, progress: request.progress)
            frame.dispatcher?.mountSource = { [unowned self] from, target in try self.mountSource(from, target: target, stage: index) }
            frame.dispatcher?.runContext?.layerOutput = (LayerOptions(mtime: request.sourceDateEpoch ?? 0, compression: request.compression, jobs: request.jobs), request.storeDirectory)
            frame.dispatcher?.stageName = stage.name ?? String(index)
            frame.lastTreeReader = stage.instructions.lastIndex(where: StageGraph.readsTree) ?? -1
            // ONBUILD triggers of the base run first, and the new stage's config has none.
            frame.state?.config.config?.onBuild = nil
        }
        guard var state = frame.state, var dispatcher = frame.dispatcher else { return }
        frame.state = nil
        defer { frame.state = state }
        let stageName = stage.name ?? String(index)
        let lastTreeReader = frame.lastTreeReader
        let treeKeptToEnd = request.keepFileTrees || index != graph.target || referencedStages.contains(index)
        // Positions count the base's ONBUILD triggers first, then the stage's instructions.
        let triggers = graph.nodes[index]?.triggers ?? []
        while frame.position < triggers.count + stage.instructions.count {
            let instruction: Instruction
            let text: String
            if frame.position < triggers.count {
                instruction = triggers[frame.position]
                dispatcher.treeNeededAfter = true
                text = "ONBUILD " + instruction.original.trimmingCharacters(in: .whitespaces)
            } else {
                let position = frame.position - triggers.count
                instruction = stage.instructions[position]
                dispatcher.treeNeededAfter = treeKeptToEnd || position < lastTreeReader
                text = instruction.original.trimmingCharacters(in: .whitespaces)
            }
            if !frame.announced {
                request.progress?(.instruction(platform: platform, stage: stageName, line: instruction.line, text: text))
                frame.announced = true
            }
            try dispatcher.dispatch(instruction, state: &state)
            frame.position += 1
            frame.announced = false
        }
        state.finishEnv()
    }

    /// A built stage, its files loaded (once, in place: every reader shares them).
    private func builtStage(_ index: Int) throws -> StageState {
        guard var state = results[index] else { throw NeedsStage(index: index) }
        if state.pendingBase != nil || !state.pendingLayers.isEmpty {
            results[index] = nil
            try state.materializeTree()
            results[index] = state
        }
        return state
    }

    private func start(_ stage: Stage) throws -> StageState {
        guard let node = graph.nodes[stage.index] else {
            throw BuildError("internal error: stage \(stage.index) is not in the stage graph", file: request.dockerfileName, line: stage.line)
        }
        var stagePlatform = node.platform
        let base = node.baseName
        var state: StageState
        switch node.base {
        case .stage(let index):
            state = try builtStage(index)
            // BuildKit: a stage built on another takes that stage's platform, whatever its own
            // `--platform` says.
            stagePlatform = state.platform
            state.cmdSet = false
            // The other stage's RUN root stays its own.
            state.runRoot = nil
            state.variables = Variables(escapeToken: plan.escapeToken)
            state.variables.loadEnv(state.containerConfig.env)
        case .scratch:
            var config = ImageConfig(platform: stagePlatform)
            config.created = Timestamp.rfc3339(request.sourceDateEpoch ?? 0)
            config.config?.env = Variables.defaultEnv
            // BuildKit's empty image has WorkingDir "/".
            config.config?.workingDir = "/"
            state = StageState(platform: stagePlatform, config: config, tree: FileTree(), layers: [],
                               variables: Variables(escapeToken: plan.escapeToken))
            state.variables.loadEnv(config.config?.env)
        case .image(let image):
            if case .layout = image.location {
                state = try start(from: try bases.image(image), platform: stagePlatform)
            } else {
                do {
                    state = try start(from: try bases.image(image), platform: stagePlatform)
                } catch let error as BuildError {
                    throw BuildError("FROM \(base): \(error.message)", file: request.dockerfileName, line: stage.line)
                } catch {
                    throw BuildError("FROM \(base): \(error)", file: request.dockerfileName, line: stage.line)
                }
            }
        case .unusable(let error):
            throw error
        case .context:
            throw BuildError("internal error: FROM \(base) names a directory context", file: request.dockerfileName, line: stage.line)
        }
        state.platform = stagePlatform
        state.config.architecture = stagePlatform.architecture
        state.config.os = stagePlatform.os
        state.config.variant = stagePlatform.variant
        return state
    }

    /// A stage that starts from an image: its config inherited as Docker does, its layers
    /// kept, its files loaded only when read.
    private func start(from image: BaseImage, platform: Platform) throws -> StageState {
        var config = image.config
        config.created = Timestamp.rfc3339(request.sourceDateEpoch ?? 0)
        config.config = config.config ?? ContainerConfig()
        if config.config?.env == nil { config.config?.env = Variables.defaultEnv }
        // Kept until the stage has run them (`build`), then cleared.
        var tree = FileTree()
        tree.lineage = "base:\(image.manifestDigest)"
        var state = StageState(platform: platform, config: config, tree: tree,
                               layers: zip(image.layers, image.config.rootfs.diffIDs).map { .base($0, diffID: $1) },
                               variables: Variables(escapeToken: plan.escapeToken))
        state.variables.loadEnv(config.config?.env)
        state.baseName = image.name
        state.baseDigest = image.manifestDigest
        state.pendingBase = image
        if let source = image.source {
            for layer in image.layers { blobSources[layer.digest] = source }
        }
        baseImages.append(image)
        materials.add(image.material)
        return state
    }

    /// What a `RUN --mount` reads: as `COPY --from`, with BuildKit's message for a stage that
    /// is not defined before the RUN.
    private func mountSource(_ from: String?, target: String, stage: Int) throws -> CopySource {
        if let from, let index = graph.stageIndex(from), index >= stage {
            throw BuildError("cannot mount from stage \"\(from)\" to \"\(target)\", stage needs to be defined before current command")
        }
        return try source(from, line: 0, stage: stage)
    }

    private func source(_ from: String?, line: Int, stage: Int) throws -> CopySource {
        guard let from else { return ContextSource(context: contexts.main) }
        switch graph.copySource(from, stage: stage, line: line) {
        case .stage(let index):
            return TreeSource(tree: try builtStage(index).tree, name: "stage '\(from)'")
        case .context:
            guard let context = try contexts.named(from) else {
                throw BuildError("internal error: no build context '\(from)'", file: request.dockerfileName, line: line)
            }
            return ContextSource(context: context)
        case .image(let image):
            let base = try bases.image(image)
            materials.add(base.material)
            return TreeSource(tree: try base.loadTree(), name: "image '\(from)'")
        case .unusable(let error):
            throw error
        case .scratch:
            throw BuildError("internal error: COPY --from=\(from) names scratch", file: request.dockerfileName, line: line)
        }
    }
}

/// RFC 3339 timestamps for `created`, from the source date epoch.
enum Timestamp {
    static func rfc3339(_ epoch: Int64) -> String {
        var time = time_t(epoch)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}

import Foundation
