import ArgumentParser
import Foundation
import OCI
import Publish

/// `inspect --provenance` / `--sbom`: the predicates attached to an image, per platform, in
/// the shape `docker buildx imagetools inspect --format '{{json .Provenance}}'` prints
/// (`{"SLSA": …}` / `{"SPDX": …}`, keyed by platform when there are several).
struct InspectAttestationOptions: ParsableArguments {
    @Flag(help: "Print the SLSA provenance attached to the image (per platform).")
    var provenance = false

    @Flag(help: "Print the SPDX SBOM attached to the image (per platform).")
    var sbom = false

    var requested: Bool { provenance || sbom }

    func validate(raw: Bool, config: Bool) throws {
        if provenance && sbom { throw ValidationError("--provenance and --sbom exclude each other; run inspect twice") }
        if requested && (raw || config) { throw ValidationError("--provenance/--sbom exclude --raw and --config") }
    }

    func print(_ inspector: ImageInspector, json: Bool) async throws {
        let (prefix, key, what) = provenance ? ("https://slsa.dev/provenance/", "SLSA", "provenance") : ("https://spdx.dev/Document", "SPDX", "SBOM")
        let found = try await inspector.statements(predicateTypePrefix: prefix)
        guard !found.isEmpty else {
            throw ValidationError("\(inspector.reference) has no \(what) attestation (in its index or as referrers)")
        }
        var byPlatform: [(platform: String, value: [String: Any], statement: AttachedStatement)] = []
        for statement in found {
            guard let object = try? JSONSerialization.jsonObject(with: statement.statement) as? [String: Any] else {
                throw ValidationError("the attestation for \(statement.subject) is not a JSON object")
            }
            byPlatform.append((statement.platform?.description ?? statement.subject.description, [key: object["predicate"] ?? NSNull()], statement))
        }
        if json {
            let document: Any = byPlatform.count == 1 ? byPlatform[0].value : Dictionary(byPlatform.map { ($0.platform, $0.value) }) { first, _ in first }
            let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            return
        }
        for entry in byPlatform {
            let data = try JSONSerialization.data(withJSONObject: entry.value[key] ?? NSNull(), options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            let header = "\(entry.platform): \(entry.statement.predicateType) about \(entry.statement.subject) (\(entry.statement.storage == "index" ? "attestation manifest in the index" : "OCI referrer"))\n"
            FileHandle.standardOutput.write(Data(header.utf8) + data + Data("\n".utf8))
        }
    }
}
