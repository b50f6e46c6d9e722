#if canImport(Glibc)
import Glibc
#endif
import Dockerfile
import Foundation
import Layers
import OCI

/// Everything a stage's RUN needs from the build: where to work, what the command line
/// allowed, where output goes.
struct RunContext: Sendable {
    let scratch: String
    let settings: RunSettings
    let progress: (@Sendable (BuildEvent) -> Void)?
    /// Where and how a RUN layer is written when a later RUN of its stage is about to change
    /// the files it streams from (the build's own layer options and store).
    var layerOutput: (options: LayerOptions, storeDirectory: String)?
}

/// One RUN: the stage's tree in its scratch root, the command in the sandbox, the change set
/// as the instruction's layer.
enum RunStep {
    /// Returns the layer job (nil when the command changed no file: an empty layer is
    /// omitted, its history entry marked `empty_layer`, as BuildKit does).
    static func run(_ command: RunCommand, line: Int, stage: String, context: RunContext, jobs: LayerJobs,
                    state: inout StageState, findSource: RunMounts.SourceFinder? = nil) throws -> Int? {
        let flags = try RunFlags.parse(command.flags, settings: context.settings)
        var arguments = try commandLine(command, shell: state.shell)
        let mountRequests = try RunMounts.parse(flags.mounts, state: state)
        try state.materializeTree()
        var root = state.runRoot ?? RunRoot(directory: context.scratch + "/run-root-\(UUID().uuidString)")
        if state.runRoot == nil {
            guard mkdir(root.directory, 0o755) == 0 else { throw RunRoot.failure("mkdir", root.directory) }
        }
        try writeLayersReadingFrom(&root, context: context, jobs: jobs)
        try root.sync(to: state.tree)
        let user = try resolveUser(state.containerConfig.user, tree: state.tree)
        let workdir = state.workdir
        let stubs = try MountStubs.create(in: root.directory, network: flags.network)
        var before = try RunSnapshot.take(root.directory)
        for path in stubs.created { before.items.removeValue(forKey: String(path.dropFirst(root.directory.count + 1))) }
        // A missing WORKDIR is made (and is part of the layer), as BuildKit does.
        try FileManager.default.createDirectory(atPath: root.host(FileTree.key(workdir)), withIntermediateDirectories: true)
        let mounts: RunMounts
        do {
            mounts = try RunMounts.prepare(mountRequests, state: state, root: root, context: context,
                                           findSource: findSource ?? { _, _ in throw BuildError("internal error: RUN --mount without a source finder") })
        } catch {
            stubs.remove()
            throw error
        }
        var spec = Sandbox.Spec(root: root.directory, arguments: arguments, environment: RunMounts.environment(environment(state), adding: mounts.environment),
                                workdir: workdir, uid: user.uid, gid: user.gid, network: flags.network,
                                binds: stubs.binds)
        spec.mounts = mounts.sandbox
        if let script = RunMounts.shebangScript(command) {
            // BuildKit runs a `#!` heredoc as a file of its own, through SHELL.
            arguments = state.shell + ["/dev/pipes/" + script.name]
            spec.arguments = arguments
            spec.mounts.append(SandboxMount(kind: .file(Array(script.content.utf8)), target: "dev/pipes/" + script.name,
                                            readOnly: true, targetIsFile: true, owner: (0, 0, 0o755)))
        }
        let mask = SecretMask(mounts.secrets)
        let platform = state.platform
        let outcome: Sandbox.Outcome
        do {
            outcome = try Sandbox.run(spec) { text in
                context.progress?(.runOutput(platform: platform, stage: stage, line: line, text: mask.apply(text)))
            }
        } catch {
            mounts.finish()
            stubs.remove()
            throw error
        }
        mounts.finish()
        stubs.remove()
        let shown = arguments.map { $0.contains(" ") ? "\"\($0)\"" : $0 }.joined(separator: " ")
        if outcome.status != 0 {
            let tail = outcome.tail.isEmpty ? "" : "; its last output:\n" + outcome.tail.map { "  " + mask.apply($0) }.joined(separator: "\n")
            throw BuildError("RUN \(shown) exited with \(outcome.status)\(tail)\(RootlessNamespace.chownHint(outcome.tail))")
        }
        let after = try RunSnapshot.take(root.directory)
        let rootless = Sandbox.rootless
        let outerUID = geteuid()
        let outerGID = getegid()
        let diff = try RunDiff.compute(before: before, after: after, root: root.directory) { uid, gid in
            guard rootless else { return (Int(uid), Int(gid)) }
            // Inside a rootless sandbox only the caller is mapped (to root); the rest shows
            // as the overflow IDs.
            return (uid == outerUID ? 0 : 65534, gid == outerGID ? 0 : 65534)
        }
        defer { state.runRoot = root }
        guard !diff.entries.isEmpty else {
            root.mirrored = state.tree
            return nil
        }
        let job = jobs.registerUnique(diff.entries)
        root.unwrittenJobs.append(job)
        diff.apply(to: &state.tree)
        state.tree.advanceLineage(job: job)
        root.mirrored = state.tree
        return job
    }

    /// A RUN layer streams its files from the root when it is written, so before anything
    /// changes the root again (the next RUN's sync and command) the layers still reading from
    /// it are written; a stage's last RUN layer is written with the others at the end.
    private static func writeLayersReadingFrom(_ root: inout RunRoot, context: RunContext, jobs: LayerJobs) throws {
        guard !root.unwrittenJobs.isEmpty else { return }
        guard let output = context.layerOutput else { throw BuildError("internal error: RUN has no layer store") }
        let store = try ContentStore(root: URL(fileURLWithPath: output.storeDirectory))
        for job in root.unwrittenJobs { try jobs.writeNow(job, options: output.options, store: store) }
        root.unwrittenJobs = []
    }

    /// BuildKit's argv: exec form as written; shell form (and heredocs) through SHELL.
    static func commandLine(_ command: RunCommand, shell: [String]) throws -> [String] {
        guard command.command.prependShell else {
            guard !command.command.args.isEmpty else { throw BuildError("RUN needs a command") }
            return command.command.args
        }
        var script = command.command.args.joined(separator: " ")
        if !command.heredocs.isEmpty {
            let trimmed = script.trimmingCharacters(in: .whitespaces)
            if command.heredocs.count == 1, let only = command.heredocs.first,
               trimmed == "<<\(only.name)" || trimmed == "<<-\(only.name)" || trimmed == "<<\"\(only.name)\"" || trimmed == "<<'\(only.name)'" {
                // `RUN <<EOF` alone: the body is the script.
                script = only.chomp ? chompTabs(only.content) : only.content
            } else {
                // The shell reads the heredocs itself, as BuildKit hands them to it.
                for heredoc in command.heredocs {
                    script += "\n" + heredoc.content + heredoc.name
                }
            }
        }
        guard !script.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw BuildError("RUN needs a command") }
        return shell + [script]
    }

    private static func chompTabs(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0.drop { $0 == "\t" }) }.joined(separator: "\n")
    }

    /// The image's ENV, then the stage's ARGs that ENV does not set (BuildKit gives RUN both).
    static func environment(_ state: StageState) -> [String] {
        var list = state.variables.envList
        let defined = Set(state.variables.env.map(\.key))
        for (key, value) in state.variables.args.sorted(by: { $0.key < $1.key }) where !defined.contains(key) {
            list.append("\(key)=\(value)")
        }
        if !defined.contains("PATH") { list.insert(Variables.defaultEnv[0], at: 0) }
        return list
    }

    /// USER as BuildKit resolves it for a process: a name must exist in the stage's
    /// /etc/passwd (a number need not).
    static func resolveUser(_ spec: String?, tree: FileTree) throws -> (uid: Int, gid: Int) {
        guard let spec, !spec.isEmpty else { return (0, 0) }
        let name = String(spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        if !name.isEmpty, name != "root", Int(name) == nil {
            let known = (tree.readSmallFile("/etc/passwd") ?? "").split(separator: "\n").contains { $0.hasPrefix(name + ":") }
            guard known else { throw BuildError("unable to find user \(name): no matching entries in passwd file") }
        }
        return try UserLookup.resolve(spec, in: tree)
    }
}
