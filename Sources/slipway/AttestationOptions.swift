import ArgumentParser
import Publish

/// buildx's attestation flags, plus where to store them (`--attest-mode`).
struct AttestationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("SLSA provenance: true, false, or mode=min|max[,version=v0.2|v1][,builder-id=URI] mode=min is on by default for type=oci outputs and pushes; BUILDX_NO_DEFAULT_ATTESTATIONS=1 turns that off.", valueName: "value"))
    var provenance: String?

    @Option(help: ArgumentHelp("An SPDX 2.3 SBOM of each platform's image: true or false (default: false).", valueName: "bool"))
    var sbom: String?

    @Option(help: ArgumentHelp("An attestation, as buildx: type=provenance[,mode=…,version=…] or type=sbom[,disabled=true] (repeatable).", valueName: "spec"))
    var attest: [String] = []

    @Option(name: .customLong("attest-mode"), help: ArgumentHelp("Where attestations and --sign signatures go: index (in the image index, as BuildKit, and cosign's .sig tag; the default) or referrers (OCI 1.1 referrers beside the image, with the sha256-<hex> tag where the registry has no referrers API).", valueName: "mode"))
    var attestMode: String?

    var flags: AttestationFlags {
        AttestationFlags(provenance: provenance, sbom: sbom, attest: attest, mode: attestMode)
    }
}

extension AttestationOptions {
    /// buildx takes a bare `--sbom` / `--provenance` as `=true` (cobra's NoOptDefVal), which
    /// swift-argument-parser cannot express: for `build`, a bare one is rewritten to `=true`
    /// unless the next argument is its value (a bool or `key=value,…`), so `build --sbom .`
    /// means what it means in buildx. (`inspect --sbom` is a flag and stays untouched.)
    static func normalizing(_ arguments: [String]) -> [String] {
        guard arguments.first == "build" || arguments.first == "bake" else { return arguments }
        var out: [String] = []
        var index = 0
        var afterSeparator = false
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { afterSeparator = true }
            if !afterSeparator, argument == "--sbom" || argument == "--provenance" {
                let next = index + 1 < arguments.count ? arguments[index + 1] : nil
                let isValue = next.map { AttestationFlags.bool($0) != nil || $0.contains("=") } ?? false
                if !isValue { out.append(argument + "=true"); index += 1; continue }
            }
            out.append(argument)
            index += 1
        }
        return out
    }
}
