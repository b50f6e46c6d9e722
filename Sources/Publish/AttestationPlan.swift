import Builder

/// Which attestations a build's outputs get, with the warnings for outputs that cannot
/// carry what was asked.
enum AttestationPlan {
    static func request(_ flags: AttestationFlags, outputs: [BuildOutput], pushing: Bool, environment: [String: String],
                        onEvent: PublishEventHandler) throws -> AttestationRequest? {
        let layout = outputs.contains { if case .oci = $0 { return true } else { return false } }
        let image = layout || pushing || outputs.contains { if case .docker = $0 { return true } else { return false } }
        guard let request = try flags.request(imageOutput: layout || pushing, environment: environment) else { return nil }
        if !image {
            if flags != AttestationFlags() {
                onEvent(.warning("attestations need an image output (type=oci, type=docker or a push); type=local has no image to attach them to (ignored)"))
            }
            return nil
        }
        if request.storage == .referrers, !pushing {
            onEvent(.warning("--attest-mode=referrers attaches attestations where the image is pushed; this build pushes nothing, so its outputs carry none (use --attest-mode=index to keep them in the layout)"))
        }
        return request
    }
}
