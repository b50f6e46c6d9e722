import ArgumentParser
import Foundation
import OCI
import Publish

/// `slipway inspect`: what a reference points at, like `docker buildx imagetools inspect`.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an image's digest, media type and platforms in its registry.",
        usage: "slipway inspect [<options>] <reference>",
        discussion: """
        Prints the reference's digest, media type and size, then per manifest its
        digest, media type, platform, size, layer count and a summary of its
        config. Every manifest and config read is verified against its digest (and
        kept in the cache).

        Examples:
          slipway inspect alpine:3.20
          slipway inspect --raw registry.example.com/app:1.0 | sha256sum
          slipway inspect --config --platform linux/arm64 registry.example.com/app:1.0
          slipway inspect --format json registry.example.com/app@sha256:…
          slipway inspect --provenance --format json registry.example.com/app:1.0
          slipway inspect --sbom registry.example.com/app:1.0
        """
    )

    @Argument(help: "The image reference, e.g. registry.example.com/team/app:1.0 or …@sha256:….")
    var reference: String

    @Flag(help: "Print the exact bytes of the manifest or index (with --platform, of that platform's manifest).")
    var raw = false

    @Flag(help: "Print the image config JSON (of --platform, or the host's platform for an index).")
    var config = false

    @Option(help: "The platform for --raw and --config, e.g. linux/arm64.")
    var platform: String?

    @Option(help: "Output format: text or json.")
    var format: String = "text"

    @OptionGroup var attestations: InspectAttestationOptions

    @OptionGroup var cache: CacheOptions

    @OptionGroup var registry: RegistryReadOptions

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
        if raw && config { throw ValidationError("--raw and --config exclude each other") }
        if let platform { _ = try Platform(parsing: platform) }
        try attestations.validate(raw: raw, config: config)
    }

    func run() async throws {
        try await Console.run(mode: "quiet") { console in
            let inspector = try await ImageInspector.open(reference, registry: try registry.settings(console: console, cacheDir: cache.cacheDir),
                                                          onEvent: { event in if let notice = event.retryNotice { console.warn(notice) } })
            let wanted = try platform.map { try Platform(parsing: $0) }
            if attestations.requested {
                try await attestations.print(inspector, json: format == "json")
            } else if raw {
                FileHandle.standardOutput.write(try await inspector.rawManifest(platform: wanted))
            } else if config {
                FileHandle.standardOutput.write(try await inspector.config(platform: wanted) + Data("\n".utf8))
            } else if format == "json" {
                let data = try JSONSerialization.data(withJSONObject: InspectReport.render(try await inspector.inspect()).json,
                                                      options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
                FileHandle.standardOutput.write(data + Data("\n".utf8))
            } else {
                FileHandle.standardOutput.write(Data(InspectReport.render(try await inspector.inspect()).text.utf8))
            }
        }
    }
}
