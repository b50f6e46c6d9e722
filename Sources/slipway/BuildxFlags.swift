import ArgumentParser
import Foundation

/// The `docker buildx build` flags that make no sense without a daemon or a RUN step, so that
/// a buildx command line works unchanged: each is accepted with a one-line note saying why it
/// has no effect, or refused with the reason when ignoring it would change the result.
struct BuildxFlags: ParsableArguments {
    @Flag(help: ArgumentHelp("Accepted for buildx compatibility: slipway has no daemon to load into.", visibility: .hidden))
    var load = false

    @Option(help: ArgumentHelp("Accepted for buildx compatibility: slipway is its own builder.", visibility: .hidden))
    var builder: String?

    @Option(help: ArgumentHelp("The network of RUN commands without their own --network: default (the host's), none, or host (needs --allow network.host)."))
    var network: String?

    @Option(name: .customLong("add-host"), help: ArgumentHelp("Accepted for buildx compatibility: only RUN resolves hosts.", visibility: .hidden))
    var addHosts: [String] = []

    @Option(help: ArgumentHelp("Grant an entitlement to RUN, as buildx: network.host (security.insecure is refused: the sandbox has no privileged mode)."))
    var allow: [String] = []

    @Option(help: ArgumentHelp("A secret for RUN --mount=type=secret, as buildx: id=ID,src=FILE or id=ID,env=VARIABLE (repeatable; never stored or printed)."))
    var secret: [String] = []

    @Option(help: ArgumentHelp("Accepted for buildx compatibility: only RUN --mount=type=ssh uses SSH agents.", visibility: .hidden))
    var ssh: [String] = []

    @Option(name: .customLong("no-cache-filter"), help: ArgumentHelp("Accepted for buildx compatibility: a reused layer is byte-identical to a written one.", visibility: .hidden))
    var noCacheFilter: [String] = []


    @Option(help: ArgumentHelp("Only 'build' (the default) is supported.", visibility: .hidden))
    var call: String?

    @Flag(help: ArgumentHelp("Refused: slipway has no Dockerfile lint checks.", visibility: .hidden))
    var check = false

    @Option(name: .customLong("cgroup-parent"), help: ArgumentHelp("Refused: only RUN runs in a cgroup.", visibility: .hidden))
    var cgroupParent: String?

    @Option(name: .customLong("shm-size"), help: ArgumentHelp("Refused: only RUN has /dev/shm.", visibility: .hidden))
    var shmSize: String?

    @Option(help: ArgumentHelp("Refused: only RUN has ulimits.", visibility: .hidden))
    var ulimit: [String] = []

    /// Flags that would change what buildx produces, and slipway cannot honour.
    func refusals() -> [String] {
        var refused: [String] = []
        if let call, call != "build" { refused.append("--call=\(call): slipway only builds (--call=build)") }
        if check { refused.append("--check: slipway has no Dockerfile lint checks") }
        if cgroupParent != nil || shmSize != nil || !ulimit.isEmpty {
            refused.append("--cgroup-parent/--shm-size/--ulimit: these configure RUN, which slipway cannot execute")
        }
        return refused
    }

    /// One line per accepted flag that has no effect.
    func notes() -> [String] {
        var notes: [String] = []
        if load {
            notes.append("--load: slipway has no daemon to load into; use --output type=docker,dest=image.tar then 'docker load -i image.tar' (ignored)")
        }
        if builder != nil { notes.append("--builder: slipway builds in-process without a builder instance (ignored)") }
        let runOnly = [("--add-host", !addHosts.isEmpty), ("--ssh", !ssh.isEmpty)].filter(\.1).map(\.0)
        if !runOnly.isEmpty {
            notes.append("\(runOnly.joined(separator: ", ")): slipway's RUN does not use \(runOnly.count == 1 ? "it" : "them") yet (ignored)")
        }
        if !noCacheFilter.isEmpty {
            notes.append("--no-cache-filter: slipway's layer cache has no per-stage switch; a reused layer is byte-identical to a written one, use --no-cache to write every layer (ignored)")
        }
        return notes
    }
}

extension Console {
    /// A flag that was accepted but has no effect: said once, on stderr, in every mode.
    func note(_ message: String) {
        FileHandle.standardError.write(Data("note: \(message)\n".utf8))
    }
}
