import Foundation
import HTTP
import OCI
import Registry
import Signing

/// The signatures stored for one image digest: the signature layers with their payloads, and
/// the `.sig` manifest they came from (kept whole when appending).
struct StoredSignatures: Sendable {
    var manifest: Manifest?
    var signatures: [(layer: Descriptor, payload: Data)] = []
    /// Layers whose payload could not be read (too large, missing, altered), with the reason.
    var unreadable: [(layer: Descriptor, reason: String)] = []
    /// Where they were looked for, for messages (`registry/repo:sha256-….sig`).
    var location: String

    /// What "none stored here" reads as in a message.
    var absence: String { location.hasSuffix(".sig") ? "there is no \(location)" : "\(location): none" }
}

/// Where signatures of an image live and how new ones are added. `CosignTagStorage` is
/// cosign's tag scheme (`sha256-<hex>.sig`); `ReferrerSignatureStorage` is cosign's OCI 1.1
/// mode (`--attest-mode=referrers`: an artifact with `subject`, found through the referrers
/// API of `RegistryClient+Referrers` or its `sha256-<hex>` fallback tag).
protocol SignatureStorage: Sendable {
    func signatures(of digest: Digest, in repository: ImageReference) async throws -> StoredSignatures
    /// Adds `signature` to what `existing` holds and stores the result; returns where.
    func append(_ signature: CosignSignatureImage.Signature, to existing: StoredSignatures, of digest: Digest,
                in repository: ImageReference) async throws -> String
}

/// cosign's tag-based storage, over the registry client and the pusher.
final class CosignTagStorage: SignatureStorage {
    let session: RegistrySession
    let clients: SignatureClients
    /// Payloads are a few hundred bytes; anything larger is not a simple-signing payload.
    static let payloadLimit: Int64 = 64 << 10
    /// At most this many signatures are read from one `.sig` manifest (with the payload bound,
    /// 64 MiB at most in memory, whatever a registry serves).
    static let signatureLimit = 1000

    init(session: RegistrySession, clients: SignatureClients? = nil) {
        self.session = session
        self.clients = clients ?? SignatureClients(session: session)
    }

    func client(for registry: String) -> RegistryClient { clients.client(for: registry) }

    func signatures(of digest: Digest, in repository: ImageReference) async throws -> StoredSignatures {
        let tag = CosignSignatureImage.tag(for: digest)
        var stored = StoredSignatures(location: "\(repository.registry)/\(repository.repository):\(tag)")
        let client = client(for: repository.registry)
        guard try await client.manifestExists(tag, in: repository.repository) != nil else { return stored }
        let fetched = try await client.fetchManifest(tag, in: repository.repository)
        guard MediaType.isManifest(fetched.descriptor.mediaType) else {
            throw PublishError.failed("\(stored.location) is not an image manifest (\(fetched.descriptor.mediaType)), so it holds no cosign signatures")
        }
        let manifest = try CanonicalJSON.decode(Manifest.self, from: fetched.data, what: "signature manifest \(stored.location)")
        stored.manifest = manifest
        let layers = CosignSignatureImage.signatureLayers(of: manifest)
        guard layers.count <= Self.signatureLimit else {
            throw PublishError.failed("\(stored.location) has \(layers.count) signature layers, more than the \(Self.signatureLimit) slipway reads")
        }
        try await SignaturePayloads.read(layers, from: client, in: repository, into: &stored)
        return stored
    }

    func append(_ signature: CosignSignatureImage.Signature, to existing: StoredSignatures, of digest: Digest,
                in repository: ImageReference) async throws -> String {
        let built = try CosignSignatureImage.build(layers: (existing.manifest?.layers ?? []) + [signature.layer])
        let target = repository.with(tag: CosignSignatureImage.tag(for: digest), digest: nil)
        try await clients.pushSignatureImage(built, payloads: existing, adding: signature, to: target)
        return "\(target)@\(built.manifestDescriptor.digest)"
    }
}

/// One registry client per registry for the signature storages, so a token is fetched once
/// for all the signatures of a run.
final class SignatureClients: Sendable {
    let session: RegistrySession
    private let clients = Locked<[String: RegistryClient]>([:])

    init(session: RegistrySession) { self.session = session }

    /// Pushes one signature image: the payloads `existing` read plus `signature`'s, and the
    /// `built` config and manifest, through a scratch content store that is removed afterwards,
    /// interrupted or not. Both storages push this way; they differ only in the manifest they
    /// build and the reference it goes to.
    func pushSignatureImage(_ built: CosignSignatureImage.Built, payloads existing: StoredSignatures,
                            adding signature: CosignSignatureImage.Signature, to target: ImageReference) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-sig-\(UUID().uuidString)")
        let cleanup = Interruption.register { try? FileManager.default.removeItem(at: scratch) }
        defer {
            try? FileManager.default.removeItem(at: scratch)
            Interruption.unregister(cleanup)
        }
        let store = try ContentStore(root: scratch)
        for entry in existing.signatures { try store.put(entry.payload, mediaType: entry.layer.mediaType) }
        try store.put(signature.payload, mediaType: SimpleSigningPayload.mediaType)
        try store.put(built.config, mediaType: built.configDescriptor.mediaType)
        try store.put(built.manifest, mediaType: MediaType.imageManifest)
        let pusher = Pusher(store: store, transport: session.transport, credentials: session.credentials,
                            options: session.settings.pushOptions(jobs: 2))
        _ = try await pusher.push(built.manifestDescriptor, to: [target])
    }

    func client(for registry: String) -> RegistryClient {
        clients.withLock { clients in
            if let existing = clients[registry] { return existing }
            let made = RegistryClient(registry: registry, transport: session.transport, credentials: session.credentials, retry: session.settings.retryPolicy)
            clients[registry] = made
            return made
        }
    }
}

/// Reading signature payload blobs, bounded, for both storages.
enum SignaturePayloads {
    /// Each layer's payload (at most `CosignTagStorage.payloadLimit` bytes) into `stored`;
    /// a layer that cannot be read is listed as unreadable with the reason.
    static func read(_ layers: [Descriptor], from client: RegistryClient, in repository: ImageReference,
                     into stored: inout StoredSignatures) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-sig-\(UUID().uuidString)")
        let cleanup = Interruption.register { try? FileManager.default.removeItem(at: scratch) }
        defer {
            try? FileManager.default.removeItem(at: scratch)
            Interruption.unregister(cleanup)
        }
        for layer in layers {
            guard layer.size <= CosignTagStorage.payloadLimit else {
                stored.unreadable.append((layer, "payload \(layer.digest.short) is \(layer.size) bytes, larger than a signature payload can be"))
                continue
            }
            do {
                try await client.downloadBlob(layer, from: repository.repository, to: scratch)
                stored.signatures.append((layer, try Data(contentsOf: scratch)))
            } catch {
                stored.unreadable.append((layer, "payload \(layer.digest.short) cannot be read: \(error)"))
            }
        }
    }
}
