import Dockerfile
import Layers
import OCI

/// Runs one stage's instructions on a `StageState`: BuildKit's semantics for every
/// instruction but RUN, with words expanded where BuildKit expands them.
struct Dispatcher {
    let file: String
    let buildArgs: [String: String]
    let globalArgs: [String: String]
    let epoch: String
    let jobs: LayerJobs
    /// Finds the source of a `COPY --from` (a stage, a named context, or the main context).
    let copySource: (_ from: String?, _ line: Int) throws -> CopySource
    let prepareAdd: (_ url: String, _ checksum: String?, _ line: Int) throws -> CopyRequest.GeneratedFile
    let extractArchive: (String) throws -> [LayerEntry]?
    /// Where RUN works and what it may do; the stage's name for its output lines.
    var runContext: RunContext?
    /// Finds what a `RUN --mount` reads (`from=` a stage, image or context; nil: the context).
    var mountSource: RunMounts.SourceFinder?
    var stageName = ""
    /// Whether anything reads the stage's file tree after the instruction being dispatched.
    var treeNeededAfter = true

    func dispatch(_ instruction: Instruction, state: inout StageState) throws {
        let line = instruction.line
        do {
            try run(instruction, state: &state)
        } catch var error as BuildError {
            if error.line == nil { error.line = line; error.file = file }
            throw error
        }
    }

    private func expand(_ word: String, _ state: StageState, _ line: Int) throws -> String {
        try state.variables.expand(word, line: line, file: file)
    }

    private func run(_ instruction: Instruction, state: inout StageState) throws {
        let line = instruction.line
        // Pending layers of another platform's plan are applied only when read (lazily below).
        if StageGraph.readsTree(instruction) { try state.loadBase() }
        var createdBy = instruction.original.trimmingCharacters(in: .whitespaces)
        var layer: Int?
        switch instruction.kind {
        case .from:
            throw BuildError("internal error: FROM dispatched inside a stage")
        case .arg(let definitions):
            try state.variables.declare(definitions, buildArgs: buildArgs, globalArgs: globalArgs, line: line, file: file)
            return
        case .env(let pairs):
            try state.variables.define(pairs, line: line, file: file)
            // The config's list is written once, when the stage ends (`finishEnv`).
            state.envDefined = true
            createdBy = "ENV " + pairs.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        case .label(let pairs):
            let expanded = try pairs.map { (try expand($0.key, state, line), try expand($0.value, state, line)) }
            state.editContainerConfig { config in
                var labels = config.labels.take() ?? [:]
                for (key, value) in expanded { labels[key] = value }
                config.labels = labels
            }
        case .workdir(let raw):
            let path = ContextPath.resolve(try expand(raw, state, line), workdir: state.workdir)
            state.containerConfig.workingDir = path
            layer = try makeDirectory(path, state: &state)
        case .user(let raw):
            state.containerConfig.user = try expand(raw, state, line)
        case .expose(let words):
            var ports: [String] = []
            for word in words {
                for expanded in try state.variables.expandWords(word, line: line, file: file) {
                    ports += try ConfigValues.ports(expanded)
                }
            }
            state.editContainerConfig { config in
                var all = config.exposedPorts.take() ?? [:]
                for port in ports { all[port] = EmptyObject() }
                config.exposedPorts = all
            }
        case .volume(let words):
            var paths: [String] = []
            for word in words {
                let path = try expand(word, state, line)
                guard !path.isEmpty else { throw BuildError("VOLUME specified can not be an empty string") }
                paths.append(path)
            }
            state.editContainerConfig { config in
                var volumes = config.volumes.take() ?? [:]
                for path in paths { volumes[path] = EmptyObject() }
                config.volumes = volumes
            }
        case .entrypoint(let command):
            state.containerConfig.entrypoint = command.prependShell ? state.shell + command.args : command.args
            if !state.cmdSet { state.containerConfig.cmd = nil }
        case .cmd(let command):
            state.containerConfig.cmd = command.prependShell ? state.shell + command.args : command.args
            state.cmdSet = true
        case .shell(let words):
            guard !words.isEmpty else { throw BuildError("SHELL requires the JSON (exec) form, e.g. SHELL [\"/bin/bash\", \"-c\"]") }
            state.containerConfig.shell = words
        case .stopSignal(let raw):
            let signal = try expand(raw, state, line)
            try ConfigValues.checkSignal(signal)
            state.containerConfig.stopSignal = signal
        case .healthcheck(let check):
            var health = HealthConfig(test: check.test)
            if let v = check.interval { health.interval = try ConfigValues.duration(v, flag: "interval") }
            if let v = check.timeout { health.timeout = try ConfigValues.duration(v, flag: "timeout") }
            if let v = check.startPeriod { health.startPeriod = try ConfigValues.duration(v, flag: "start-period") }
            if let v = check.startInterval { health.startInterval = try ConfigValues.duration(v, flag: "start-interval") }
            if let v = check.retries {
                guard let retries = Int(v), retries >= 0 else { throw BuildError("HEALTHCHECK --retries must be a non-negative integer, got '\(v)'") }
                health.retries = retries
            }
            state.containerConfig.healthcheck = health
        case .onbuild(let trigger):
            state.editContainerConfig { config in
                var triggers = config.onBuild.take() ?? []
                triggers.append(trigger)
                config.onBuild = triggers
            }
        case .maintainer(let name):
            state.config.author = name
        case .run(let command):
            guard let runContext else { throw BuildError("internal error: RUN without a run context") }
            layer = try RunStep.run(command, line: line, stage: stageName, context: runContext, jobs: jobs, state: &state,
                                    findSource: mountSource)
            createdBy = "RUN " + ((try? RunStep.commandLine(command, shell: state.shell)) ?? []).joined(separator: " ") + " # buildkit"
        case .copy(let command):
            layer = try copy(command, line: line, state: &state)
            createdBy += " # buildkit"
        }
        // Appended in place: rebuilding the list per instruction made a stage quadratic.
        var history = state.config.history.take() ?? []
        history.append(History(created: epoch, createdBy: createdBy, comment: "buildkit.dockerfile.v0",
                               emptyLayer: layer == nil ? true : nil))
        state.config.history = history
        if let layer { state.layers.append(.planned(job: layer)) }
    }

    /// WORKDIR creates its directory (and parents) when the stage does not have it yet, through
    /// the stage's symlinks and owned by the current USER, as BuildKit's mkdir does.
    private func makeDirectory(_ path: String, state: inout StageState) throws -> Int? {
        let written = FileTree.key(path)
        guard !written.isEmpty else { return nil }
        let user = state.containerConfig.user ?? ""
        // Looked up before the tree is read: a platform that planned this already knows. The
        // path as written stands for the one resolved through symlinks (equal trees resolve
        // it equally), the USER for its owner.
        let planKey = "workdir\u{0}\(state.tree.lineage)\u{0}\(written)\u{0}\(user)"
        if let hit = jobs.cachedPlan(planKey) {
            state.adopt(hit)
            return hit.job
        }
        try state.materializeTree()
        let key = state.tree.rootPath(written)
        guard !key.isEmpty, !state.tree.isRealDirectory(key) else {
            jobs.rememberNoChange(key: planKey, lineage: state.tree.lineage)
            return nil
        }
        let owner = user.isEmpty ? nil : try UserLookup.resolve(user, in: state.tree)
        var placement = CopyPlacement(tree: state.tree, owner: owner, chmod: nil, trackFiles: false)
        try placement.makeDirectories(key)
        let entries = CopyPlanner.layerOrder(placement.entries, tree: state.tree)
        return jobs.commit(entries, to: &state.tree, key: planKey)
    }

    private func copy(_ command: CopyCommand, line: Int, state: inout StageState) throws -> Int? {
        let name = command.isAdd ? "ADD" : "COPY"
        var sources: [String] = []
        var generated: [CopyRequest.GeneratedFile] = []
        for raw in command.sources {
            if let doc = command.heredoc(forSource: raw) {
                // The parser has already removed leading tabs for `<<-`.
                var content = doc.content
                if doc.expand {
                    // BuildKit: a lexer with `\` as escape whatever the directive says, and
                    // quotes as ordinary text (`'${name}'` still expands).
                    var lexer = ShellLexer(escapeToken: "\\")
                    lexer.skipProcessQuotes = true
                    do { content = try lexer.processWord(content, env: state.variables.merged) } catch {
                        throw BuildError("cannot expand heredoc '\(doc.name)': \(error)")
                    }
                }
                generated.append(.init(name: doc.name, source: .bytes(Array(content.utf8)), mode: 0o644))
                continue
            }
            let expanded = try expand(raw, state, line)
            if command.isAdd, isURL(expanded) {
                if isGitURL(expanded) {
                    throw BuildError("ADD of a git repository ('\(expanded)') is not supported; clone it before the build and COPY it")
                }
                generated.append(try prepareAdd(expanded, try command.checksum.map { try expand($0, state, line) }, line))
                continue
            }
            if !command.isAdd || command.checksum == nil {
                sources.append(expanded)
            } else {
                throw BuildError("ADD --checksum is only supported for http(s) sources")
            }
        }
        var from: String?
        if let raw = command.from { from = try expand(raw, state, line) }
        let source = try copySource(from, line)
        let chown = try command.chown.map { try expand($0, state, line) }
        let chmod = Result { try command.chmod.map { try ChmodSpec.parse(try expand($0, state, line)) } }
        let destination = Result { try expand(command.destination, state, line) }
        let excludes = Result { try command.excludes.map { try expand($0, state, line) } }
        // `--chown NAME` reads the stage's /etc/passwd, so it is resolved only when the plan is
        // not known already; a failure there is still reported before the words after it.
        func resolveOwner() throws -> (uid: Int, gid: Int)? {
            guard let chown else { return nil }
            try state.materializeTree()
            return try UserLookup.resolve(chown, in: state.tree)
        }
        if let failure = chmod.failure ?? destination.failure ?? excludes.failure {
            _ = try resolveOwner()
            throw failure
        }
        let unpack = command.isAdd && (command.unpack ?? true) && from == nil
        var request = CopyRequest(
            instruction: name, sources: sources, generated: generated,
            destination: try destination.get(), workdir: state.workdir,
            owner: nil, chmod: try chmod.get(), parents: command.parents,
            excludes: try excludes.get(),
            extractArchive: unpack ? extractArchive : nil)
        // The owner as written stands for the resolved one: equal trees resolve it equally.
        let planKey = ["copy", state.tree.lineage, source.identity, request.fingerprint, chown ?? "-",
                       command.link ? "link" : ""].joined(separator: "\u{0}")
        if let hit = jobs.cachedPlan(planKey) {
            state.adopt(hit)
            return hit.job
        }
        request.owner = try resolveOwner()
        try state.materializeTree()
        // BuildKit's --link (ignored with --chmod): the files are copied onto an empty tree and
        // that layer is linked on top, so nothing of the stage (its directories, its symlinks)
        // shapes the layer.
        let linked = command.link && command.chmod == nil
        let entries = try CopyPlanner.plan(request, from: source, onto: linked ? FileTree() : state.tree)
        // A copy that changes nothing (an empty directory onto an existing one) has no layer:
        // BuildKit's exporter drops empty layers and marks the history entry empty.
        guard !entries.isEmpty else {
            jobs.rememberNoChange(key: planKey, lineage: state.tree.lineage)
            return nil
        }
        return jobs.commit(entries, to: &state.tree, key: planKey, keepTree: treeNeededAfter)
    }

    private func isURL(_ s: String) -> Bool {
        s.hasPrefix("http://") || s.hasPrefix("https://") || isGitURL(s)
    }

    private func isGitURL(_ s: String) -> Bool {
        s.hasPrefix("git@") || s.hasPrefix("git://") || s.hasSuffix(".git") || s.contains(".git#")
    }
}

import Foundation

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
