/// Where `sign` and `--sign` store signatures: cosign's `sha256-<hex>.sig` tag (the default,
/// what every cosign version and admission controller reads), or OCI 1.1 referrers as
/// `cosign sign --registry-referrers-mode=oci-1-1` writes them. Chosen by `--attest-mode`,
/// the flag that also places attestations, so one flag keeps a repository free of
/// `.sig` / `.att`-style tags where the registry has the referrers API.
public enum SignatureMode: String, Sendable, Hashable {
    case tag
    case referrers

    /// From `--attest-mode` (`index`, the default, keeps cosign's tag scheme).
    public init(attestMode: String?) throws {
        switch attestMode {
        case nil, "index": self = .tag
        case "referrers": self = .referrers
        case let other?:
            throw PublishError.invalidArgument("--attest-mode=\(other): use index (signatures under cosign's sha256-<hex>.sig tag) or referrers (OCI 1.1 referrers of the signed manifest)")
        }
    }

    func storage(session: RegistrySession, clients: SignatureClients) -> any SignatureStorage {
        switch self {
        case .tag: CosignTagStorage(session: session, clients: clients)
        case .referrers: ReferrerSignatureStorage(session: session, clients: clients)
        }
    }
}
