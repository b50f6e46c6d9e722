import Dockerfile

/// The epoch a build uses when the command line and environment give none: BuildKit's
/// dockerfile frontend reads `SOURCE_DATE_EPOCH` as a build arg or a global ARG's default, so
/// a Dockerfile can pin its own reproducible timestamps (`ARG SOURCE_DATE_EPOCH=1445412480`).
enum SourceDateEpoch {
    /// The epoch for `request`, with `globalArgs` the global ARGs already expanded with the
    /// build args. An explicit `request.sourceDateEpoch` wins; no value, an empty one, `context`
    /// or a directory context's name leave it unset (0, slipway's default): BuildKit takes no
    /// time from a local directory. A stage name must name a source-only stage (which slipway
    /// cannot take a time from); anything else is invalid, with BuildKit's messages.
    static func resolve(_ plan: DockerfilePlan, globalArgs: [String: String], request: BuildRequest) throws -> Int64 {
        if let given = request.sourceDateEpoch { return given }
        let file = request.dockerfileName
        guard let value = request.buildArgs["SOURCE_DATE_EPOCH"] ?? globalArgs["SOURCE_DATE_EPOCH"], !value.isEmpty else { return 0 }
        if let seconds = Int64(value) {
            guard seconds >= 0 else { throw BuildError("invalid SOURCE_DATE_EPOCH: \(value) (slipway needs a time at or after 1970)", file: file) }
            return seconds
        }
        if value == "context" { return 0 }
        switch request.namedContexts[value] {
        case .directory?: return 0
        case .ociLayout?, .dockerImage?:
            throw BuildError("SOURCE_DATE_EPOCH=\(value): slipway cannot take the epoch from an image build context", file: file)
        case nil: break
        }
        guard let stage = plan.stages.first(where: { $0.name == value.lowercased() }) else {
            throw BuildError("invalid SOURCE_DATE_EPOCH: \(value)", file: file)
        }
        try checkSourceOnly(stage, globalArgs: globalArgs, plan: plan, file: file)
        throw BuildError("SOURCE_DATE_EPOCH=\(value): slipway cannot take the epoch from a remote ADD stage", file: file, line: stage.line)
    }

    /// BuildKit's rules for a stage named as the epoch's source: FROM scratch, then only ARGs
    /// and exactly one ADD.
    private static func checkSourceOnly(_ stage: Stage, globalArgs: [String: String], plan: DockerfilePlan, file: String) throws {
        var args = globalArgs
        args["SOURCE_DATE_EPOCH"] = nil
        let base = (try? ShellLexer(escapeToken: plan.escapeToken).processWord(stage.baseImage, env: args)) ?? stage.baseImage
        guard base.lowercased() == "scratch" else {
            throw BuildError("SOURCE_DATE_EPOCH stage must use FROM scratch", file: file, line: stage.line)
        }
        var adds = 0
        for instruction in stage.instructions {
            switch instruction.kind {
            case .arg: continue
            case .copy(let command) where command.isAdd: adds += 1
            default:
                let name = instruction.original.split(separator: " ").first.map { $0.lowercased() } ?? "unknown"
                throw BuildError("SOURCE_DATE_EPOCH stage does not meet source-only requirements: unsupported \(name) instruction",
                                 file: file, line: stage.line)
            }
        }
        guard adds == 1 else { throw BuildError("SOURCE_DATE_EPOCH stage must contain exactly one remote ADD", file: file, line: stage.line) }
    }
}
