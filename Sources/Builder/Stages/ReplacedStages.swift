import Dockerfile

/// BuildKit: a `--build-context` named like a stage replaces that stage: the stage's own FROM
/// and instructions are never run, and whatever refers to it — a later FROM, `COPY --from`
/// by name or by number, `--target`, the last stage as the result — gets the context
/// (moby/buildkit#5578). Name lookups already skip replaced stages (`StageGraph.stageIndex`);
/// here each replaced stage becomes `FROM <its name>` with no instructions, so a reference
/// by position or as the target resolves to the context too.
enum ReplacedStages {
    static func apply(_ plan: DockerfilePlan, contexts: [String: BuildRequest.NamedContext]) -> DockerfilePlan {
        var plan = plan
        for (position, stage) in plan.stages.enumerated() {
            guard let name = stage.name, contexts[name] != nil else { continue }
            plan.stages[position] = Stage(name: name, baseImage: name, platform: stage.platform, line: stage.line,
                                          instructions: [], index: stage.index)
        }
        return plan
    }
}
