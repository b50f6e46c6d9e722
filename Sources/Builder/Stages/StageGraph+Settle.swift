import Dockerfile
import OCI

/// ONBUILD triggers of base images: known only once the images are resolved, and their
/// `COPY --from` may bring more stages and images into the graph.
extension StageGraph {
    /// Loads the triggers of every needed stage whose base image is resolved (`imageTriggers`
    /// gives its triggers, nil while unknown; a failed resolution gives none, and planning
    /// then stops at that FROM). Stages the triggers copy from join the graph. Returns
    /// whether anything was added; call again after resolving the images it added.
    mutating func settle(imageTriggers: (ImageRequest) -> [String]?) throws -> Bool {
        var progressed = false
        for index in stagesAwaitingTriggers.sorted() {
            guard let node = nodes[index], !node.triggersLoaded, let image = node.base.image,
                  let triggers = imageTriggers(image) else { continue }
            setTriggers(try OnBuildTriggers.parse(triggers, line: plan.stages[index].line, file: request.dockerfileName,
                                                  escapeToken: plan.escapeToken), stage: index)
            for stage in nodes[index]?.triggerCopies.compactMap(\.stage) ?? [] { try add(stage) }
            if !triggers.isEmpty { progressed = true }
        }
        return progressed
    }
}
