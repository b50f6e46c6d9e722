import ArgumentParser
import Bake
import Foundation
import Publish

/// `slipway bake`: buildx's bake — several images from one definition file (HCL, JSON or
/// compose), built in one process that shares base resolution and the layer cache.
struct BakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bake",
        abstract: "Build several targets from a bake file (HCL, JSON or compose).",
        discussion: """
        Reads docker-bake.hcl / docker-bake.json / compose.yaml as docker buildx bake
        does (without -f: compose.yaml, compose.yml, docker-compose.yml,
        docker-compose.yaml, docker-bake.json, docker-bake.hcl and the
        docker-bake.override.json/.hcl files that exist, merged in that order).
        Targets: context, dockerfile, dockerfile-inline, target, tags, platforms,
        args, labels, annotations, contexts (target:NAME uses another target),
        cache-from, cache-to, output, pull, no-cache, attest; inherits, groups,
        variables (set from the environment), functions.

        Examples:
          slipway bake --print
          slipway bake -f docker-bake.hcl --set '*.platform=linux/arm64' app
          TAG=1.2 slipway bake --push release
        """
    )

    @Argument(help: "Targets or groups to build (default: the group 'default').")
    var targets: [String] = []

    @Option(name: [.short, .customLong("file")], help: "A bake file: HCL, JSON or compose YAML; '-' reads standard input (repeatable).")
    var files: [String] = []

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a target's key: TARGET.KEY=VALUE, '*' for every target, KEY+=VALUE appends (repeatable).", valueName: "target.key=value"))
    var overrides: [String] = []

    @Flag(help: "Print the resolved definition as JSON (as buildx prints it) and build nothing.")
    var print = false

    @Flag(help: "Push every target (shorthand for --set=*.push=true).")
    var push = false

    @Flag(help: "Accepted for buildx compatibility (--set=*.load=true): slipway has no daemon to load into.")
    var load = false

    @Flag(name: .customLong("no-cache"), help: "Reuse no layer from any cache (--set=*.no-cache=true).")
    var noCache = false

    // `--pull=true|false` is rewritten to these two spellings before parsing (`Slipway.main`).
    @Flag(inversion: .prefixedNo, help: "Re-resolve base image tags (--set=*.pull=true); --no-pull uses the cached resolution (default: each target's pull, else on).")
    var pull: Bool?

    @Option(help: ArgumentHelp("SLSA provenance for every target, as build's --provenance (--set=*.attest=type=provenance,…).", valueName: "value"))
    var provenance: String?

    @Option(help: ArgumentHelp("An SBOM for every target: true or false, as build's --sbom.", valueName: "bool"))
    var sbom: String?

    @Option(name: .customLong("metadata-file"), help: "Write each target's build results as JSON to this file (buildx's map of target name to results).")
    var metadataFile: String?

    @Option(help: "Targets built at once, and each build's parallel jobs (default: the number of cores).")
    var jobs: Int?

    @Option(help: "Progress output: auto, plain, tty, quiet or none (buildx's name for quiet).")
    var progress: String = "auto"

    @Option(name: .customLong("cache-dir"), help: "Where blobs are kept between builds (default: $XDG_CACHE_HOME/slipway or ~/.cache/slipway).")
    var cacheDir: String?

    @OptionGroup var cacheBound: CacheBoundOptions

    @OptionGroup var registry: RegistryOptions

    @OptionGroup var mirrors: MirrorOptions

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if !["auto", "plain", "tty", "quiet", "none"].contains(progress) {
            throw ValidationError("--progress must be auto, plain, tty, quiet or none")
        }
    }

    var job: BakeJob {
        var job = BakeJob()
        job.files = files
        job.targets = targets
        job.overrides = overrides
        job.push = push
        job.load = load
        job.noCache = noCache ? true : nil
        job.pull = pull
        job.sbom = sbom
        job.provenance = provenance
        job.metadataFile = metadataFile
        job.jobs = jobs
        return job
    }

    func run() async throws {
        try await Console.run(mode: progress == "none" ? "quiet" : progress) { console in
            let job = self.job
            let plan = try job.plan()
            if print {
                console.result(BakePrinter.print(plan))
                return
            }
            var settings = try registry.settings(console: console, cacheDir: cacheDir)
            settings.cacheBound = try cacheBound.bound()
            try mirrors.apply(to: &settings)
            let renderer = EventRenderer(console: console)
            let built = plan.targets.keys.filter { !plan.linked.contains($0) }.sorted()
            console.step("bake: \(built.joined(separator: ", "))\(plan.linked.isEmpty ? "" : " (and \(plan.linked.sorted().joined(separator: ", ")) as contexts)")")
            try await BakeWorkflow.run(plan, job: job, registry: settings) { target, event in
                switch event {
                case .building(let platforms, let dockerfile):
                    console.step("[\(target)] building \(platforms.map(\.description).joined(separator: ", ")) from \(dockerfile)")
                case .built(let result) where plan.linked.contains(target):
                    // Built only as another target's context: progress, not a result.
                    console.step("[\(target)] built \(result.root.digest) (a context of another target)")
                case .built(let result):
                    // Scripts read these: each line names its target.
                    for image in result.images { console.result("\(target) \(image.platform) \(image.manifest.digest)") }
                    console.result("\(target) \(result.images.count > 1 ? "index" : "digest") \(result.root.digest)")
                case .warning(let message):
                    console.warn(message.hasPrefix("target \(target):") ? message : "[\(target)] \(message)")
                case .published(let pushed):
                    if pushed.alreadyPublished { renderer.handle(event) } else { console.result("\(target) \(pushed)") }
                default:
                    renderer.handle(event)
                }
            }
        }
    }
}
