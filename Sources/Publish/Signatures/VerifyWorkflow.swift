import Foundation
import OCI
import Registry
import Signing

/// `slipway verify --key KEY REF`: the image's cosign signatures checked against its digest
/// and the key (cosign's rule: at least one valid signature; invalid ones are named), for an
/// index also each platform manifest that has signatures, and every BuildKit attestation
/// manifest in the index, and every in-toto referrer of each image manifest
/// (`--attest-mode=referrers`), checked to name the platform manifest it is attached to as
/// its in-toto subject. Any failure fails the whole verification with every reason listed.
public enum VerifyWorkflow {
    /// One checked item: a line for the report, and its fields for `--format json`.
    public struct Finding: Sendable, Hashable, Encodable {
        public enum Kind: String, Sendable, Hashable, Encodable { case verified, unsigned, attestation }
        public var kind: Kind
        public var text: String
        /// The manifest or index the finding is about (an attestation's: its subject).
        public var digest: String
        public var platform: String?
        /// Signatures that verified with the key (signature findings).
        public var validSignatures: Int?
        /// The in-toto predicate type (attestation findings).
        public var predicateType: String?
    }

    /// `claims`: annotations every counted signature must carry (`verify -a KEY=VALUE`).
    public static func run(reference text: String, key keyText: String, claims: [String: String] = [:],
                           registry: RegistrySettings) async throws -> [Finding] {
        let reference: ImageReference
        do { reference = try ImageReference(parsing: text) } catch { throw PublishError.invalidArgument("\(error)") }
        let key = try await SigningKeys.publicKey(keyText, settings: registry)
        let session = try RegistrySession(registry)
        let clients = SignatureClients(session: session)
        // Signatures count wherever they are stored: cosign's tag or OCI 1.1 referrers.
        let storage: [any SignatureStorage] = [CosignTagStorage(session: session, clients: clients), ReferrerSignatureStorage(session: session, clients: clients)]
        let client = clients.client(for: reference.registry)
        let root = try await client.fetchManifest(reference.digest?.description ?? reference.tag ?? ImageReference.defaultTag, in: reference.repository)
        var findings: [Finding] = []
        var failures: [String] = []

        let rootName = "\(reference.name)@\(root.descriptor.digest)"
        let rootResult = try await check(root.descriptor.digest, named: rootName, in: reference, key: key, claims: claims, storage: storage)
        switch rootResult {
        case .verified(let line, let valid):
            findings.append(Finding(kind: .verified, text: line, digest: root.descriptor.digest.description, validSignatures: valid))
        case .unsigned(let reason), .failed(let reason): failures.append(reason)
        }
        if root.isIndex {
            let index = try CanonicalJSON.decode(Index.self, from: root.data, what: "index \(rootName)")
            let platforms = index.manifests.filter { !AttestationEntries.isAttestation($0) }
            for child in platforms {
                let name = "\(reference.name)@\(child.digest)" + (child.platform.map { " (\($0))" } ?? "")
                switch try await check(child.digest, named: name, in: reference, key: key, claims: claims, storage: storage) {
                case .verified(let line, let valid):
                    findings.append(Finding(kind: .verified, text: line, digest: child.digest.description, platform: child.platform?.description,
                                            validSignatures: valid))
                case .unsigned:
                    findings.append(Finding(kind: .unsigned, text: "\(name): no signature (only the index is signed)", digest: child.digest.description,
                                            platform: child.platform?.description))
                case .failed(let reason): failures.append(reason)
                }
            }
            let attestations = try await AttestationSubjects.check(index, rootName: rootName, in: reference, client: client)
            findings += attestations.passed.map {
                Finding(kind: .attestation, text: $0.text, digest: $0.subject.description, platform: $0.platform, predicateType: $0.predicateType)
            }
            failures += attestations.failed
        }
        let images = root.isIndex
            ? try CanonicalJSON.decode(Index.self, from: root.data, what: "index \(rootName)").manifests.filter { !AttestationEntries.isAttestation($0) }
            : [root.descriptor]
        let referrers = try await AttestationSubjects.checkReferrers(of: images, in: reference, client: client)
        findings += referrers.passed.map {
            Finding(kind: .attestation, text: $0.text, digest: $0.subject.description, platform: $0.platform, predicateType: $0.predicateType)
        }
        failures += referrers.failed
        guard failures.isEmpty else {
            throw PublishError.failed("verification of \(reference) failed:\n  " + failures.joined(separator: "\n  "))
        }
        return findings
    }

    enum Result { case verified(String, valid: Int), unsigned(String), failed(String) }

    static func check(_ digest: Digest, named name: String, in repository: ImageReference, key: ECKey, claims: [String: String],
                      storage: [any SignatureStorage]) async throws -> Result {
        var found: [StoredSignatures] = []
        for place in storage { found.append(try await place.signatures(of: digest, in: repository)) }
        let present = found.filter { $0.manifest != nil || !$0.unreadable.isEmpty }
        guard !present.isEmpty else {
            return .unsigned("\(name): no signatures (\(found.map(\.absence).joined(separator: "; ")))")
        }
        // One signature stored in both places counts once.
        var stored = StoredSignatures(location: present.map(\.location).joined(separator: " and "))
        var seen: Set<String> = []
        for place in present {
            for entry in place.signatures
            where seen.insert(entry.layer.digest.description + " " + (entry.layer.annotations?[CosignSignatureImage.signatureAnnotation] ?? "")).inserted {
                stored.signatures.append(entry)
            }
            stored.unreadable += place.unreadable
        }
        var reasons = stored.unreadable.map { "\($0.reason)" }
        var valid = 0
        for entry in stored.signatures {
            switch SignatureCheck.check(layer: entry.layer, payload: entry.payload, imageDigest: digest, key: key, requiredClaims: claims) {
            case .valid: valid += 1
            case .invalid(let reason): reasons.append(reason)
            }
        }
        let total = stored.signatures.count + stored.unreadable.count
        guard total > 0 else { return .unsigned("\(name): no signatures (\(stored.location) has no signature layers)") }
        guard valid > 0 else {
            return .failed("\(name): none of its \(total) signature\(total == 1 ? "" : "s") is valid: " + reasons.joined(separator: "; "))
        }
        var line = "\(name): \(valid) valid signature\(valid == 1 ? "" : "s") (\(stored.location))"
        // Other signatures (another signer's, as with several keys) do not fail verification, as with cosign.
        if !reasons.isEmpty { line += "; \(reasons.count) other signature\(reasons.count == 1 ? "" : "s") not valid with this key: " + reasons.joined(separator: "; ") }
        return .verified(line, valid: valid)
    }
}
