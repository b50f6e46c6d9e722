import Dockerfile
import OCI

/// An image the build reads: a FROM base or a `COPY --from` source that is neither a stage
/// nor a directory context, for one platform.
struct ImageRequest: Hashable, Sendable {
    enum Location: Hashable, Sendable {
        /// A registry reference as the Dockerfile names it (expanded).
        case registry(String)
        /// `--build-context NAME=oci-layout://PATH[:TAG|@DIGEST]`.
        case layout(name: String, path: String, reference: String?)
    }

    var location: Location
    var platform: Platform
}

/// What a FROM or a `COPY --from` names.
enum StageInput: Sendable {
    case stage(Int)
    case scratch
    /// A `--build-context` directory (only `COPY --from` can read one).
    case context(String)
    case image(ImageRequest)
    /// Nothing the build can use. Planning throws the error where it always has (when it
    /// reaches the instruction), so a Dockerfile with several problems reports the same one.
    case unusable(BuildError)

    var stage: Int? {
        if case .stage(let index) = self { return index }
        return nil
    }

    var image: ImageRequest? {
        if case .image(let request) = self { return request }
        return nil
    }
}

/// One stage the target needs, as the graph sees it.
struct StageNode: Sendable {
    let index: Int
    /// `FROM --platform`, expanded; else the build's platform.
    let platform: Platform
    /// The FROM word expanded with the global ARGs, as messages name it.
    let baseName: String
    let base: StageInput
    /// What each `COPY --from` names, by instruction position (the words are literal:
    /// `CopyFromWord`).
    var copies: [Int: StageInput] = [:]
    /// The ONBUILD triggers that run first in this stage (its base stage's, or its base
    /// image's once resolved), and whether an image base's were looked at yet.
    var triggers: [Instruction] = []
    var triggersLoaded = false
    /// What the triggers' `COPY --from` name.
    var triggerCopies: [StageInput] = []

    /// What each RUN's `--mount from=` names, by instruction position.
    var mounts: [Int: [StageInput]] = [:]

    var dependencies: [StageInput] {
        [base] + triggerCopies + copies.keys.sorted().compactMap { copies[$0] } + mounts.keys.sorted().flatMap { mounts[$0] ?? [] }
    }
}

/// The stages one platform's build needs, computed once from the Dockerfile: global ARGs
/// expanded for the platform, each stage's base and `COPY --from` sources, and which stages
/// the target reaches. The RUN check, base image resolution and planning all read it, so they
/// agree on what the build uses.
struct StageGraph: Sendable {
    let plan: DockerfilePlan
    let platform: Platform
    let target: Int
    let request: BuildRequest
    /// The automatic platform ARGs and the global ARGs (before the first FROM), expanded.
    let globalArgs: [String: String]
    /// The stages the target needs, by index.
    private(set) var nodes: [Int: StageNode] = [:]
    /// The needed stages on a base image whose ONBUILD triggers were not looked at yet, so
    /// settling visits only them.
    private(set) var stagesAwaitingTriggers: Set<Int> = []
    /// Stage names (lowercased) to their first index, so each `COPY --from` and FROM looks a
    /// stage up in constant time, not by scanning every stage.
    let stageNames: [String: Int]

    init(plan: DockerfilePlan, platform: Platform, target: Int, request: BuildRequest) throws {
        self.plan = plan
        self.platform = platform
        self.target = target
        self.request = request
        var names: [String: Int] = [:]
        for (position, stage) in plan.stages.enumerated() {
            if let name = stage.name, names[name] == nil { names[name] = position }
        }
        stageNames = names
        var args = Variables.platformArgs(target: platform, build: Platform.host)
        // BuildKit's TARGETSTAGE: the target stage's name, "default" when it has none.
        args["TARGETSTAGE"] = request.target?.lowercased() ?? plan.stages[target].name ?? "default"
        for name in Array(args.keys) { if let value = request.buildArgs[name] { args[name] = value } }
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
        try add(target)
    }

    var needed: Set<Int> { Set(nodes.keys) }

    /// The stages another needed stage starts from or copies from: their trees must be kept.
    var referencedStages: Set<Int> {
        Set(nodes.values.flatMap { $0.dependencies.compactMap(\.stage) })
    }

    /// Every image the needed stages start from or copy from.
    var images: Set<ImageRequest> {
        Set(nodes.values.flatMap { $0.dependencies.compactMap(\.image) })
    }

    /// The images whose files planning reads: what `COPY --from` copies from, and the bases
    /// of stages that COPY, ADD or WORKDIR, are read by other stages, or are exported as files.
    /// Only these need their layers before planning; a FROM that only changes the config
    /// downloads none.
    var imagesReadAsFiles: Set<ImageRequest> {
        var result = Set<ImageRequest>()
        let referenced = referencedStages
        for node in nodes.values {
            result.formUnion(node.copies.values.compactMap(\.image))
            result.formUnion(node.triggerCopies.compactMap(\.image))
            result.formUnion(node.mounts.values.flatMap { $0 }.compactMap(\.image))
            guard let base = node.base.image else { continue }
            if plan.stages[node.index].instructions.contains(where: StageGraph.readsTree) || node.triggers.contains(where: StageGraph.readsTree) || referenced.contains(node.index) || (node.index == target && request.keepFileTrees) {
                result.insert(base)
            }
        }
        return result
    }

    /// Whether an instruction reads the stage's files (so its base image's tree must be
    /// loaded first): COPY and ADD, and WORKDIR, which creates a missing directory.
    static func readsTree(_ instruction: Instruction) -> Bool {
        switch instruction.kind {
        case .copy, .workdir, .run: return true
        default: return false
        }
    }

    /// The stage a name (or number) refers to, if it is a stage.
    func stageIndex(_ reference: String) -> Int? {
        let lower = reference.lowercased()
        if let index = stageNames[lower] {
            // BuildKit: a named build context replaces the stage of the same name.
            if request.namedContexts[reference] != nil || request.namedContexts[lower] != nil { return nil }
            return index
        }
        if let number = Int(reference), plan.stages.indices.contains(number) { return number }
        return nil
    }

    /// What a `COPY --from` word (expanded) names in stage `stage`: a stage, a directory
    /// context, an OCI layout image or a registry image, in that order.
    func copySource(_ from: String, stage: Int, line: Int) -> StageInput {
        let file = request.dockerfileName
        if let index = stageIndex(from) {
            guard index != stage else { return .unusable(BuildError("COPY --from=\(from) refers to its own stage", file: file, line: line)) }
            // BuildKit dispatches stages in order: a later one cannot be copied from.
            guard index < stage else {
                let current = plan.stages[stage].name ?? String(stage)
                return .unusable(BuildError("cannot copy from stage \"\(from)\", it needs to be defined before current stage \"\(current)\"; move that stage above this one",
                                            file: file, line: line))
            }
            return .stage(index)
        }
        switch request.namedContexts[from] {
        case .directory?:
            return .context(from)
        case .ociLayout(let path, let reference)?:
            return .image(ImageRequest(location: .layout(name: from, path: path, reference: reference), platform: replacedStagePlatform(from) ?? platform))
        case .dockerImage(let reference)?:
            return imageContext(from, reference: reference, platform: replacedStagePlatform(from) ?? platform, line: line)
        case nil:
            guard request.baseResolver != nil else {
                return .unusable(BuildError("COPY --from=\(from): no stage or build context by that name, and this build has no registry access (pass it as --build-context \(from)=oci-layout://PATH)",
                                            file: file, line: line))
            }
            return .image(ImageRequest(location: .registry(from), platform: platform))
        }
    }

    /// The platform a context that replaces a stage is loaded for: that stage's `--platform`,
    /// else the build's, as BuildKit loads it for the stage it replaces (nil: `name` is no
    /// replaced stage). A `--platform` that does not expand or parse is left to planning.
    func replacedStagePlatform(_ name: String) -> Platform? {
        guard let index = stageNames[name.lowercased()],
              request.namedContexts[name] != nil || request.namedContexts[name.lowercased()] != nil else { return nil }
        guard let raw = plan.stages[index].platform else { return platform }
        guard let expanded = try? ShellLexer(escapeToken: plan.escapeToken).processWord(raw, env: globalArgs) else { return nil }
        return try? Platform(parsing: expanded)
    }

    /// A `docker-image://` named context: the registry image it names, through the same
    /// resolver as `FROM REF`; `scratch` is the empty image, as in BuildKit.
    private func imageContext(_ name: String, reference: String, platform: Platform, line: Int) -> StageInput {
        if reference.lowercased() == "scratch" { return .scratch }
        guard request.baseResolver != nil else {
            return .unusable(BuildError("the build context '\(name)' is docker-image://\(reference), and this build has no registry access",
                                        file: request.dockerfileName, line: line))
        }
        return .image(ImageRequest(location: .registry(reference), platform: platform))
    }

    /// Adds a stage and everything it reaches.
    mutating func add(_ index: Int) throws {
        var queue = [index]
        while let next = queue.popLast() {
            guard nodes[next] == nil else { continue }
            let node = try makeNode(next)
            nodes[next] = node
            if !node.triggersLoaded { stagesAwaitingTriggers.insert(next) }
            queue += node.dependencies.compactMap(\.stage).reversed()
        }
    }

    private func makeNode(_ index: Int) throws -> StageNode {
        let stage = plan.stages[index]
        let file = request.dockerfileName
        let lexer = ShellLexer(escapeToken: plan.escapeToken)
        func expandGlobal(_ word: String) throws -> String {
            do { return try lexer.processWord(word, env: globalArgs) } catch {
                throw BuildError("cannot expand '\(word)': \(error)", file: file, line: stage.line)
            }
        }
        var stagePlatform = platform
        if let raw = stage.platform {
            do { stagePlatform = try Platform(parsing: try expandGlobal(raw)) } catch let error as OCIError {
                throw BuildError("FROM --platform: \(error)", file: file, line: stage.line)
            }
        }
        let baseName = try expandGlobal(stage.baseImage)
        // A stage on a replaced earlier stage takes that stage's platform, as on any stage.
        if let replaced = stageNames[baseName.lowercased()], replaced < index, let replacedPlatform = replacedStagePlatform(baseName) {
            stagePlatform = replacedPlatform
        }
        let base: StageInput
        // Only an earlier stage is a base (BuildKit); a later stage's name is an image name.
        if let parent = stageIndex(baseName), parent < index {
            base = .stage(parent)
        } else if baseName.lowercased() == "scratch" {
            base = .scratch
        } else if case .ociLayout(let path, let reference)? = request.namedContexts[baseName] {
            base = .image(ImageRequest(location: .layout(name: baseName, path: path, reference: reference), platform: stagePlatform))
        } else if case .dockerImage(let reference)? = request.namedContexts[baseName] {
            base = imageContext(baseName, reference: reference, platform: stagePlatform, line: stage.line)
        } else if case .directory? = request.namedContexts[baseName] {
            base = .unusable(BuildError("FROM \(baseName): the build context '\(baseName)' is a directory, not an image; use --build-context \(baseName)=oci-layout://PATH",
                                        file: file, line: stage.line))
        } else if request.baseResolver != nil {
            base = .image(ImageRequest(location: .registry(baseName), platform: stagePlatform))
        } else {
            base = .unusable(BuildError("FROM \(baseName): this build has no registry access; use FROM scratch, or pass the image as --build-context \(baseName)=oci-layout://PATH (e.g. made with `skopeo copy docker://\(baseName) oci:PATH`)",
                                        file: file, line: stage.line))
        }
        var node = StageNode(index: index, platform: stagePlatform, baseName: baseName, base: base)
        if case .stage(let parent) = base {
            setTriggers(try OnBuildTriggers.declared(by: plan.stages[parent], file: file, escapeToken: plan.escapeToken), of: &node)
        } else if base.image == nil {
            node.triggersLoaded = true
        }
        for (position, instruction) in stage.instructions.enumerated() {
            if case .run(let command) = instruction.kind {
                node.mounts[position] = RunFlags.mountSources(command.flags).filter { $0 != "scratch" }
                    .map { copySource($0, stage: index, line: instruction.line) }
            }
            guard case .copy(let command) = instruction.kind, let from = command.from else { continue }
            node.copies[position] = copySource(from, stage: index, line: instruction.line)
        }
        return node
    }

    /// Records the ONBUILD triggers a resolved base image brings to a stage of the graph.
    mutating func setTriggers(_ triggers: [Instruction], stage: Int) {
        guard var node = nodes[stage] else { return }
        setTriggers(triggers, of: &node)
        nodes[stage] = node
        stagesAwaitingTriggers.remove(stage)
    }

    /// Records a stage's ONBUILD triggers and what their `COPY --from` need.
    func setTriggers(_ triggers: [Instruction], of node: inout StageNode) {
        node.triggers = triggers
        node.triggersLoaded = true
        node.triggerCopies = OnBuildTriggers.copySources(triggers).map { copySource($0.from, stage: node.index, line: $0.line) }
    }
}
