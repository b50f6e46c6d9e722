import ArgumentParser
import Builder
import Publish

/// `slipway build`: buildx-compatible flags, a daemonless build.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an image from a Dockerfile for one or more platforms.",
        discussion: """
        RUN runs in a sandbox of slipway's own (Linux namespaces, no daemon, rootless
        when not run as root) for the host's platform; for another platform it needs
        a binfmt_misc emulator (qemu-user-static), else the build fails before any
        work, listing every RUN line. docs/building-without-run.md shows how to
        produce such files beforehand and COPY them.

        Examples:
          slipway build --platform linux/amd64,linux/arm64 \\
              --output type=oci,dest=image.tar .
          slipway build -f deploy/Dockerfile --build-arg VERSION=1.2 \\
              -t example.com/app:1.2 --output type=oci,dest=out/layout,tar=false .
          slipway build --output type=docker,dest=app.tar -t app:dev .
          slipway build --target assets --output type=local,dest=dist .
          slipway build --build-context base=oci-layout://./base-layout:1.0 .
          slipway build -o - . > image.tar   # OCI tar on stdout, digests on stderr

        Unchanged layers are reused from the layer cache (local, --cache-from);
        --cache-to exports it.

        buildx flags that need a daemon are accepted with a note (--load,
        --builder, --add-host, --secret, --ssh, --no-cache-filter) or refused
        with the reason (--call, --check, --cgroup-parent, --shm-size, --ulimit,
        --resource, --policy); docker build's hidden flags that buildx ignores
        are ignored with a note. --provenance, --sbom and --attest work as in
        buildx (see the README's "Attestations"); see its "buildx
        compatibility" table for every flag.
        """
    )

    @Argument(help: "The build context directory.")
    var context: String = "."

    @Option(name: [.short, .customLong("file")], help: "The Dockerfile (default: CONTEXT/Dockerfile; '-' reads standard input).")
    var file: String?

    @Option(name: .customLong("platform"), help: "Target platforms, os/arch[/variant] or 'local' (the host's), comma-separated or repeated (default: the host's).")
    var platforms: [String] = []

    @Option(name: .customLong("build-arg"), help: "A build argument KEY=VALUE; KEY alone takes the value from the environment.")
    var buildArgs: [String] = []

    @Option(name: .customLong("label"), help: "Set a label on the image, KEY=VALUE.")
    var labels: [String] = []

    @Option(name: .customLong("annotation"), help: "Add an annotation, [index:|manifest:|manifest[os/arch]:]KEY=VALUE (default: manifest).")
    var annotations: [String] = []

    @Option(help: "The stage to build (default: the last).")
    var target: String?

    @Option(name: [.short, .customLong("tag")], help: "Name and tag the image, e.g. registry.example.com/app:1.0 (repeatable).")
    var tags: [String] = []

    @Option(name: [.short, .customLong("output")], help: "type=oci,dest=PATH[,tar=false] | type=docker,dest=FILE.tar | type=local,dest=DIR | type=registry | -, with buildx's keys (name=, compression=, compression-level=, force-compression=, oci-mediatypes=, push=, annotation.KEY=).")
    var outputs: [String] = []

    @Option(help: "Write the image digest (the index for several platforms) to this file.")
    var iidfile: String?

    @Option(name: .customLong("metadata-file"), help: "Write build results (digests, descriptor, per-platform manifests) as JSON to this file.")
    var metadataFile: String?

    @Option(name: .customLong("build-context"), help: "An extra named context: NAME=DIR or NAME=oci-layout://PATH[:TAG|@sha256:…] (repeatable).")
    var buildContexts: [String] = []

    @Option(name: .customLong("source-date-epoch"), help: "Timestamp (seconds since 1970) for every file and the image's created time (default: $SOURCE_DATE_EPOCH, else a SOURCE_DATE_EPOCH build arg or the Dockerfile's ARG SOURCE_DATE_EPOCH=, else 0).")
    var sourceDateEpoch: Int64?

    @Option(help: "Layer compression: gzip, zstd or uncompressed.")
    var compression: String = "gzip"

    @Option(name: .customLong("compression-level"), help: "Compression level: gzip 0-9, zstd 1-19 (default: 6 for gzip, 3 for zstd).")
    var compressionLevel: Int?

    @Option(help: "Parallel jobs (default: the number of cores).")
    var jobs: Int?

    @Option(help: "Progress output: auto, plain, tty, quiet or none (buildx's name for quiet).")
    var progress: String = "auto"

    @Option(name: .customLong("cache-dir"), help: "Where blobs are kept between builds (default: $XDG_CACHE_HOME/slipway or ~/.cache/slipway).")
    var cacheDir: String?

    @OptionGroup var cacheBound: CacheBoundOptions

    // `--pull=true|false` is rewritten to these two spellings before parsing (`Slipway.main`).
    @Flag(inversion: .prefixedNo, help: "Re-resolve base image tags from their registries, as if buildx's --pull were always given; --no-pull (or --pull=false) uses the cached resolution.")
    var pull = true

    @Flag(name: [.short, .customLong("quiet")], help: "Print only the image digest (the index for several platforms), as buildx prints the image ID.")
    var quiet = false

    @Flag(help: "Push the image to the registry named by each --tag (same as --output type=registry).")
    var push = false

    @OptionGroup var registry: RegistryOptions

    @OptionGroup var scanGate: ScanGateOptions

    @OptionGroup var mirrors: MirrorOptions

    @OptionGroup var buildx: BuildxFlags
    @OptionGroup var buildxLater: BuildxLaterFlags

    @OptionGroup var signing: SigningOptions

    @OptionGroup var layerCache: LayerCacheOptions
    @OptionGroup var attestation: AttestationOptions

    @OptionGroup var pushByDigest: PushByDigestOptions

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if !["auto", "plain", "tty", "quiet", "none"].contains(progress) {
            throw ValidationError("--progress must be auto, plain, tty, quiet or none")
        }
        if let refused = (buildx.refusals() + buildxLater.refusals()).first { throw ValidationError(refused) }
        if signing.keyPasswordStdin && file == "-" { throw ValidationError("-f - and --key-password-stdin both read standard input: give the password in COSIGN_PASSWORD") }
    }

    func run() async throws {
        // Rootless with /etc/subuid ranges: the build continues as root of a user namespace
        // mapping them (so chown inside RUN works); this returns only when it cannot.
        if RootlessNamespace.mayRun(dockerfile: file, context: context) { RootlessNamespace.reexecuteIfUseful() }
        // buildx's `none`: no progress display, which is slipway's `quiet`.
        try await Console.run(mode: quiet || progress == "none" ? "quiet" : progress) { console in
            (buildx.notes() + buildxLater.notes()).forEach { console.note($0) }
            var job = BuildJob(contextDirectory: context, dockerfile: file, platforms: platforms, buildArgs: buildArgs, labels: labels,
                               annotations: annotations, target: target, tags: tags, outputs: outputs, iidfile: iidfile,
                               metadataFile: metadataFile, buildContexts: buildContexts, sourceDateEpoch: sourceDateEpoch,
                               compression: compression, compressionLevel: compressionLevel, jobs: jobs, pull: pull, push: push)
            job.runSettings = try buildx.runSettings()
            layerCache.apply(to: &job)
            job.attestations = attestation.flags
            var settings = try scanGate.apply(to: registry.settings(console: console, cacheDir: cacheDir))
            settings.cacheBound = try cacheBound.bound()
            try mirrors.apply(to: &settings)
            settings.signer = try await signing.signer(settings: settings)
            settings.signatureMode = try validating { try SignatureMode(attestMode: attestation.attestMode) }
            try await BuildWorkflow.run(pushByDigest.applied(to: job), registry: settings,
                                        onEvent: EventRenderer(console: console, digestOnly: quiet,
                                                               resultsToStandardError: job.writesToStandardOutput).handler)
        }
    }
}

extension BuildCommand {
    /// buildx's `--pull` is a flag, while slipway used to take `--pull=BOOL`: both spellings
    /// work by rewriting the valued one to `--pull` / `--no-pull` before parsing.
    static func normalizingPull(_ arguments: [String]) -> [String] {
        var rewritten: [String] = []
        var afterSeparator = false
        for argument in arguments {
            if argument == "--" { afterSeparator = true }
            switch afterSeparator ? "" : argument {
            case "--pull=true", "--pull=1": rewritten.append("--pull")
            case "--pull=false", "--pull=0": rewritten.append("--no-pull")
            default: rewritten.append(argument)
            }
        }
        return rewritten
    }
}
