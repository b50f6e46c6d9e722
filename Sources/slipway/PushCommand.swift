import ArgumentParser
import Publish

/// `slipway push`: publish an OCI layout (directory or tar) to one or more references.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push an image from an OCI layout (directory or tar) to registries.",
        usage: "slipway push [<options>] <source> <references> ...",
        discussion: """
        Blobs go up in parallel, each checked first and skipped when the registry
        has it; then each platform manifest by digest, then the index, then the
        tags. A failed push can be run again and uploads only what is missing.
        Credentials come from $REGISTRY_AUTH_FILE, else the docker config
        ($DOCKER_CONFIG/config.json or ~/.docker/config.json; see `slipway login`).

        Examples:
          slipway build --platform linux/amd64,linux/arm64 \\
              --output type=oci,dest=image.tar .
          slipway push image.tar registry.example.com/team/app:1.0 \\
              registry.example.com/team/app:latest
          slipway push out/layout:1.0 localhost:5000/app:1.0 --progress plain
        """
    )

    @Argument(help: "An OCI layout directory or tar, optionally PATH:TAG or PATH@sha256:… to pick one image.")
    var source: String

    @Argument(help: "Target references, e.g. registry.example.com/team/app:1.0.")
    var references: [String]

    @OptionGroup var registry: RegistryOptions

    @OptionGroup var signing: SigningOptions
    @OptionGroup var signatureStorage: SignatureModeOptions

    @OptionGroup var scanGate: ScanGateOptions

    @Option(help: "Blobs uploaded at once.")
    var jobs: Int = 8

    @Option(help: "Progress output: auto, plain, tty or quiet.")
    var progress: String = "auto"

    @Option(name: .customLong("metadata-file"), help: "Write the pushed names and digest as JSON to this file.")
    var metadataFile: String?

    func validate() throws {
        guard !references.isEmpty else { throw ValidationError("name at least one target reference") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() async throws {
        try await Console.run(mode: progress) { console in
            var settings = try scanGate.apply(to: registry.settings(console: console))
            settings.signer = try await signing.signer(settings: settings)
            settings.signatureMode = try signatureStorage.mode()
            try await Publisher.pushLayout(source, to: references, settings: settings, jobs: jobs,
                                           metadataFile: metadataFile, onEvent: EventRenderer(console: console).handler)
        }
    }
}
