import Foundation
import OCI
import Layers
import Builder

/// A finished in-process build, read back from its content store the way a consumer would:
/// configs and manifests decoded from their blobs, layers unpacked with libarchive.
public struct BuiltImage: Sendable {
    public let result: BuildResult
    /// Keeps the store (and the files unpacked from it) alive as long as the image.
    let fixture: BuildFixture

    public var store: ContentStore { result.store }

    /// The config of the `image`th platform image (in the order of the request's platforms).
    public func config(_ image: Int = 0) throws -> ImageConfig {
        try CanonicalJSON.decode(ImageConfig.self, from: store.read(result.images[image].config.digest), what: "config")
    }

    /// The container config (`config.config`) of an image; empty when the config has none.
    public func container(_ image: Int = 0) throws -> ContainerConfig { try config(image).config ?? ContainerConfig() }

    public func manifest(_ image: Int = 0) throws -> Manifest {
        try CanonicalJSON.decode(Manifest.self, from: store.read(result.images[image].manifest.digest), what: "manifest")
    }

    /// The entries of one layer blob, as libarchive reads them (files unpacked to scratch).
    public func layer(_ index: Int, of image: Int = 0) throws -> [LayerEntry] {
        let blob = store.blobURL(result.images[image].layers[index].digest).path
        let scratch = try fixture.directory.makeSubdirectory("unpacked")
        return try ArchiveExtractor.extract(blob, into: scratch, maxBytes: 1 << 30)
    }

    /// The image's file system: every layer applied in order, by path (a later entry wins).
    public func files(_ image: Int = 0) throws -> [String: LayerEntry] {
        var files: [String: LayerEntry] = [:]
        for index in result.images[image].layers.indices {
            for entry in try layer(index, of: image) { files[entry.path] = entry }
        }
        return files
    }

    /// The text of a regular file of the image's file system; nil when there is none.
    public func text(_ path: String, image: Int = 0) throws -> String? {
        guard let entry = try files(image)[path] else { return nil }
        return try Self.text(of: entry)
    }

    /// The text of a regular file entry; nil for anything else.
    public static func text(of entry: LayerEntry) throws -> String? {
        switch entry.kind {
        case .regularFile(.path(let file)): return try String(contentsOfFile: file, encoding: .utf8)
        case .regularFile(.bytes(let bytes)): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }
}
