import ArgumentParser
import Publish

/// `slipway sign`: cosign-compatible signatures of images already in a registry.
struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign images in a registry with cosign-compatible signatures.",
        usage: "slipway sign --key <key> [<options>] <references> ...",
        discussion: """
        Each REF (tag or digest) is resolved to its digest; an index is signed
        together with each of its platform manifests (attestation manifests are
        not signed). Signatures are stored as cosign stores them: an OCI
        manifest tagged sha256-<hex>.sig in the image's repository, one
        simple-signing payload layer per signature. Signing again with the same
        key adds nothing; another key's signature is appended. `slipway verify`
        and `cosign verify --key cosign.pub --insecure-ignore-tlog` check them.
        With --attest-mode=referrers they are OCI 1.1 referrers of each signed
        manifest instead, as cosign --registry-referrers-mode=oci-1-1 stores
        them (`cosign verify --experimental-oci11` reads them).

        ECDSA signatures are randomized (OpenSSL 3.0 has no RFC 6979 nonces):
        the signature bytes differ from run to run; the image and its digest
        never change.

        Examples:
          slipway keygen                        # cosign.key, cosign.pub
          slipway sign --key cosign.key registry.example.com/app:1.0
          slipway sign --key awskms:///alias/release -a git_sha=$SHA $IMAGE
          echo "$PASS" | slipway sign --key enc.key --key-password-stdin $IMAGE
        """
    )

    @Option(help: ArgumentHelp("A PEM ECDSA P-256 private key file, or awskms:///alias/NAME | awskms:///KEY-ID | awskms:///arn:aws:kms:….", valueName: "key"))
    var key: String

    @Flag(name: .customLong("key-password-stdin"), help: "Read the password of an encrypted PEM key from standard input (default: $COSIGN_PASSWORD).")
    var keyPasswordStdin = false

    @Option(name: [.short, .customLong("annotation")], help: "An annotation KEY=VALUE in the signed payload's optional section, as cosign's -a (repeatable).")
    var annotations: [String] = []

    @OptionGroup var storage: SignatureModeOptions

    @Argument(help: "Images to sign, by tag or digest.")
    var references: [String]

    @Option(help: "Progress output: auto, plain, tty or quiet.")
    var progress: String = "auto"

    /// Signature blobs are a few hundred bytes: no chunking or repository creation to configure.
    @OptionGroup var registry: RegistryReadOptions

    func validate() throws {
        guard !references.isEmpty else { throw ValidationError("name at least one image to sign") }
        _ = try validating { try SignWorkflow.claims(annotations) }
        _ = try storage.mode()
    }

    func run() async throws {
        try await Console.run(mode: progress) { console in
            var settings = try registry.settings(console: console)
            settings.signatureMode = try storage.mode()
            let signer = try await SigningKeys.signer(key, password: try KeyPassword.read(fromStandardInput: keyPasswordStdin), settings: settings)
            let reports = try await SignWorkflow.run(references: references, signer: signer, claims: try SignWorkflow.claims(annotations), registry: settings,
                                                     onEvent: EventRenderer(console: console).handler)
            for report in reports { console.result("\(report.image) \(report.location)") }
        }
    }
}
