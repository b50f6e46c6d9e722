import ArgumentParser
import Foundation
import HTTP
import Publish
import Signing

/// `--sign KEY` and `--key-password-stdin` on `build --push`, `push` and `copy`.
struct SigningOptions: ParsableArguments {
    @Option(name: .customLong("sign"), help: ArgumentHelp("Sign what is pushed (the index and each platform manifest) with this key, as cosign does (tag sha256-<hex>.sig): a PEM ECDSA P-256 private key file, or awskms:///alias/NAME | awskms:///arn:aws:kms:….", valueName: "key"))
    var sign: String?

    @Flag(name: .customLong("key-password-stdin"), help: "Read the password of an encrypted PEM key from standard input (default: $COSIGN_PASSWORD).")
    var keyPasswordStdin = false

    /// The signer, made (and a KMS key checked) before any work starts; nil without --sign.
    func signer(settings: RegistrySettings) async throws -> (any ImageSigner)? {
        guard let sign else {
            if keyPasswordStdin { throw ValidationError("--key-password-stdin needs --sign KEY") }
            return nil
        }
        return try await SigningKeys.signer(sign, password: try KeyPassword.read(fromStandardInput: keyPasswordStdin), settings: settings)
    }
}

/// The password of an encrypted PEM key: standard input (one line, as `login --password-stdin`
/// takes it) or `COSIGN_PASSWORD`, registered for redaction before anything can print it.
enum KeyPassword {
    static func read(fromStandardInput: Bool) throws -> String? {
        var password: String?
        if fromStandardInput {
            let data = (try? FileHandle.standardInput.read(upToCount: 64 << 10)) ?? Data()
            var text = String(decoding: data, as: UTF8.self)
            while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
            guard !text.isEmpty else { throw ValidationError("--key-password-stdin: standard input is empty") }
            password = text
        } else if let fromEnvironment = ProcessInfo.processInfo.environment["COSIGN_PASSWORD"], !fromEnvironment.isEmpty {
            password = fromEnvironment
        }
        if let password { Redactor.register(password) }
        return password
    }
}

/// `--attest-mode` on `sign`, `push` and `copy` (on `build` it is `AttestationOptions`'s and
/// places attestations too): where signatures are stored.
struct SignatureModeOptions: ParsableArguments {
    @Option(name: .customLong("attest-mode"), help: ArgumentHelp("Where signatures go: index (cosign's sha256-<hex>.sig tag; the default) or referrers (OCI 1.1 referrers of the signed manifest, as cosign's --registry-referrers-mode=oci-1-1, with the sha256-<hex> tag index where the registry has no referrers API).", valueName: "mode"))
    var attestMode: String?

    func mode() throws -> SignatureMode { try validating { try SignatureMode(attestMode: attestMode) } }
}
