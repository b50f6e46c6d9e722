import ArgumentParser

/// buildx build flags beyond `BuildxFlags`: the newer `--policy` (buildx 0.31) and
/// `--resource` (0.36, with its hidden `docker build` spellings `-m`, `--cpu-*`), and the
/// hidden flags buildx itself keeps only so that `docker build` command lines still parse
/// (`--compress`, `--isolation`, `--security-opt`, `--squash`, `--rm`, `--force-rm`).
/// As in `BuildxFlags`: accepted with a note where buildx ignores them too, refused with the
/// reason where ignoring them would skip what was asked for.
struct BuildxLaterFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Refused: slipway has no source policy engine.", visibility: .hidden))
    var policy: [String] = []

    @Option(help: ArgumentHelp("Refused: resource limits configure RUN.", visibility: .hidden))
    var resource: [String] = []

    @Option(name: [.short, .customLong("memory")], help: ArgumentHelp("Refused: configures RUN.", visibility: .hidden))
    var memory: String?

    @Option(name: .customLong("memory-swap"), help: ArgumentHelp("Refused: configures RUN.", visibility: .hidden))
    var memorySwap: String?

    @Option(name: [.customShort("c"), .customLong("cpu-shares")], help: ArgumentHelp("Refused: configures RUN.", visibility: .hidden))
    var cpuShares: String?

    @Option(name: .customLong("cpu-period"), help: ArgumentHelp("Refused: configures RUN.", visibility: .hidden))
    var cpuPeriod: String?

    @Option(name: .customLong("cpu-quota"), help: ArgumentHelp("Refused: configures RUN.", visibility: .hidden))
    var cpuQuota: String?

    @Option(name: .customLong("cpuset-cpus"), help: ArgumentHelp("Refused: configures RUN.", visibility: .hidden))
    var cpusetCPUs: String?

    @Option(name: .customLong("cpuset-mems"), help: ArgumentHelp("Refused: configures RUN.", visibility: .hidden))
    var cpusetMems: String?

    @Flag(help: ArgumentHelp("Accepted for docker build compatibility; buildx ignores it too.", visibility: .hidden))
    var compress = false

    @Option(help: ArgumentHelp("Accepted for docker build compatibility; buildx ignores it too.", visibility: .hidden))
    var isolation: String?

    @Option(name: .customLong("security-opt"), help: ArgumentHelp("Accepted for docker build compatibility; buildx ignores it too.", visibility: .hidden))
    var securityOpt: [String] = []

    @Flag(help: ArgumentHelp("Accepted for docker build compatibility; buildx ignores it too.", visibility: .hidden))
    var squash = false

    @Flag(help: ArgumentHelp("Accepted for docker build compatibility; buildx ignores it too.", visibility: .hidden))
    var rm = false

    @Flag(name: .customLong("force-rm"), help: ArgumentHelp("Accepted for docker build compatibility; buildx ignores it too.", visibility: .hidden))
    var forceRm = false

    /// Flags slipway cannot honour, with the reason.
    func refusals() -> [String] {
        var refused: [String] = []
        if !policy.isEmpty {
            refused.append("--policy: slipway has no source policy engine, so the checks the policy asks for would not run; leave --policy out")
        }
        let limits = [("--resource", !resource.isEmpty), ("--memory", memory != nil), ("--memory-swap", memorySwap != nil),
                      ("--cpu-shares", cpuShares != nil), ("--cpu-period", cpuPeriod != nil), ("--cpu-quota", cpuQuota != nil),
                      ("--cpuset-cpus", cpusetCPUs != nil), ("--cpuset-mems", cpusetMems != nil)].filter(\.1).map(\.0)
        if !limits.isEmpty {
            refused.append("\(limits.joined(separator: "/")): resource limits configure RUN, which slipway cannot execute")
        }
        return refused
    }

    /// One line for the hidden flags buildx ignores as well.
    func notes() -> [String] {
        let ignored = [("--compress", compress), ("--isolation", isolation != nil), ("--security-opt", !securityOpt.isEmpty),
                       ("--squash", squash), ("--rm", rm), ("--force-rm", forceRm)].filter(\.1).map(\.0)
        guard !ignored.isEmpty else { return [] }
        return ["\(ignored.joined(separator: ", ")): \(ignored.count == 1 ? "a docker build flag" : "docker build flags") that buildx ignores too (ignored)"]
    }
}
