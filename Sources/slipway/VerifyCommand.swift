import ArgumentParser
import Foundation
import Publish

/// `slipway verify`: an image's cosign signatures and attestation subjects.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify an image's cosign signatures and attestation subjects.",
        usage: "slipway verify --key <key> [<options>] <reference>",
        discussion: """
        Passes when the image (for an index: the index) has at least one
        signature that verifies with KEY over a payload naming the image's
        digest, as `cosign verify` does. For an index, each platform manifest
        that has signatures must have a valid one too, and every attestation
        manifest (BuildKit's attestation-manifest entries) must name its
        platform manifest as the in-toto subject. Missing, wrong-key, altered
        or misdirected signatures fail with the reason, exit status 1.

        Examples:
          slipway verify --key cosign.pub registry.example.com/app:1.0
          slipway verify --key awskms:///alias/release $IMAGE
          slipway verify --key cosign.pub -a git_sha=0123abc $IMAGE
          slipway verify --key cosign.pub --format json $IMAGE | jq -r '.[].digest'
        """
    )

    @Option(help: ArgumentHelp("A PEM public key file (cosign.pub), or awskms:///alias/NAME | awskms:///arn:aws:kms:….", valueName: "key"))
    var key: String

    @Option(name: [.short, .customLong("annotation")], help: "Count only signatures whose payload carries this annotation KEY=VALUE, as cosign's -a (repeatable).")
    var annotations: [String] = []

    @Argument(help: "The image, by tag or digest.")
    var reference: String

    @Option(help: "Output: text (a line per check) or json (an array of the checks, for scripts).")
    var format: String = "text"

    @OptionGroup var registry: RegistryReadOptions

    func validate() throws {
        guard ["text", "json"].contains(format) else { throw ValidationError("--format must be text or json") }
    }

    func run() async throws {
        try await Console.run(mode: "plain") { console in
            let findings = try await VerifyWorkflow.run(reference: reference, key: key, claims: try SignWorkflow.claims(annotations),
                                                        registry: registry.settings(console: console))
            if format == "json" {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                console.result(String(decoding: try encoder.encode(findings), as: UTF8.self))
                return
            }
            for finding in findings {
                switch finding.kind {
                case .verified: console.result("verified \(finding.text)")
                case .attestation: console.result("verified \(finding.text)")
                case .unsigned: console.warn(finding.text)
                }
            }
        }
    }
}
