import Foundation
import Layers
import OCI

/// Turns finished stages into OCI content: a config and manifest per platform and, for
/// several platforms, an index over them, with OCI or Docker media types (`mediaTypes`; base
/// layers' types are converted too, as BuildKit does). All JSON is canonical, so equal inputs
/// give equal digests.
enum Assembler {
    struct Annotations {
        var index: [String: String] = [:]
        var manifest: [String: String] = [:]
        var perPlatform: [String: [String: String]] = [:]

        /// buildx's `--annotation` syntax: `[index:|manifest:|manifest[os/arch]:]KEY=VALUE`.
        init(_ raw: [String: String]) throws {
            for (key, value) in raw {
                if key.hasPrefix("index:") {
                    index[String(key.dropFirst(6))] = value
                } else if key.hasPrefix("manifest:") {
                    manifest[String(key.dropFirst(9))] = value
                } else if key.hasPrefix("manifest["), let close = key.firstIndex(of: "]") {
                    let platformText = String(key[key.index(key.startIndex, offsetBy: 9)..<close])
                    let platform = try Platform(parsing: platformText)
                    let rest = key[key.index(after: close)...]
                    guard rest.hasPrefix(":") else { throw BuildError("invalid --annotation '\(key)': expected manifest[os/arch]:KEY=VALUE") }
                    perPlatform[platform.description, default: [:]][String(rest.dropFirst())] = value
                } else if key.contains(":") && (key.hasPrefix("index-descriptor:") || key.hasPrefix("manifest-descriptor:")) {
                    throw BuildError("--annotation '\(key)': descriptor annotations are not supported; use index: or manifest:")
                } else {
                    manifest[key] = value
                }
            }
        }
    }

    /// BuildKit refuses index annotations with Docker media types (a manifest list has none);
    /// manifest annotations are written, as BuildKit writes them.
    static func checkDockerAnnotations(_ annotations: Annotations) throws {
        guard annotations.index.isEmpty else {
            throw BuildError("cannot export annotations with \"oci-mediatypes=false\": a Docker manifest list has no annotations; drop the index: annotations or oci-mediatypes=false")
        }
    }

    static func assemble(states: [(Platform, StageState)], blobs: [Int: LayerBlob], labels: [String: String],
                         annotations: Annotations, mediaTypes: MediaTypeFamily = .oci,
                         layerAnnotations: [Int: [String: String]] = [:],
                         store: ContentStore) throws -> (root: Descriptor, images: [BuildResult.PlatformImage]) {
        if mediaTypes == .docker { try checkDockerAnnotations(annotations) }
        var images: [BuildResult.PlatformImage] = []
        for (platform, state) in states {
            var config = state.config
            if !labels.isEmpty {
                var merged = config.config?.labels ?? [:]
                for (key, value) in labels { merged[key] = value }
                config.config = config.config ?? ContainerConfig()
                config.config?.labels = merged
            }
            var layers: [Descriptor] = []
            var diffIDs: [Digest] = []
            for layer in state.layers {
                switch layer {
                case .base(var descriptor, let diffID):
                    descriptor.mediaType = mediaTypes.layer(descriptor.mediaType)
                    layers.append(descriptor)
                    diffIDs.append(diffID)
                case .planned(let job):
                    guard let blob = blobs[job] else { throw BuildError("internal error: layer \(job) was not written") }
                    layers.append(Descriptor(mediaType: mediaTypes.layer(blob.mediaType), digest: blob.digest, size: blob.size,
                                             annotations: layerAnnotations[job]))
                    diffIDs.append(blob.diffID)
                }
            }
            config.rootfs = RootFS(diffIDs: diffIDs)
            let configDescriptor = try store.putJSON(config, mediaType: mediaTypes.config)
            var manifestAnnotations = annotations.manifest
            for (key, value) in annotations.perPlatform[platform.description] ?? [:] { manifestAnnotations[key] = value }
            if let name = state.baseName, let digest = state.baseDigest {
                manifestAnnotations[AnnotationKey.baseName] = name
                manifestAnnotations[AnnotationKey.baseDigest] = digest.description
            }
            var manifest = Manifest(config: configDescriptor, layers: layers,
                                    annotations: manifestAnnotations.isEmpty ? nil : manifestAnnotations)
            manifest.mediaType = mediaTypes.manifest
            var manifestDescriptor = try store.putJSON(manifest, mediaType: mediaTypes.manifest)
            manifestDescriptor.platform = config.platform
            images.append(BuildResult.PlatformImage(platform: platform, manifest: manifestDescriptor,
                                                    config: configDescriptor, layers: layers, tree: state.tree))
        }
        if images.count == 1, let only = images.first {
            var root = only.manifest
            root.platform = nil
            return (root, images)
        }
        var index = Index(manifests: images.map(\.manifest), annotations: annotations.index.isEmpty ? nil : annotations.index)
        index.mediaType = mediaTypes.index
        return (try store.putJSON(index, mediaType: mediaTypes.index), images)
    }
}
