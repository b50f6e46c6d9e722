import Dockerfile
import Layers
import OCI

/// Builds the stages one platform needs, each at most once, following FROM and
/// `COPY --from` dependencies. Produces metadata only: layers are registered with
/// `LayerJobs` and written later, all platforms together.
final class PlatformBuild {
    let plan: DockerfilePlan
    let platform: Platform
    let request: BuildRequest
    let contexts: Contexts
    let jobs: LayerJobs
    let bases: BaseImages
    let globalArgs: [String: String]
    private var results: [Int: StageState] = [:]
    /// The stage being built as the result, and the stages others refer to (by FROM or
    /// COPY --from): only the target's tree can be dropped once nothing reads it.
    var targetIndex = -1
    var referencedStages: Set<Int> = []
    /// Base layers and the registry references they can be fetched or mounted from.
    private(set) var blobSources: [Digest: String] = [:]
    private(set) var baseImages: [BaseImage] = []
    private var building: Set<Int> = []

    init(plan: DockerfilePlan, platform: Platform, request: BuildRequest, contexts: Contexts, jobs: LayerJobs, bases: BaseImages) throws {
        self.plan = plan
        self.platform = platform
        self.request = request
        self.contexts = contexts
        self.jobs = jobs
        self.bases = bases
        var args = Variables.platformArgs(target: platform, build: Platform.host)
        let lexer = ShellLexer(escapeToken: plan.escapeToken)
        for definition in plan.globalArgs {
            if let value = request.buildArgs[definition.name] {
                args[definition.name] = value
            } else if let value = definition.defaultValue {
                do { args[definition.name] = try lexer.processWord(value, env: args) } catch {
                    throw BuildError("cannot expand ARG \(definition.name): \(error)", file: request.dockerfileName)
                }
            }
        }
        globalArgs = args
    }

    /// The stage index a name (or number) refers to, if it is a stage.
    func stageIndex(_ reference: String) -> Int? {
        let lower = reference.lowercased()
        if let index = plan.stages.firstIndex(where: { $0.name == lower }) { return index }
        if let number = Int(reference), plan.stages.indices.contains(number) { return number }
        return nil
    }

    func build(_ index: Int) throws -> StageState {
        if let done = results[index] { return done }
        let stage = plan.stages[index]
        guard !building.contains(index) else {
            throw BuildError("stage '\(stage.name ?? String(index))' depends on itself", file: request.dockerfileName, line: stage.line)
        }
        building.insert(index)
        defer { building.remove(index) }
        var state = try start(stage)
        var dispatcher = Dispatcher(
            file: request.dockerfileName, buildArgs: request.buildArgs, globalArgs: globalArgs,
            epoch: Timestamp.rfc3339(request.sourceDateEpoch), jobs: jobs,
            copySource: { [unowned self] from, line in try self.source(from, line: line, stage: index) },
            prepareAdd: { [unowned self] url, checksum, _ in try self.contexts.download(url, checksum: checksum) },
            extractArchive: { [unowned self] path in try self.contexts.extract(path) })
        let stageName = stage.name ?? String(index)
        let lastTreeReader = stage.instructions.lastIndex { instruction in
            switch instruction.kind {
            case .copy, .workdir: return true
            default: return false
            }
        } ?? -1
        let treeKeptToEnd = request.keepFileTrees || index != targetIndex || referencedStages.contains(index)
        for (position, instruction) in stage.instructions.enumerated() {
            dispatcher.treeNeededAfter = treeKeptToEnd || position < lastTreeReader
            request.progress?(.instruction(platform: platform, stage: stageName, line: instruction.line,
                                           text: instruction.original.trimmingCharacters(in: .whitespaces)))
            try dispatcher.dispatch(instruction, state: &state)
        }
        results[index] = state
        return state
    }

    private func start(_ stage: Stage) throws -> StageState {
        let lexer = ShellLexer(escapeToken: plan.escapeToken)
        func expandGlobal(_ word: String) throws -> String {
            do { return try lexer.processWord(word, env: globalArgs) } catch {
                throw BuildError("cannot expand '\(word)': \(error)", file: request.dockerfileName, line: stage.line)
            }
        }
        var stagePlatform = platform
        if let raw = stage.platform {
            do { stagePlatform = try Platform(parsing: try expandGlobal(raw)) } catch let error as OCIError {
                throw BuildError("FROM --platform: \(error)", file: request.dockerfileName, line: stage.line)
            }
        }
        let base = try expandGlobal(stage.baseImage)
        var state: StageState
        if let index = stageIndex(base), index != stage.index {
            state = try build(index)
            try state.materializeTree()
            state.cmdSet = false
            state.variables = Variables(escapeToken: plan.escapeToken)
            state.variables.loadEnv(state.containerConfig.env)
        } else if base.lowercased() == "scratch" {
            var config = ImageConfig(platform: stagePlatform)
            config.created = Timestamp.rfc3339(request.sourceDateEpoch)
            config.config?.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
            state = StageState(platform: stagePlatform, config: config, tree: FileTree(), layers: [],
                               variables: Variables(escapeToken: plan.escapeToken))
            state.variables.loadEnv(config.config?.env)
        } else if case .ociLayout(let path, let reference)? = request.namedContexts[base] {
            state = try start(from: try bases.load(layout: path, reference: reference, platform: stagePlatform, name: base),
                              platform: stagePlatform)
        } else if case .directory? = request.namedContexts[base] {
            throw BuildError("FROM \(base): the build context '\(base)' is a directory, not an image; use --build-context \(base)=oci-layout://PATH",
                             file: request.dockerfileName, line: stage.line)
        } else if bases.canResolveRegistryImages {
            do {
                state = try start(from: try bases.load(registry: base, platform: stagePlatform), platform: stagePlatform)
            } catch let error as BuildError {
                throw BuildError("FROM \(base): \(error.message)", file: request.dockerfileName, line: stage.line)
            } catch {
                throw BuildError("FROM \(base): \(error)", file: request.dockerfileName, line: stage.line)
            }
        } else {
            throw BuildError("FROM \(base): this build has no registry access; use FROM scratch, or pass the image as --build-context \(base)=oci-layout://PATH (e.g. made with `skopeo copy docker://\(base) oci:PATH`)",
                             file: request.dockerfileName, line: stage.line)
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
        config.created = Timestamp.rfc3339(request.sourceDateEpoch)
        config.config = config.config ?? ContainerConfig()
        if config.config?.env == nil { config.config?.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] }
        // Triggers run in the child build (not supported here) and are not inherited.
        config.config?.onBuild = nil
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
        return state
    }

    private func source(_ from: String?, line: Int, stage: Int) throws -> CopySource {
        guard let from else { return ContextSource(context: contexts.main) }
        if let index = stageIndex(from) {
            guard index != stage else {
                throw BuildError("COPY --from=\(from) refers to its own stage", file: request.dockerfileName, line: line)
            }
            var state = try build(index)
            try state.materializeTree()
            return TreeSource(tree: state.tree, name: "stage '\(from)'")
        }
        if let context = try contexts.named(from) {
            return ContextSource(context: context)
        }
        let image: BaseImage
        if case .ociLayout(let path, let reference)? = request.namedContexts[from] {
            image = try bases.load(layout: path, reference: reference, platform: platform, name: from)
        } else if bases.canResolveRegistryImages {
            image = try bases.load(registry: from, platform: platform)
        } else {
            throw BuildError("COPY --from=\(from): no stage or build context by that name, and this build has no registry access (pass it as --build-context \(from)=oci-layout://PATH)",
                             file: request.dockerfileName, line: line)
        }
        let tree = try image.loadTree()
        return TreeSource(tree: tree, name: "image '\(from)'")
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
