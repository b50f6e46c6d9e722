import Foundation
import OCI
import Registry
import Signing

/// What signing one image did, for the front end.
public struct SignatureReport: Sendable, Hashable {
    /// `registry/repository@sha256:…` of the signed manifest or index.
    public var image: String
    /// `registry/repository:sha256-….sig@sha256:…` where the signature is stored.
    public var location: String
    /// The image already had a signature of the same payload by this key: nothing was added.
    public var alreadySigned: Bool
    public var keyName: String
}

/// `slipway sign` and `--sign` on `build --push`, `push` and `copy`: a cosign signature of
/// the index and of each platform manifest in it (attestation manifests are not signed: no
/// admission policy runs them), in each repository the image is in.
public enum SignWorkflow {
    /// `KEY=VALUE` annotations (`-a`) as payload claims; a malformed one is an invalid argument.
    public static func claims(_ texts: [String]) throws -> [String: String] {
        var claims: [String: String] = [:]
        for text in texts {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw PublishError.invalidArgument("-a '\(text)': use KEY=VALUE")
            }
            claims[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        return claims
    }

    /// Signs images already in a registry, each named by tag or digest.
    /// `claims`: the payload's `optional` annotations (`sign -a KEY=VALUE`).
    /// `registry.signatureMode` chooses the storage (`--attest-mode`).
    public static func run(references: [String], signer: any ImageSigner, claims: [String: String] = [:], registry: RegistrySettings,
                           onEvent: @escaping PublishEventHandler) async throws -> [SignatureReport] {
        let session = try RegistrySession(registry)
        let clients = SignatureClients(session: session)
        let storage = registry.signatureMode.storage(session: session, clients: clients)
        var reports: [SignatureReport] = []
        for text in references {
            let reference: ImageReference
            do { reference = try ImageReference(parsing: text) } catch { throw PublishError.invalidArgument("\(error)") }
            let client = clients.client(for: reference.registry)
            let root = try await client.fetchManifest(reference.digest?.description ?? reference.tag ?? ImageReference.defaultTag,
                                                      in: reference.repository)
            let targets = try signedDigests(root: root.descriptor, data: root.data)
            reports += try await sign(targets, in: reference, signer: signer, claims: claims, storage: storage, onEvent: onEvent)
        }
        return reports
    }

    /// After a push: signs the pushed root (and its platform manifests) once per repository.
    static func signPublished(_ root: Descriptor, from store: ContentStore, to references: [ImageReference], signer: any ImageSigner,
                              session: RegistrySession, onEvent: @escaping PublishEventHandler) async throws {
        let storage = session.settings.signatureMode.storage(session: session, clients: SignatureClients(session: session))
        let targets = try signedDigests(root: root, data: try store.read(root.digest))
        var repositories: [ImageReference] = []
        for reference in references where !repositories.contains(where: { $0.name == reference.name }) { repositories.append(reference) }
        for repository in repositories {
            _ = try await sign(targets, in: repository, signer: signer, storage: storage, onEvent: onEvent)
        }
    }

    /// The root, then (for an index) each child that is not an attestation manifest.
    static func signedDigests(root: Descriptor, data: Data) throws -> [Digest] {
        guard MediaType.isIndex(root.mediaType) else { return [root.digest] }
        let index = try CanonicalJSON.decode(Index.self, from: data, what: "index \(root.digest)")
        return [root.digest] + index.manifests.filter { !AttestationEntries.isAttestation($0) }.map(\.digest)
    }

    static func sign(_ digests: [Digest], in repository: ImageReference, signer: any ImageSigner, claims: [String: String] = [:],
                     storage: any SignatureStorage, onEvent: @escaping PublishEventHandler) async throws -> [SignatureReport] {
        let key = try await signer.publicKey()
        var reports: [SignatureReport] = []
        for digest in digests {
            let image = "\(repository.name)@\(digest)"
            let payload = SimpleSigningPayload(dockerReference: SimpleSigningPayload.dockerReference(registry: repository.registry, repository: repository.repository),
                                               manifestDigest: digest, optional: claims.isEmpty ? nil : claims).encoded()
            let existing = try await storage.signatures(of: digest, in: repository)
            let report: SignatureReport
            if SignatureCheck.alreadySigned(payload, in: existing.signatures, key: key) {
                report = SignatureReport(image: image, location: existing.location, alreadySigned: true, keyName: signer.keyName)
            } else {
                let signature = try await signer.sign(payload)
                guard ECDSA.verify(signature, of: payload, with: key) else {
                    throw PublishError.failed("the signature by \(signer.keyName) does not verify with its own public key; nothing was stored")
                }
                let location = try await storage.append(.init(payload: payload, signature: signature), to: existing, of: digest, in: repository)
                report = SignatureReport(image: image, location: location, alreadySigned: false, keyName: signer.keyName)
            }
            onEvent(.signed(report))
            reports.append(report)
        }
        return reports
    }
}
