import Foundation
import OCI
import Registry

/// Checks BuildKit-style attestation manifests of an index: each names (annotation
/// `vnd.docker.reference.digest`) a platform manifest of the same index, and each of its
/// in-toto statements (`application/vnd.in-toto+json` layers) has that manifest's digest
/// among its `subject`s; `checkReferrers` does the same for referrers-mode attestations
/// (OCI 1.1 `subject`), found through the referrers API or its fallback tag.
enum AttestationSubjects {
    static let inTotoMediaType = "application/vnd.in-toto+json"
    static let statementLimit: Int64 = 64 << 20

    struct Statement: Decodable {
        struct Subject: Decodable { var name: String?; var digest: [String: String]? }
        var subject: [Subject]?
        var predicateType: String?
    }

    /// An attestation whose statement names its image.
    struct Passed {
        var text: String
        var subject: Digest
        var platform: String?
        var predicateType: String
    }

    static func check(_ index: Index, rootName: String, in repository: ImageReference,
                      client: RegistryClient) async throws -> (passed: [Passed], failed: [String]) {
        var passed: [Passed] = []
        var failed: [String] = []
        let platforms = Dictionary(index.manifests.filter { !AttestationEntries.isAttestation($0) }.map { ($0.digest, $0) }, uniquingKeysWith: { a, _ in a })
        for entry in index.manifests where AttestationEntries.isAttestation(entry) {
            let name = "attestation manifest \(entry.digest.short)"
            guard let text = entry.annotations?[AttestationEntries.digestKey], let subject = try? Digest(parsing: text) else {
                failed.append("\(name) of \(rootName) has no valid \(AttestationEntries.digestKey) annotation")
                continue
            }
            guard let platform = platforms[subject] else {
                failed.append("\(name) is attached to \(subject), which is not a manifest of \(rootName)")
                continue
            }
            let what = platform.platform.map { "\($0)" } ?? subject.short
            let fetched = try await client.fetchManifest(entry.digest.description, in: repository.repository, size: entry.size)
            let manifest = try CanonicalJSON.decode(Manifest.self, from: fetched.data, what: name)
            let result = try await checkStatements(manifest, name: name, subject: subject, what: what, platform: platform.platform,
                                                   in: repository, client: client)
            passed += result.passed
            failed += result.failed
        }
        return (passed, failed)
    }

    /// At most this many in-toto referrers of one manifest are read.
    static let referrerLimit = 100

    /// `--attest-mode=referrers` attestations: each in-toto referrer of each image manifest
    /// (the referrers API, every page, else the `sha256-<hex>` tag index) must carry that
    /// manifest as its OCI `subject` and as a subject of each of its statements.
    static func checkReferrers(of images: [Descriptor], in repository: ImageReference,
                               client: RegistryClient) async throws -> (passed: [Passed], failed: [String]) {
        var passed: [Passed] = []
        var failed: [String] = []
        for image in images {
            let what = image.platform.map { "\($0)" } ?? image.digest.short
            let listed = try await client.referrers(of: image.digest, in: repository.repository, artifactType: MediaType.inToto)
            guard listed.count <= referrerLimit else {
                failed.append("\(what): \(listed.count) attestation referrers, more than the \(referrerLimit) slipway reads")
                continue
            }
            for entry in listed {
                let name = "attestation referrer \(entry.digest.short)"
                let fetched = try await client.fetchManifest(entry.digest.description, in: repository.repository, size: entry.size)
                guard let manifest = try? CanonicalJSON.decode(Manifest.self, from: fetched.data, what: name) else {
                    failed.append("\(name) for \(what) is not an image manifest")
                    continue
                }
                guard manifest.subject?.digest == image.digest else {
                    failed.append("\(name) listed for \(what) names subject \(manifest.subject?.digest.description ?? "none"), not the image \(image.digest)")
                    continue
                }
                let result = try await checkStatements(manifest, name: name, subject: image.digest, what: what, platform: image.platform,
                                                       in: repository, client: client, storage: " (OCI referrer)")
                passed += result.passed
                failed += result.failed
            }
        }
        return (passed, failed)
    }

    /// Each in-toto layer of an attestation manifest must name `subject`.
    private static func checkStatements(_ manifest: Manifest, name: String, subject: Digest, what: String, platform: Platform?,
                                        in repository: ImageReference, client: RegistryClient,
                                        storage: String = "") async throws -> (passed: [Passed], failed: [String]) {
        var passed: [Passed] = []
        var failed: [String] = []
        let layers = manifest.layers.filter { $0.mediaType == inTotoMediaType }
        if layers.isEmpty { failed.append("\(name) for \(what) has no in-toto statement") }
        for layer in layers {
            let predicate = layer.annotations?["in-toto.io/predicate-type"] ?? "statement \(layer.digest.short)"
            guard layer.size <= statementLimit else {
                failed.append("\(predicate) for \(what): the statement is \(layer.size) bytes, more than \(statementLimit)")
                continue
            }
            let statement: Statement
            do {
                statement = try await read(layer, client: client, repository: repository.repository)
            } catch {
                failed.append("\(predicate) for \(what): \(error)")
                continue
            }
            let subjects = (statement.subject ?? []).compactMap { $0.digest?["sha256"] }
            if subjects.contains(subject.hex) {
                let type = statement.predicateType ?? predicate
                passed.append(Passed(text: "attestation \(type) for \(what): subject is \(subject)\(storage)", subject: subject,
                                     platform: platform?.description, predicateType: type))
            } else {
                let named = subjects.isEmpty ? "no sha256 subject" : "subject " + subjects.map { "sha256:\($0)" }.joined(separator: ", ")
                failed.append("attestation \(statement.predicateType ?? predicate) for \(what) names \(named), not the image \(subject)")
            }
        }
        return (passed, failed)
    }

    static func read(_ layer: Descriptor, client: RegistryClient, repository: String) async throws -> Statement {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-att-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await client.downloadBlob(layer, from: repository, to: scratch)
        do { return try JSONDecoder().decode(Statement.self, from: try Data(contentsOf: scratch)) } catch {
            throw PublishError.failed("the statement is not in-toto JSON")
        }
    }
}

/// BuildKit's attestation manifests inside an index (`vnd.docker.reference.type:
/// attestation-manifest`, platform `unknown/unknown`).
enum AttestationEntries {
    static let typeKey = "vnd.docker.reference.type"
    static let digestKey = "vnd.docker.reference.digest"

    static func isAttestation(_ descriptor: Descriptor) -> Bool {
        descriptor.annotations?[typeKey] == "attestation-manifest"
    }
}
