import ArgumentParser
import Foundation
import Publish
import Registry

/// `slipway imagetools`: buildx's `imagetools` for indexes made from images already in
/// registries (the merge step of a build fanned out across runners).
struct ImagetoolsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagetools",
        abstract: "Create and inspect multi-platform indexes, as buildx imagetools does.",
        subcommands: [ImagetoolsCreateCommand.self, InspectCommand.self]
    )
}

/// `slipway imagetools create -t REF SRC…`.
struct ImagetoolsCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Merge images already in registries into one index, pulling no layer.",
        discussion: """
        Every source (REPO:TAG, REPO@sha256:..., or a bare sha256:... in the first
        target's repository) is an image or an index. The new index lists every
        platform manifest of them by its digest, unchanged: an index's entries
        keep their platform and annotations, a single manifest's platform is read
        from its config. Manifests already in the target repository need nothing
        more; blobs in another repository of the target's registry are mounted;
        sources in another registry are streamed through the cache. The index is
        pushed by digest, then each tag. Prints REF@sha256:... for each tag.

        Examples:
          slipway imagetools create -t registry.example.com/app:1.0 \\
              registry.example.com/app@sha256:... \\
              registry.example.com/app@sha256:...
          slipway imagetools create --append -t registry.example.com/app:1.0 \\
              registry.example.com/app-s390x:1.0
          slipway imagetools create --dry-run -t registry.example.com/app:1.0 \\
              -f amd64.json -f arm64.json
        """
    )

    @Option(name: [.customShort("t"), .customLong("tag")], help: "A reference to write the index to (repeatable).")
    var tags: [String] = []

    @Option(name: [.customShort("f"), .customLong("file")], help: "Read source descriptors from a JSON file (a descriptor or an array; repeatable).")
    var files: [String] = []

    @Flag(help: "Add the manifests of what the first -t names now before the sources'.")
    var append = false

    @Option(help: "Add an annotation: [index:|manifest-descriptor[os/arch]:]KEY=VALUE (repeatable).")
    var annotation: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Print the index (its exact bytes) instead of pushing it.")
    var dryRun = false

    @Option(help: "Blobs copied at once when a source is in another registry.")
    var jobs: Int = PushOptions.defaultJobs

    @Option(help: "Progress output: auto, plain, tty or quiet.")
    var progress: String = "auto"

    @Argument(help: "Source images or indexes.")
    var sources: [String] = []

    @OptionGroup var cache: CacheOptions

    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        guard !tags.isEmpty else { throw ValidationError("name the index with at least one -t/--tag") }
        guard !sources.isEmpty || !files.isEmpty || append else { throw ValidationError("name at least one source image") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() async throws {
        try await Console.run(mode: dryRun ? "quiet" : progress) { console in
            var request = ImagetoolsWorkflow.Request(tags: tags, sources: sources)
            request.descriptorFiles = files
            request.append = append
            request.annotations = annotation
            request.dryRun = dryRun
            request.jobs = jobs
            let outcome = try await ImagetoolsWorkflow.create(request, registry: try registry.settings(console: console, cacheDir: cache.cacheDir),
                                                              onEvent: EventRenderer(console: console).handler)
            if dryRun { FileHandle.standardOutput.write(outcome.data + Data("\n".utf8)) }
        }
    }
}
