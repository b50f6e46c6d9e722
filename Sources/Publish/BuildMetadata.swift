import Builder
import Foundation
import OCI
import Registry

/// The `--metadata-file` JSON: buildx's keys (`containerimage.digest`,
/// `containerimage.descriptor`, `containerimage.config.digest`, `image.name`) plus a
/// per-platform list, so a release job can record every digest it built.
public enum BuildMetadata {
    struct PlatformEntry: Encodable {
        var platform: String
        var manifest: Digest
        var config: Digest
    }

    struct Document: Encodable {
        var digest: Digest
        var descriptor: Descriptor
        var configDigest: Digest?
        var imageName: String?
        var platforms: [PlatformEntry]

        enum CodingKeys: String, CodingKey {
            case digest = "containerimage.digest"
            case descriptor = "containerimage.descriptor"
            case configDigest = "containerimage.config.digest"
            case imageName = "image.name"
            case platforms = "slipway.platforms"
        }
    }

    public static func json(_ result: BuildResult, tags: [String]) throws -> Data {
        let document = Document(
            digest: result.root.digest, descriptor: result.root,
            configDigest: result.images.count == 1 ? result.images.first?.config.digest : nil,
            imageName: tags.isEmpty ? nil : tags.joined(separator: ","),
            platforms: result.images.map { PlatformEntry(platform: $0.platform.description, manifest: $0.manifest.digest, config: $0.config.digest) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(document)
    }
}

/// `--metadata-file` for pushes: buildx's `image.name` and `containerimage.digest`.
public enum PushMetadata {
    public static func json(_ pushed: [PushedReference], root: Descriptor) throws -> Data {
        let document: [String: Any] = [
            "image.name": pushed.map { $0.reference.description }.joined(separator: ","),
            "containerimage.digest": root.digest.description,
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }
}

/// Writes a small result file (`--iidfile`, `--metadata-file`) whole or not at all.
func writeAtomically(_ path: String, _ data: Data) throws {
    do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw PublishError.failed("cannot write \(path): \(error.localizedDescription)")
    }
}
