import Dockerfile
import Foundation
import Layers
import OCI

/// The build pipeline: Dockerfile → per-platform stage states (metadata only) → every
/// distinct layer written once, concurrently → configs, manifests and index in the store.
public enum Builder {
    public static func build(_ request: BuildRequest) throws -> BuildResult {
        let plan = try parse(request)
        let target = try targetIndex(plan, request: request)
        let referenced = try refuseRun(plan, target: target, request: request)

        let store = try ContentStore(root: URL(fileURLWithPath: request.storeDirectory))
        let contexts = try Contexts(request: request)
        let jobs = LayerJobs()
        let bases = BaseImages(store: store, scratch: request.scratchDirectory, resolver: request.baseResolver)
        var platforms: [Platform] = []
        for platform in request.platforms where !platforms.contains(platform) { platforms.append(platform) }

        var states: [(Platform, StageState)] = []
        var blobSources: [Digest: String] = [:]
        var baseImages: [BaseImage] = []
        for platform in platforms {
            let build = try PlatformBuild(plan: plan, platform: platform, request: request, contexts: contexts, jobs: jobs, bases: bases)
            build.targetIndex = target
            build.referencedStages = referenced
            var state = try build.build(target)
            if request.keepFileTrees { try state.materializeTree() }
            states.append((platform, state))
            blobSources.merge(build.blobSources) { first, _ in first }
            baseImages += build.baseImages
        }
        let options = LayerOptions(mtime: request.sourceDateEpoch, compression: request.compression, jobs: request.jobs)
        // Planning metadata is not needed while layers are written; free it first so peak
        // memory is the larger of the two phases, not their sum.
        if !request.keepFileTrees {
            for index in states.indices { states[index].1.tree = FileTree() }
        }
        let wanted = states.flatMap { $0.1.layers.compactMap { layer -> Int? in
            if case .planned(let job) = layer { return job }
            return nil
        } }
        let blobs = try jobs.materialize(wanted, options: options, store: store, concurrency: max(1, min(request.jobs, 4)),
                                         progress: request.progress)
        let annotations = try Assembler.Annotations(request.annotations)
        let (root, images) = try Assembler.assemble(states: states, blobs: blobs, labels: request.labels,
                                                    annotations: annotations, store: store)
        if request.fetchBaseLayers {
            for image in baseImages { try bases.fetchLayers(of: image) }
        }
        return BuildResult(root: root, images: images, blobSources: blobSources, store: store,
                           warnings: unusedArgWarnings(plan, request: request))
    }

    static func parse(_ request: BuildRequest) throws -> DockerfilePlan {
        do {
            let tree = try DockerfileParser.parse(request.dockerfileText)
            return try InstructionParser.plan(tree)
        } catch let error as SyntaxError {
            throw BuildError(error.message, file: request.dockerfileName, line: error.line)
        } catch let error as InstructionError {
            throw BuildError(error.message, file: request.dockerfileName, line: error.line)
        }
    }

    static func targetIndex(_ plan: DockerfilePlan, request: BuildRequest) throws -> Int {
        guard !plan.stages.isEmpty else { throw BuildError("no FROM instruction: a Dockerfile must have at least one stage", file: request.dockerfileName) }
        guard let target = request.target else { return plan.stages.count - 1 }
        if let index = plan.stages.firstIndex(where: { $0.name == target.lowercased() }) { return index }
        let names = plan.stages.compactMap(\.name)
        throw BuildError("target stage '\(target)' not found; the Dockerfile has \(names.isEmpty ? "no named stages" : "stages: " + names.joined(separator: ", "))",
                         file: request.dockerfileName)
    }

    /// RUN cannot be executed without a container runtime: find it in any stage the target
    /// needs before any work starts, so the user learns it at once.
    /// Returns the stages other stages refer to.
    @discardableResult
    static func refuseRun(_ plan: DockerfilePlan, target: Int, request: BuildRequest) throws -> Set<Int> {
        var globals: [String: String] = [:]
        if let platform = request.platforms.first { globals = Variables.platformArgs(target: platform, build: .host) }
        let lexer = ShellLexer(escapeToken: plan.escapeToken)
        for definition in plan.globalArgs {
            globals[definition.name] = request.buildArgs[definition.name] ?? definition.defaultValue.flatMap { try? lexer.processWord($0, env: globals) }
        }
        func index(of reference: String) -> Int? {
            let expanded = ((try? lexer.processWord(reference, env: globals)) ?? reference).lowercased()
            if let i = plan.stages.firstIndex(where: { $0.name == expanded }) { return i }
            return Int(expanded).flatMap { plan.stages.indices.contains($0) ? $0 : nil }
        }
        var needed: Set<Int> = []
        var referenced: Set<Int> = []
        var queue = [target]
        while let next = queue.popLast() {
            guard needed.insert(next).inserted else { continue }
            let stage = plan.stages[next]
            if let base = index(of: stage.baseImage), base < next { queue.append(base); referenced.insert(base) }
            for instruction in stage.instructions {
                if case .copy(let command) = instruction.kind, let from = command.from {
                    if let source = index(of: from) {
                        queue.append(source)
                        referenced.insert(source)
                    } else if from.contains("$") {
                        // Not resolvable here: keep every tree rather than guess.
                        referenced.formUnion(plan.stages.indices)
                    }
                }
            }
            if stage.baseImage.contains("$") { referenced.formUnion(plan.stages.indices) }
        }
        let runs = needed.sorted().flatMap { plan.stages[$0].instructions }.filter {
            if case .run = $0.kind { return true }
            return false
        }
        if let first = runs.min(by: { $0.line < $1.line }) {
            throw BuildError("RUN needs a container runtime; slipway builds without one — produce those files before the build (e.g. cross-compile) and COPY them",
                             file: request.dockerfileName, line: first.line)
        }
        return referenced
    }

    static func unusedArgWarnings(_ plan: DockerfilePlan, request: BuildRequest) -> [String] {
        var declared = Set(plan.globalArgs.map(\.name))
        for stage in plan.stages {
            for instruction in stage.instructions {
                if case .arg(let definitions) = instruction.kind { declared.formUnion(definitions.map(\.name)) }
            }
        }
        return request.buildArgs.keys.sorted().filter { !declared.contains($0) }.map {
            "build argument '\($0)' was not consumed by any ARG instruction"
        }
    }
}
