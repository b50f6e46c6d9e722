import COpenSSL
import Foundation
import OCI

/// What a platform's build consumed from outside the context, for provenance `materials`:
/// every image (FROM, `COPY --from`, named image contexts) by manifest digest and every
/// `ADD` URL with the SHA-256 of what was downloaded.
struct BuildMaterials: Sendable {
    struct Image: Sendable, Hashable {
        /// The normalised registry reference, or the `--build-context` name of an OCI layout.
        var name: String
        var digest: Digest
        var fromLayout: Bool
    }

    var images: [Image] = []
    /// URL → the downloaded file (in the build's scratch directory until the build ends).
    var downloads: [(url: String, file: String)] = []

    mutating func add(_ image: Image) {
        if !images.contains(image) { images.append(image) }
    }

    mutating func addDownload(_ url: String, file: String) {
        if !downloads.contains(where: { $0.url == url && $0.file == file }) { downloads.append((url, file)) }
    }

    /// `{uri, digest}` entries in a stable order (images, then URLs, each sorted).
    func entries(platform: Platform) throws -> [JSONValue] {
        var result: [JSONValue] = []
        for image in images.sorted(by: { ($0.name, $0.digest.description) < ($1.name, $1.digest.description) }) {
            let uri = image.fromLayout ? "oci-layout://\(image.name)" : PackageURL.docker(image.name, platform: platform)
            result.append(.object(["uri": .string(uri), "digest": .strings([image.digest.algorithm.rawValue: image.digest.hex])]))
        }
        var seen: Set<String> = []
        for download in downloads.sorted(by: { $0.url < $1.url }) {
            let hex = try Self.sha256(ofFile: download.file)
            guard seen.insert(download.url + hex).inserted else { continue }
            result.append(.object(["uri": .string(download.url), "digest": .strings(["sha256": hex])]))
        }
        return result
    }

    static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BuildError("cannot read \(path) to record its checksum") }
        defer { try? handle.close() }
        let hasher = SHA256Hasher()
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finalize().hex
    }
}

extension BaseImage {
    /// How provenance names this image: registry images by reference, layouts by context name.
    var material: BuildMaterials.Image {
        BuildMaterials.Image(name: name, digest: manifestDigest, fromLayout: source == nil)
    }
}
