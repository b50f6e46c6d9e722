import Dockerfile
import Foundation
import Layers
import OCI

/// The build pipeline, in phases: Dockerfile → a stage graph per platform (what the target
/// needs; RUN refused here) → every image those stages use resolved, and the layers planning
/// will read fetched (async: the only phase that touches the network before export) →
/// per-platform stage states (metadata only, synchronous) → every distinct layer written
/// once, concurrently → configs, manifests and index in the store.
public enum Builder {
    public static func build(_ request: BuildRequest) async throws -> BuildResult {
        let parsed = try parse(request)
        // BuildKit checks every stage's `COPY --from`, also of stages a context replaces.
        try CopyFromWord.checkAll(parsed, file: request.dockerfileName)
        let plan = ReplacedStages.apply(parsed, contexts: request.namedContexts)
        let target = try targetIndex(plan, request: request)
        var platforms: [Platform] = []
        for platform in request.platforms where !platforms.contains(platform) { platforms.append(platform) }
        var graphs = try platforms.map { try StageGraph(plan: plan, platform: $0, target: target, request: request) }
        // The Dockerfile may set the epoch (a global ARG); later phases read the resolved one.
        var request = request
        // Provenance records times only when an epoch was given (else it omits them).
        let epochGiven = request.sourceDateEpoch != nil || request.buildArgs["SOURCE_DATE_EPOCH"]?.isEmpty == false
            || graphs.first?.globalArgs["SOURCE_DATE_EPOCH"]?.isEmpty == false
        request.sourceDateEpoch = try SourceDateEpoch.resolve(plan, globalArgs: graphs.first?.globalArgs ?? [:], request: request)
        let epoch = request.sourceDateEpoch ?? 0
        try refuseRun(plan, graphs: graphs, request: request)
        let annotations = try Assembler.Annotations(request.annotations)
        if request.mediaTypes == .docker { try Assembler.checkDockerAnnotations(annotations) }

        let store = try ContentStore(root: URL(fileURLWithPath: request.storeDirectory))
        let contexts = try Contexts(request: request)
        let bases = try await BaseImages.prepare(&graphs, request: request, store: store)
        // Stages reached only through a base image's ONBUILD `COPY --from`.
        try refuseRun(plan, graphs: graphs, request: request)

        let jobs = LayerJobs()
        var states: [(Platform, StageState)] = []
        var blobSources: [Digest: String] = [:]
        var baseImages: [BaseImage] = []
        var materials: [BuildMaterials] = []
        for graph in graphs {
            let build = PlatformBuild(graph: graph, request: request, contexts: contexts, jobs: jobs, bases: bases)
            var state = try build.build(graph.target)
            if request.keepFileTrees { try state.materializeTree() }
            states.append((graph.platform, state))
            blobSources.merge(build.blobSources) { first, _ in first }
            baseImages += build.baseImages
            materials.append(build.materials)
        }
        let options = LayerOptions(mtime: epoch, compression: request.compression, jobs: request.jobs)
        // Planning metadata is not needed while layers are written; free it first so peak
        // memory is the larger of the two phases, not their sum.
        contexts.releaseExtractions()
        if !request.keepFileTrees {
            for index in states.indices {
                states[index].1.tree = FileTree()
                states[index].1.pendingLayers = []
            }
        }
        let wanted = states.flatMap { $0.1.layers.compactMap { layer -> Int? in
            if case .planned(let job) = layer { return job }
            return nil
        } }
        let concurrency = max(1, min(request.jobs, 4))
        let layerCache = request.layerCache.map { LayerCache(settings: $0, options: options) }
        let registered = jobs.jobs
        // Layers written during planning (RUN) are not looked up: their sources have moved on.
        let reused = await layerCache?.lookUp(Array(Set(wanted)).sorted().filter { !jobs.isWritten($0) }.map { ($0, registered[$0]) }, store: store,
                                              needBytes: request.fetchBaseLayers || request.layerCache?.needBytes == true,
                                              concurrency: concurrency) ?? [:]
        let blobs = try jobs.materialize(wanted, options: options, store: store, concurrency: concurrency,
                                         cache: layerCache, reused: reused, progress: request.progress)
        layerCache?.finish()
        blobSources.merge(layerCache?.remoteSources ?? [:]) { first, _ in first }
        if request.forceCompression {
            try await ForcedCompression.apply(to: &states, baseImages: baseImages, bases: bases, request: request, store: store)
        }
        let attestation = request.attestations.flatMap { $0.isEmpty ? nil : $0 }
        var mediaTypes = request.mediaTypes
        var attestationWarnings: [String] = []
        if attestation != nil, mediaTypes == .docker {
            // As BuildKit (EnableOCITypes "for attestations"): attestation manifests are OCI.
            mediaTypes = .oci
            attestationWarnings.append("oci-mediatypes=false: attestations need OCI media types, so the image uses them (as BuildKit does); add --provenance=false to keep Docker media types")
        }
        var (root, images) = try Assembler.assemble(states: states, blobs: blobs, labels: request.labels, annotations: annotations,
                                                    mediaTypes: mediaTypes, layerAnnotations: layerCache?.inlineAnnotations() ?? [:],
                                                    store: store)
        // The SBOM reads every base layer, so it needs them here even for a push alone.
        if request.fetchBaseLayers || attestation?.sbom == true {
            for image in baseImages { try await bases.fetchLayers(of: image) }
        }
        var attestations: [AttestationManifest] = []
        if let attestation {
            let inputs = zip(images, zip(states, materials)).map { image, built in
                Attestor.PlatformInput(image: image, layers: built.0.1.layers, materials: built.1)
            }
            attestations = try Attestor.attest(attestation, inputs: inputs, request: request, jobs: jobs, store: store,
                                               explicitEpoch: epochGiven ? epoch : nil, epoch: epoch)
            if attestation.storage == .index {
                // As buildx: the image becomes an index (also for one platform), attestation
                // manifests after the images.
                let index = Index(manifests: images.map(\.manifest) + attestations.map(\.indexEntry),
                                  annotations: annotations.index.isEmpty ? nil : annotations.index)
                root = try store.putJSON(index, mediaType: MediaType.imageIndex)
            }
        }
        return BuildResult(root: root, images: images, blobSources: blobSources, store: store,
                           warnings: unusedArgWarnings(parsed, request: request) + layerCountWarnings(images) + (layerCache?.warnings ?? [])
                               + attestationWarnings,
                           sourceDateEpoch: epoch, layerCacheEntries: layerCache?.entries(for: wanted) ?? [], attestations: attestations)
    }

    /// Docker refuses to run an image of more than 125 layers ("max depth exceeded": overlayfs
    /// stacks at most ~128 directories, two of them its own), and other overlayfs runtimes stop
    /// near there too. Such an image builds and pushes fine, so say so now, not at `docker run`.
    static let runnableLayerLimit = 125

    static func layerCountWarnings(_ images: [BuildResult.PlatformImage]) -> [String] {
        let counts = Set(images.map(\.layers.count)).filter { $0 > runnableLayerLimit }.sorted()
        return counts.map {
            "the image has \($0) layers; Docker and other overlayfs-based runtimes refuse to run more than \(runnableLayerLimit) (\"max depth exceeded\"): merge COPY instructions, e.g. COPY the files from one directory"
        }
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

    /// RUN runs natively for the host's platform and, for another one, only through an
    /// emulator the kernel starts by itself (binfmt_misc with the F flag): checked for every
    /// stage the target needs, before any work, so the user learns it at once.
    static func refuseRun(_ plan: DockerfilePlan, graphs: [StageGraph], request: BuildRequest) throws {
        let isRun: (Instruction) -> Bool = {
            if case .run = $0.kind { return true }
            return false
        }
        for graph in graphs {
            var problem: String?
            var lines: Set<RunLine> = []
            for index in graph.needed.sorted() {
                guard let node = graph.nodes[index], let found = RunPlatform.problem(node.platform) else { continue }
                let runs = plan.stages[index].instructions.filter(isRun).map { RunLine(line: $0.line, text: $0.original, trigger: false) }
                    + node.triggers.filter(isRun).map { RunLine(line: $0.line, text: $0.original, trigger: true) }
                guard !runs.isEmpty else { continue }
                problem = problem ?? found
                lines.formUnion(runs)
            }
            let sorted = lines.sorted { ($0.line, $0.text) < ($1.line, $1.text) }
            if let problem, let first = sorted.first {
                throw BuildError(RunLine.emulatorRefusal(problem, lines: sorted, file: request.dockerfileName),
                                 file: request.dockerfileName, line: first.line)
            }
        }
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
