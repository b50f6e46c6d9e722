import Bake
import Foundation

/// `bake`: every target of the plan built in this one process — one registry session, one
/// resolution per base image, the one layer cache — up to `--jobs` targets at once, a target
/// used as another's `target:` context first. A failed target stops the others; the
/// metadata file is buildx's map of target name to that target's build results.
public enum BakeWorkflow {
    public typealias TargetEventHandler = @Sendable (_ target: String, _ event: PublishEvent) -> Void

    public static func run(_ plan: BakePlan, job: BakeJob, registry: RegistrySettings, onEvent: @escaping TargetEventHandler) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-bake-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let cleanup = Interruption.register { try? FileManager.default.removeItem(atPath: scratch) }
        defer {
            try? FileManager.default.removeItem(atPath: scratch)
            Interruption.unregister(cleanup)
        }
        // Every target another one reads as a context writes an OCI layout for it.
        var links: [String: String] = [:]
        for target in plan.targets.values {
            for (_, other) in target.linkedTargets { links[other] = scratch + "/link-\(other)" }
        }
        var builds: [String: BakeTargetBuild] = [:]
        for name in plan.targets.keys.sorted() {
            guard let target = plan.targets[name] else { continue }
            var build = try BakeTargetBuild.make(target, bake: job, links: links, scratch: scratch)
            if job.metadataFile != nil { build.job.metadataFile = scratch + "/metadata-\(name).json" }
            builds[name] = build
        }
        let shared = try SharedBuildResources(registry)
        let gate = BuildGate(limit: max(1, job.jobs ?? ProcessInfo.processInfo.activeProcessorCount))
        var tasks: [String: Task<Void, any Error>] = [:]
        for name in order(builds) {
            guard let build = builds[name] else { continue }
            let dependencies = build.dependencies.compactMap { tasks[$0] }
            build.notes.forEach { onEvent(name, .warning("target \(name): \($0)")) }
            tasks[name] = Task {
                for dependency in dependencies { try await dependency.value }
                try Task.checkCancellation()
                await gate.acquire()
                do {
                    try Task.checkCancellation()
                    try await BuildWorkflow.run(try build.resolvedJob(), registry: registry, shared: shared, onEvent: { onEvent(name, $0) })
                } catch {
                    await gate.release()
                    throw error
                }
                await gate.release()
            }
        }
        var failure: (any Error)?
        for name in order(builds) {
            do { try await tasks[name]?.value } catch {
                if failure == nil {
                    failure = error
                    tasks.values.forEach { $0.cancel() }
                }
            }
        }
        if let failure {
            throw failure
        }
        if let metadataFile = job.metadataFile {
            var document: [String: Any] = [:]
            for name in builds.keys.sorted() where !plan.linked.contains(name) {
                guard let path = builds[name]?.job.metadataFile, let data = FileManager.default.contents(atPath: path),
                      let entry = try? JSONSerialization.jsonObject(with: data) else { continue }
                document[name] = entry
            }
            let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            try writeAtomically(metadataFile, data)
        }
    }

    /// Dependencies before their users, otherwise by name (the resolver refused cycles).
    static func order(_ builds: [String: BakeTargetBuild]) -> [String] {
        var ordered: [String] = []
        var placed = Set<String>()
        func visit(_ name: String, depth: Int) {
            guard !placed.contains(name), depth < 1000, let build = builds[name] else { return }
            for dependency in build.dependencies { visit(dependency, depth: depth + 1) }
            if placed.insert(name).inserted { ordered.append(name) }
        }
        for name in builds.keys.sorted() { visit(name, depth: 0) }
        return ordered
    }
}

/// At most `limit` builds at once.
actor BuildGate {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { available = limit }

    func acquire() async {
        if available > 0 { available -= 1; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { available += 1 } else { waiters.removeFirst().resume() }
    }
}
