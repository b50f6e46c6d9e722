import Dockerfile

/// RUN's own flags, checked as BuildKit checks them.
struct RunFlags {
    var network: Sandbox.Network = .default
    var networkGiven = false
    /// The `--mount` values as written (`RunMount.parse` expands and reads them).
    var mounts: [String] = []

    static func parse(_ flags: [String], settings: RunSettings) throws -> RunFlags {
        var result = RunFlags()
        if let global = settings.network {
            result.network = try network(global, flag: "--network")
        }
        for flag in flags {
            let body = flag.hasPrefix("--") ? String(flag.dropFirst(2)) : flag
            let parts = body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let name = parts.first ?? body
            let value = parts.count > 1 ? parts[1] : ""
            switch name {
            case "network":
                result.network = try network(value, flag: "RUN --network")
                result.networkGiven = true
            case "security":
                switch value {
                case "sandbox": break
                case "insecure":
                    if !settings.allow.contains("security.insecure") {
                        throw BuildError("RUN --security=insecure needs the security.insecure entitlement, which slipway does not grant: the sandbox has no privileged mode")
                    }
                    throw BuildError("RUN --security=insecure: slipway's sandbox has no privileged mode")
                default:
                    throw BuildError("RUN --security: unknown value '\(value)' (sandbox or insecure)")
                }
            case "mount":
                result.mounts.append(value)
            default:
                throw BuildError("unknown flag: --\(name) (RUN takes --mount, --network and --security)")
            }
        }
        if result.network == .host && !settings.allow.contains("network.host") {
            throw BuildError("network mode \"host\" needs the network.host entitlement: pass --allow network.host")
        }
        return result
    }

    /// The `from=` words of a RUN's mounts, literal (BuildKit refuses variables there): the
    /// stages and images the stage graph must provide. A malformed mount is left for RUN to
    /// report at its line.
    static func mountSources(_ flags: [String]) -> [String] {
        flags.compactMap { flag -> String? in
            guard flag.hasPrefix("--mount=") else { return nil }
            guard let from = try? RunMount.literalFrom(String(flag.dropFirst(8))), !from.isEmpty else { return nil }
            return from
        }
    }

    private static func network(_ value: String, flag: String) throws -> Sandbox.Network {
        guard let mode = Sandbox.Network(rawValue: value) else {
            throw BuildError("\(flag): unknown network mode '\(value)' (default, none or host)")
        }
        return mode
    }
}
