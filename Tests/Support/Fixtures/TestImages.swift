import Foundation
import OCI

/// Builds small real images in a temporary content store: gzip'd tar layers made with `tar`
/// and `gzip -n`, configs and manifests through CanonicalJSON.
public struct TestImages {
    public let store: ContentStore
    private let directory: TemporaryDirectory
    /// Removed with the value.
    public var root: URL { directory.url }

    public init() throws {
        directory = try TemporaryDirectory(prefix: "slipway-images")
        store = try ContentStore(root: directory.url("store"))
    }

    /// A layer holding one file of `size` bytes (random when `random`, else repeated text).
    public func layer(named name: String, size: Int, random: Bool = false) throws -> (descriptor: Descriptor, diffID: Digest) {
        let work = root.appendingPathComponent("work-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("content"), withIntermediateDirectories: true)
        var bytes = Data(count: size)
        if random {
            bytes.withUnsafeMutableBytes { raw in
                var generator = SystemRandomNumberGenerator()
                let words = raw.bindMemory(to: UInt64.self)
                for i in 0..<words.count { words[i] = generator.next() }
            }
        } else {
            let text = Array("slipway \(name)\n".utf8)
            for i in 0..<size { bytes[i] = text[i % text.count] }
        }
        try bytes.write(to: work.appendingPathComponent("content/\(name)"))
        let tar = work.appendingPathComponent("layer.tar")
        try run("/bin/tar", ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-cf", tar.path, "-C", work.appendingPathComponent("content").path, "."])
        let diffID = try digest(of: tar)
        try run("/bin/gzip", ["-n", "-f", tar.path])
        let gz = URL(fileURLWithPath: tar.path + ".gz")
        let digest = try digest(of: gz)
        let size = try FileManager.default.attributesOfItem(atPath: gz.path)[.size] as! NSNumber
        let ingest = store.makeIngestURL()
        try FileManager.default.moveItem(at: gz, to: ingest)
        try store.commit(ingest: ingest, as: digest)
        try? FileManager.default.removeItem(at: work)
        return (Descriptor(mediaType: MediaType.layerGzip, digest: digest, size: size.int64Value), diffID)
    }

    public func manifest(platform: Platform, layers: [(descriptor: Descriptor, diffID: Digest)]) throws -> Descriptor {
        var config = ImageConfig(platform: platform)
        config.rootfs = RootFS(diffIDs: layers.map(\.diffID))
        config.config?.cmd = ["/bin/sh"]
        let configDescriptor = try store.putJSON(config, mediaType: MediaType.imageConfig)
        var descriptor = try store.putJSON(Manifest(config: configDescriptor, layers: layers.map(\.descriptor)), mediaType: MediaType.imageManifest)
        descriptor.platform = platform
        return descriptor
    }

    public func index(_ manifests: [Descriptor]) throws -> Descriptor {
        try store.putJSON(Index(manifests: manifests), mediaType: MediaType.imageIndex)
    }

    private func digest(of url: URL) throws -> Digest {
        // Test files are a few MiB at most.
        Digest.sha256(of: try Data(contentsOf: url))
    }

    private func run(_ tool: String, _ arguments: [String]) throws {
        let result = try Run.command(tool, arguments)
        guard result.status == 0 else { throw TestError("\(tool) \(arguments) failed: \(result.stderr)") }
    }
}
