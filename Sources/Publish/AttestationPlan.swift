import Builder

/// Which attestations a build's outputs get, with the warnings for outputs that cannot
/// carry what was asked.
enum AttestationPlan {
    static func request(_ flags: AttestationFlags, outputs: [BuildOutput], pushing: Bool, environment: [String: String],
                        onEvent: PublishEventHandler) throws -> AttestationRequest? {
        let layout = outputs.contains { if case .oci = $0 { return true } else { return false } }
        let image = layout || pushing || outputs.contains { if case .docker = $0 { return true } else { return false } }
        let files = outputs.contains { switch $0 { case .local, .tar: true; default: false } }
        // Defaults apply to image outputs only; asked for explicitly, a type=local output gets
        // them as files (provenance.json, sbom.spdx.json), as BuildKit's local and tar exporters write them.
        guard let request = try flags.request(imageOutput: layout || pushing, environment: environment) else { return nil }
        if !image && !files {
            onEvent(.warning("attestations need an output: an image (type=oci, type=docker or a push) or files (type=local, type=tar); this build writes none (ignored)"))
            return nil
        }
        if request.storage == .referrers, !pushing, image {
            onEvent(.warning("--attest-mode=referrers attaches attestations where the image is pushed; this build pushes nothing, so its outputs carry none (use --attest-mode=index to keep them in the layout)"))
        }
        return request
    }
}
