import ArgumentParser
import Publish

/// buildx's attestation flags, plus where to store them (`--attest-mode`).
struct AttestationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("SLSA provenance: true, false, or mode=min|max[,version=v0.2|v1][,builder-id=URI] (default: mode=min for type=oci outputs and pushes; BUILDX_NO_DEFAULT_ATTESTATIONS=1 turns the default off).", valueName: "value"))
    var provenance: String?

    @Option(help: ArgumentHelp("An SPDX 2.3 SBOM of each platform's image: true or false (default: false).", valueName: "bool"))
    var sbom: String?

    @Option(help: ArgumentHelp("An attestation, as buildx: type=provenance[,mode=…,version=…] or type=sbom[,disabled=true] (repeatable).", valueName: "spec"))
    var attest: [String] = []

    @Option(name: .customLong("attest-mode"), help: ArgumentHelp("Where attestations go: index (in the image index, as BuildKit; the default) or referrers (OCI 1.1 referrers beside the image, with the sha256-<hex> tag where the registry has no referrers API).", valueName: "mode"))
    var attestMode: String?

    var flags: AttestationFlags {
        AttestationFlags(provenance: provenance, sbom: sbom, attest: attest, mode: attestMode)
    }
}
