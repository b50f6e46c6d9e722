import Dispatch
import Foundation
import HTTP
import Layers
import OCI
import Registry

/// One platform's attestations as stored: a manifest whose layers are in-toto statements
/// about `subject` (the platform's image manifest).
public struct AttestationManifest: Sendable {
    public var platform: Platform
    public var subject: Descriptor
    /// In the store; with `storage == .index` it is listed in the root index, with
    /// `.referrers` it carries `subject` and is pushed beside the image.
    public var manifest: Descriptor
    public var predicateTypes: [String]
    public var storage: AttestationRequest.Storage
    /// The manifest's config and layers (the statements), for outputs that copy blobs.
    public var blobs: [Descriptor]
    /// Each statement's predicate type and predicate, for outputs that write them as files
    /// about other subjects (`type=local`: `LocalAttestations`).
    var predicates: [(type: String, predicate: JSONValue)] = []

    /// The root index's entry for it (BuildKit's attestation storage).
    var indexEntry: Descriptor {
        Descriptor(mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size,
                   platform: Descriptor.attestationPlatform,
                   annotations: [AttestationAnnotation.referenceType: AttestationAnnotation.attestationManifest,
                                 AttestationAnnotation.referenceDigest: subject.digest.description])
    }
}

/// Makes the attestations of a build: per platform a provenance statement and/or an SBOM,
/// each an in-toto Statement v1 about the platform's manifest, gathered in one attestation
/// manifest.
enum Attestor {
    static let statementType = "https://in-toto.io/Statement/v1"
    static let emptyConfigType = "application/vnd.oci.empty.v1+json"

    struct PlatformInput {
        var image: BuildResult.PlatformImage
        var layers: [LayerRef]
        var materials: BuildMaterials
    }

    static func attest(_ attest: AttestationRequest, inputs: [PlatformInput], request: BuildRequest, jobs: LayerJobs,
                       store: ContentStore, explicitEpoch: Int64?, epoch: Int64) throws -> [AttestationManifest] {
        let git = attest.gitInfo && attest.provenance != nil ? GitWorkTree.find(containing: request.contextDirectory, checkDirty: attest.gitCheckDirty) : nil
        let findings = attest.sbom ? try scanLayers(inputs, jobs: jobs, store: store, concurrency: request.jobs) : [:]
        var result: [AttestationManifest] = []
        for input in inputs {
            var statements: [(type: String, predicate: JSONValue)] = []
            if let provenance = attest.provenance {
                let inputs = ProvenanceInputs(settings: provenance, dockerfileName: request.dockerfileIsText ? "-" : request.dockerfileName, dockerfileText: request.dockerfileText,
                                              buildArgs: request.buildArgs, labels: request.labels, target: request.target,
                                              platforms: request.platforms, platform: input.image.platform,
                                              materials: try input.materials.entries(platform: input.image.platform), git: git,
                                              explicitEpoch: explicitEpoch)
                statements.append((provenance.version.predicateType, inputs.predicate()))
            }
            if attest.sbom {
                let inventory = ImageInventory(layers: input.layers.compactMap { findings[LayerKey($0)] })
                let document = SPDXDocument.make(inventory, imageName: request.tags.first.map(normalizedName), platform: input.image.platform,
                                                 manifest: input.image.manifest.digest, epoch: epoch)
                statements.append((SPDXDocument.predicateType, document))
            }
            result.append(try storeStatements(statements, about: input.image, tags: request.tags, storage: attest.storage, in: store))
        }
        return result
    }

    /// The statements as layers of one manifest (BuildKit's config, or OCI's empty config for a referrer).
    private static func storeStatements(_ statements: [(type: String, predicate: JSONValue)], about image: BuildResult.PlatformImage, tags: [String],
                              storage: AttestationRequest.Storage, in store: ContentStore) throws -> AttestationManifest {
        let subjects = subjectNames(tags, platform: image.platform).map { name -> JSONValue in
            .object(["name": .string(name), "digest": .strings(["sha256": image.manifest.digest.hex])])
        }
        var layers: [Descriptor] = []
        for statement in statements {
            let document = JSONValue.object([
                "_type": .string(statementType), "subject": .array(subjects),
                "predicateType": .string(statement.type), "predicate": statement.predicate,
            ])
            var layer = try store.put(Data(document.serialized()), mediaType: MediaType.inToto)
            layer.annotations = [AttestationAnnotation.predicateType: statement.type]
            layers.append(layer)
        }
        let subject = Descriptor(mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size)
        let manifest: Manifest
        switch storage {
        case .index:
            var config = ImageConfig(platform: Descriptor.attestationPlatform)
            config.history = nil
            config.rootfs = RootFS(diffIDs: layers.map(\.digest))
            manifest = Manifest(config: try store.putJSON(config, mediaType: MediaType.imageConfig), layers: layers)
        case .referrers:
            let empty = try store.put(Data("{}".utf8), mediaType: emptyConfigType)
            manifest = Manifest(config: empty, layers: layers, subject: subject, artifactType: MediaType.inToto)
        }
        var descriptor = try store.putJSON(manifest, mediaType: MediaType.imageManifest)
        if storage == .referrers { descriptor.artifactType = MediaType.inToto }
        return AttestationManifest(platform: image.platform, subject: subject, manifest: descriptor,
                                   predicateTypes: statements.map(\.type), storage: storage, blobs: [manifest.config] + layers,
                                   predicates: statements)
    }

    /// BuildKit's subject names: `pkg:docker/NAME@TAG?platform=…` per tag, `_` without one.
    static func subjectNames(_ tags: [String], platform: Platform) -> [String] {
        var names: [String] = []
        for tag in tags {
            let name = PackageURL.docker(normalizedName(tag), platform: platform)
            if !names.contains(name) { names.append(name) }
        }
        return names.isEmpty ? ["_"] : names
    }

    static func normalizedName(_ tag: String) -> String {
        (try? ImageReference(parsing: tag))?.description ?? tag
    }

    /// A layer of some platform: base layers by digest, the build's own by job (shared
    /// between platforms, scanned once).
    struct LayerKey: Hashable {
        var base: Digest?
        var job: Int?
        init(_ layer: LayerRef) {
            switch layer {
            case .base(let descriptor, _): base = descriptor.digest
            case .planned(let job): self.job = job
            }
        }
    }

    /// Every distinct layer scanned once, several at a time.
    private static func scanLayers(_ inputs: [PlatformInput], jobs: LayerJobs, store: ContentStore, concurrency: Int) throws -> [LayerKey: LayerFindings] {
        var keys: [LayerKey] = []
        var distinct: [LayerRef] = []
        for input in inputs {
            for layer in input.layers where !keys.contains(LayerKey(layer)) {
                keys.append(LayerKey(layer))
                distinct.append(layer)
            }
        }
        let refs = distinct
        let entries = jobs.jobs
        let results = Locked<[Result<LayerFindings, any Error>?]>(Array(repeating: nil, count: refs.count))
        let next = Locked(0)
        let workers = max(1, min(concurrency, refs.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let index = next.withLock { value -> Int in defer { value += 1 }; return value }
                guard index < refs.count else { return }
                let result = Result<LayerFindings, any Error> {
                    switch refs[index] {
                    case .base(let descriptor, _):
                        guard store.contains(descriptor.digest) else {
                            throw BuildError("SBOM: base layer \(descriptor.digest) is not in the cache")
                        }
                        do { return try LayerScanner.scan(blob: store.blobURL(descriptor.digest).path) } catch let error as LayerError {
                            throw BuildError("SBOM: cannot read base layer \(descriptor.digest): \(error)")
                        }
                    case .planned(let job):
                        // A RUN layer written during planning is read back from its blob.
                        if let blob = jobs.writtenBlob(job) { return try LayerScanner.scan(blob: store.blobURL(blob.digest).path) }
                        // Own layers spread their files over the cores left by the other workers.
                        return try LayerScanner.scan(entries: entries[job], workers: max(1, concurrency / workers))
                    }
                }
                results.withLock { $0[index] = result }
            }
        }
        var findings: [LayerKey: LayerFindings] = [:]
        for (key, slot) in zip(keys, results.withLock { $0 }) {
            guard let slot else { throw BuildError("internal error: a layer was not scanned for the SBOM") }
            findings[key] = try slot.get()
        }
        return findings
    }
}
