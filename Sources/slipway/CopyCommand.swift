import ArgumentParser
import OCI
import Publish

/// `slipway copy`: promote an image (or a whole index) between repositories, registries and
/// accounts by digest.
struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy an image or index between registries, keeping every digest.",
        usage: "slipway copy [<options>] <source> <destinations> ...",
        discussion: """
        Manifests are copied byte for byte, so every digest stays the same. Blobs
        the target has are skipped; blobs in another repository of the same
        registry are mounted; the rest are streamed from the source through the
        local cache, never recompressed. Prints DST@sha256:… for each destination.

        A destination without a tag takes the source's tag; a source named only by
        digest is copied by digest (no tag). SRC may also be an OCI layout:
        oci:PATH[:TAG].

        Examples:
          slipway copy registry.example.com/dev/app:1.2 \\
              registry.example.com/prod/app:1.2
          slipway copy dev.example.com/app@sha256:… \\
              prod.example.com/app:1.2 prod.example.com/app:latest
          slipway copy --platform linux/arm64 docker.io/library/alpine:3.20 \\
              registry.example.com/alpine:3.20-arm64
          slipway copy $DEV_REGISTRY/app@sha256:… $PROD_REGISTRY/app:1.4.0 \\
              --src-profile dev \\
              --dest-profile arn:aws:iam::444455556666:role/promote
        """
    )

    @Argument(help: "The source: a reference (tag or digest), or oci:PATH[:TAG] for an OCI layout.")
    var source: String

    @Argument(help: "One or more destination references.")
    var destinations: [String]

    @Option(help: "Copy only this platform's manifest out of an index, e.g. linux/arm64.")
    var platform: String?

    @Option(help: "Blobs copied at once.")
    var jobs: Int = 8

    @Option(help: "Progress output: auto, plain, tty or quiet.")
    var progress: String = "auto"

    @OptionGroup var cache: CacheOptions

    @OptionGroup var cacheBound: CacheBoundOptions

    @OptionGroup var registry: RegistryOptions

    @OptionGroup var identities: CopyIdentityOptions
    @OptionGroup var signing: SigningOptions
    @OptionGroup var signatureStorage: SignatureModeOptions

    func validate() throws {
        guard !destinations.isEmpty else { throw ValidationError("name at least one destination reference") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if let platform { _ = try Platform(parsing: platform) }
    }

    func run() async throws {
        try await Console.run(mode: progress) { console in
            var settings = try registry.settings(console: console, cacheDir: cache.cacheDir)
            settings.cacheBound = try cacheBound.bound()
            try identities.apply(to: &settings, source: source, destinations: destinations)
            settings.signer = try await signing.signer(settings: settings)
            settings.signatureMode = try signatureStorage.mode()
            try await CopyWorkflow.run(source: source, to: destinations, platform: try platform.map { try Platform(parsing: $0) }, jobs: jobs,
                                       registry: settings, onEvent: EventRenderer(console: console).handler)
        }
    }
}
