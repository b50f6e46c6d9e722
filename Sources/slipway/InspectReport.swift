import Foundation
import OCI
import Publish

/// `inspect`'s two renderings of the same facts: aligned `Field: value` text, and a JSON
/// object with the same content for scripts.
enum InspectReport {
    static func render(_ inspection: ImageInspection) -> (text: String, json: [String: Any]) {
        let root = inspection.root
        let reference = inspection.reference
        var text = field("Name", reference.description) + field("MediaType", root.mediaType)
            + field("Digest", root.digest.description) + field("Size", "\(root.size)")
        var json: [String: Any] = ["name": reference.description, "mediaType": root.mediaType,
                                   "digest": root.digest.description, "size": root.size]
        if let annotations = inspection.indexAnnotations, !annotations.isEmpty { json["annotations"] = annotations }
        var manifestsJSON: [[String: Any]] = []
        var blocks: [String] = []
        for entry in inspection.entries {
            let (block, item) = render(entry, of: inspection)
            manifestsJSON.append(item)
            blocks.append(block)
        }
        if inspection.isIndex {
            json["manifests"] = manifestsJSON
            text += "\nManifests:\n" + blocks.joined(separator: "\n")
        } else {
            json.merge(manifestsJSON.first ?? [:]) { current, _ in current }
            text += blocks.first.map { "\n" + $0 } ?? ""
        }
        return (text, json)
    }

    private static func render(_ entry: ImageInspection.Entry, of inspection: ImageInspection) -> (String, [String: Any]) {
        let fetched = entry.descriptor
        var item: [String: Any] = ["digest": fetched.digest.description, "mediaType": fetched.mediaType, "size": fetched.size]
        var block = ""
        if inspection.isIndex { block += field("Name", inspection.reference.with(tag: nil, digest: fetched.digest).description, indent: "  ") }
        block += field("MediaType", fetched.mediaType, indent: "  ")
        if inspection.isIndex { block += field("Digest", fetched.digest.description, indent: "  ") }
        var platformText = entry.listed.platform?.description
        if let annotations = entry.listed.annotations, let kind = annotations["vnd.docker.reference.type"] {
            item["annotations"] = annotations
            platformText = (platformText.map { $0 + " " } ?? "") + "(\(kind))"
        }
        if entry.listed.isAttestationManifest {
            // Not a platform: BuildKit's attestation manifest for one of the images above.
            let subject = entry.listed.annotations?[AttestationAnnotation.referenceDigest] ?? "?"
            let target = inspection.entries.first { $0.listed.digest.description == subject }?.listed.platform?.description
            let types = (entry.manifest?.layers ?? []).compactMap { $0.annotations?[AttestationAnnotation.predicateType] }
            item["attestation"] = ["for": subject, "platform": target ?? "", "predicateTypes": types] as [String: Any]
            block += field("Attestation", "for \(subject)\(target.map { " (\($0))" } ?? "")", indent: "  ")
                + field("Predicates", types.joined(separator: ", "), indent: "  ") + field("Size", "\(fetched.size)", indent: "  ")
            return (block, item)
        }
        var details = ""
        if let manifest = entry.manifest {
            let layerBytes = manifest.layers.reduce(Int64(0)) { $0 + $1.size }
            item["layers"] = manifest.layers.count
            item["layersSize"] = layerBytes
            item["configDigest"] = manifest.config.digest.description
            details = field("Layers", "\(manifest.layers.count) (\(Console.bytes(layerBytes)))", indent: "  ")
            if let config = entry.config {
                platformText = platformText ?? config.platform.description
                let summary = configSummary(config)
                item["config"] = summary.json
                item["platform"] = config.platform.description
                details += summary.text
            } else {
                details += field("Config", "\(manifest.config.mediaType)", indent: "  ")
            }
        }
        block += field("Platform", platformText ?? "none", indent: "  ") + field("Size", "\(fetched.size)", indent: "  ") + details
        if let platform = entry.listed.platform { item["platform"] = platform.description }
        return (block, item)
    }

    private static func configSummary(_ config: ImageConfig) -> (text: String, json: [String: Any]) {
        var json: [String: Any] = ["architecture": config.architecture, "os": config.os]
        var text = ""
        if let variant = config.variant { json["variant"] = variant }
        if let created = config.created { json["created"] = created; text += field("Created", created, indent: "  ") }
        let c = config.config
        if let user = c?.user, !user.isEmpty { json["user"] = user; text += field("User", user, indent: "  ") }
        if let dir = c?.workingDir, !dir.isEmpty { json["workingDir"] = dir; text += field("WorkingDir", dir, indent: "  ") }
        if let entrypoint = c?.entrypoint { json["entrypoint"] = entrypoint; text += field("Entrypoint", jsonArray(entrypoint), indent: "  ") }
        if let cmd = c?.cmd { json["cmd"] = cmd; text += field("Cmd", jsonArray(cmd), indent: "  ") }
        if let env = c?.env, !env.isEmpty { json["env"] = env; text += field("Env", env.joined(separator: ", "), indent: "  ") }
        if let ports = c?.exposedPorts, !ports.isEmpty { json["exposedPorts"] = ports.keys.sorted(); text += field("Ports", ports.keys.sorted().joined(separator: ", "), indent: "  ") }
        if let labels = c?.labels, !labels.isEmpty {
            json["labels"] = labels
            text += field("Labels", labels.keys.sorted().map { "\($0)=\(labels[$0] ?? "")" }.joined(separator: ", "), indent: "  ")
        }
        return (text, json)
    }

    private static func field(_ name: String, _ value: String, indent: String = "") -> String {
        let label = name + ":"
        return indent + label + String(repeating: " ", count: max(1, 12 - label.count)) + value + "\n"
    }

    private static func jsonArray(_ items: [String]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: items, options: [.withoutEscapingSlashes]) else { return items.joined(separator: " ") }
        return String(decoding: data, as: UTF8.self)
    }
}
