import Dockerfile
import OCI

/// `COPY --from=$NAME`: the word expands with the stage's variables at that instruction — its
/// ARGs, and its ENV, which starts from the base image's config. So such a source is known
/// only once the bases are resolved; settling replays the stage's ARG and ENV instructions
/// (with the planner's own rules, `Variables.declare`/`define`) to expand it exactly as
/// planning will.
extension StageGraph {
    /// Settles every pending `COPY --from` whose stage's environment is known. `imageEnv`
    /// gives a resolved image's environment (nil while unknown, or when it failed: planning
    /// then stops at that FROM before any COPY). Stages found this way join the graph.
    /// Returns whether anything was settled; call again after resolving the images it added.
    mutating func settle(imageEnv: (ImageRequest) -> [String]?, imageTriggers: ((ImageRequest) -> [String]?)? = nil) throws -> Bool {
        var progressed = false
        // Each stage's variables after its last instruction, computed once per call.
        var finished: [Int: Variables] = [:]
        while true {
            var settledOne = false
            // ONBUILD triggers of resolved base images, and the stages and images they need.
            for index in stagesAwaitingTriggers.sorted() {
                guard let node = nodes[index], !node.triggersLoaded, let image = node.base.image,
                      let triggers = imageTriggers.map({ $0(image) }) ?? imageEnv(image).map({ _ in [] }) else { continue }
                setTriggers(try OnBuildTriggers.parse(triggers, line: plan.stages[index].line, file: request.dockerfileName), stage: index)
                for stage in nodes[index]?.triggerCopies.compactMap(\.stage) ?? [] { try add(stage) }
                if !triggers.isEmpty { settledOne = true }
            }
            for index in stagesWithPendingCopies.sorted() {
                guard let node = nodes[index], !node.pendingCopies.isEmpty else { continue }
                for position in node.pendingCopies.keys.sorted() {
                    guard let raw = node.pendingCopies[position],
                          let variables = try variables(of: index, before: position, imageEnv: imageEnv, finished: &finished) else { break }
                    let line = plan.stages[index].instructions[position].line
                    let from = try variables.expand(raw, line: line, file: request.dockerfileName)
                    let input = copySource(from, stage: index, line: line)
                    setCopy(input, stage: index, position: position)
                    if let stage = input.stage { try add(stage) }
                    settledOne = true
                }
            }
            guard settledOne else { return progressed }
            progressed = true
        }
    }

    /// The variables of a stage before the instruction at `end` (nil: after all of them), or
    /// nil when they depend on something not known yet. Walks the FROM chain up to a stage
    /// whose variables are known, then replays down: no recursion, however long the chain.
    private func variables(of index: Int, before end: Int?, imageEnv: (ImageRequest) -> [String]?,
                           finished: inout [Int: Variables]) throws -> Variables? {
        var chain = [index]
        var inChain: Set<Int> = [index]
        var inherited: Variables?
        while let last = chain.last, let node = nodes[last], case .stage(let parent) = node.base {
            if let known = finished[parent] {
                inherited = known
                break
            }
            // A cycle is reported by planning ("depends on itself").
            guard inChain.insert(parent).inserted else { return nil }
            chain.append(parent)
        }
        for (offset, stage) in chain.reversed().enumerated() {
            guard let node = nodes[stage] else { return nil }
            var variables = Variables(escapeToken: plan.escapeToken)
            switch node.base {
            case .stage:
                guard let parent = inherited else { return nil }
                variables.loadEnv(parent.envList)
            case .scratch:
                variables.loadEnv(Variables.defaultEnv)
            case .image(let request):
                guard let env = imageEnv(request) else { return nil }
                variables.loadEnv(env)
            case .context, .unusable:
                return nil
            }
            let isQueried = offset == chain.count - 1
            try replay(stage, into: &variables, before: isQueried ? end : nil)
            if !isQueried || end == nil { finished[stage] = variables }
            inherited = variables
        }
        return inherited
    }

    /// A stage's ARG and ENV instructions (before `end`), with the planner's own rules.
    private func replay(_ index: Int, into variables: inout Variables, before end: Int?) throws {
        let file = request.dockerfileName
        for (position, instruction) in plan.stages[index].instructions.enumerated() {
            if let end, position >= end { break }
            switch instruction.kind {
            case .arg(let definitions):
                try variables.declare(definitions, buildArgs: request.buildArgs, globalArgs: globalArgs, line: instruction.line, file: file)
            case .env(let pairs):
                try variables.define(pairs, line: instruction.line, file: file)
            default:
                break
            }
        }
    }
}
